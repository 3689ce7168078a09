"""Pages of unit, city and province admins: batch entry, early review, platform
imports, requirement rules, and the compliance report."""

from datetime import date

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from cme_portal.accounts.models import Role
from cme_portal.accounts.permissions import role_required
from cme_portal.audit.services import record_event
from cme_portal.errors import DomainError
from cme_portal.exports import XLSX, download
from cme_portal.pagination import paginate
from cme_portal.queueing import enqueue
from projects.selectors import remote_filed_as_of

from . import batch, compliance, jobs, letters, rules, selectors, services
from .forms import DeadlineForm, EarlyReviewForm, PlatformForm, PlatformImportForm, PolicyForm, RuleForm
from .platforms import import_platform_file
from .rules import EVIDENCE
from .tasks import run_background_job


@role_required(Role.UNIT_ADMIN)
def batch_new(request):
    """Seed 003 单位统一录入: one activity for many learners, ticked or listed in a sheet."""
    form = batch.batch_form(request.user, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        sheet = form.cleaned_data.get("sheet")
        if sheet and jobs.count_rows(sheet) > jobs.INLINE_ROWS:
            # A sheet of thousands is entered by a worker (issue 12), with the same all-or-nothing checks.
            job = jobs.request_batch_entry(request.user, request.POST, request.FILES)
            enqueue(run_background_job, job.pk)
            return redirect("credits:job_status", job.public_id)
        entries = batch.enter_batch(request.user, form)
        if entries is not None:
            messages.success(request, _("已为 %(count)s 名学员录入学分并上报地市审核。") % {"count": len(entries)})
            return redirect("credits:queue", "unit")
    return render(
        request,
        "credits/batch_form.html",
        {
            "form": form,
            "evidence": EVIDENCE,
            "co_organised": selectors.co_organised_projects(request.user),
            "as_of": remote_filed_as_of(),
        },
    )


@role_required(Role.UNIT_ADMIN)
def early_review(request):
    """Seed 003: this year's promotion candidates, named by the unit before the province's deadline."""
    allowed = selectors.unit_learners(request.user)
    unit = request.user.scope_nodes(Role.UNIT_ADMIN).first()
    policy = rules.policy_for(compliance.province_of(unit))
    form = EarlyReviewForm(request.POST or None, learner_queryset=allowed, titles=policy.titles())
    if request.method == "POST" and form.is_valid():
        try:
            early = services.request_early_review(request.user, **form.cleaned_data)
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(
                request,
                _("已申请提前审核，截止 %(date)s 前相关学分在各级审核中优先显示。请打印申请函，加盖单位公章后报送。")
                % {"date": early.deadline},
            )
            return redirect("credits:early_review")
    requests_ = selectors.early_reviews(request.user)
    return render(
        request,
        "credits/early_review.html",
        {
            "form": form,
            "policy": policy,
            "open": policy.early_review_deadline is not None and policy.early_review_deadline >= date.today(),
            "requests": paginate(request, requests_, 20),
            "today": date.today(),
        },
    )


@role_required(Role.UNIT_ADMIN)
def early_review_letter(request, pk):
    """The application letter of seed 003 (关于提前审核学分的申请) as a PDF, ready to stamp."""
    early = selectors.get_early_review(request.user, pk)
    response = HttpResponse(letters.early_review_letter(early), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="early-review-{early.pk}.pdf"'
    return response


@role_required(Role.PROVINCE_ADMIN)
def platform_import(request):
    form = PlatformImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid() and jobs.count_rows(form.cleaned_data["file"]) > jobs.INLINE_ROWS:
        # A large file is kept and imported by a worker (issue 12); its page reports the same way.
        try:
            job = jobs.request_platform_import(request.user, form.cleaned_data["file"], form.cleaned_data["platform"])
        except DomainError as error:
            error.add_to(form)
        else:
            enqueue(run_background_job, job.pk)
            return redirect("credits:job_status", job.public_id)
    elif request.method == "POST" and form.is_valid():
        report = import_platform_file(form.cleaned_data["file"], form.cleaned_data["platform"].name, request.user)
        record_event(
            form.cleaned_data["platform"],
            "platform_imported",
            actor=request.user,
            file=form.cleaned_data["file"].name[:100],
            imported=report.imported,
            refused=len(report.refused),
        )
    return render(request, "credits/platform_import.html", {"form": form, "report": report})


@role_required(Role.PROVINCE_ADMIN)
def requirement_rules(request):
    year = compliance.sane_year(request.GET.get("year"), date.today().year)
    province = request.user.scope_nodes(Role.PROVINCE_ADMIN).first()
    rules = compliance.rules_for(province, year)
    forms = {category: RuleForm(request.POST or None, instance=rule, prefix=category) for category, rule in rules.items()}
    if request.method == "POST":
        if all(form.is_valid() for form in forms.values()):
            for form in forms.values():
                form.save()
            messages.success(request, _("%(year)s 年度达标规则已保存。") % {"year": year})
            return redirect(f"{request.path}?year={year}")
    return render(request, "credits/rules.html", {"forms": forms, "year": year, "rules": rules})


@role_required(Role.PROVINCE_ADMIN)
def entry_policy(request):
    """The province's window for entered credits (earliest year, yearly deadlines) and its platform catalogue."""
    province = request.user.scope_nodes(Role.PROVINCE_ADMIN).first()
    policy = rules.policy_for(province)
    which = request.POST.get("form", "")
    policy_form = PolicyForm(request.POST if which == "policy" else None, instance=policy, prefix="policy")
    deadline_form = DeadlineForm(request.POST if which == "deadline" else None, prefix="deadline")
    platform_form = PlatformForm(request.POST if which == "platform" else None, prefix="platform")
    if request.method == "POST":
        if which == "policy" and policy_form.is_valid():
            services.save_policy(province, request.user, **policy_form.cleaned_data)
            messages.success(request, _("学分录入规则已保存。"))
            return redirect("credits:entry_policy")
        if which == "deadline" and deadline_form.is_valid():
            services.set_deadline(province, request.user, **deadline_form.cleaned_data)
            messages.success(request, _("录入截止日期已保存。"))
            return redirect("credits:entry_policy")
        if which == "toggle":
            platform = selectors.get_platform(request.POST.get("platform", ""))
            services.set_platform_active(platform, request.user, active=request.POST.get("active") == "1")
            messages.success(request, _("平台“%(name)s”已更新。") % {"name": platform.name})
            return redirect("credits:entry_policy")
        if which == "platform" and platform_form.is_valid():
            services.save_platform(platform_form, request.user)
            messages.success(request, _("平台已保存。"))
            return redirect("credits:entry_policy")
    return render(
        request,
        "credits/entry_policy.html",
        {
            "policy_form": policy_form,
            "deadline_form": deadline_form,
            "platform_form": platform_form,
            "deadlines": selectors.entry_deadlines(province),
            "platforms": selectors.platforms(),
        },
    )


@role_required(*selectors.REPORT_ROLES)
def compliance_report(request, export=False):
    """W6 for admins: learners of the subtree with their sums and verdict, a chart by unit, Excel."""
    if export:
        # The Excel of a subtree is built by a worker (issue 12); a GET only leads back to the report.
        if request.method != "POST":
            return redirect(f"{reverse('credits:compliance_report')}?{request.GET.urlencode()}")
        job = jobs.request_compliance_export(request.user, request.GET)
        enqueue(run_background_job, job.pk)
        return redirect("credits:job_status", job.public_id)
    report = selectors.compliance_report(request.user, filters=request.GET)
    summary = report.summary()
    charted = selectors.chart_rows(summary)
    return render(
        request,
        "credits/compliance_report.html",
        {
            "form": report.form,
            "year": report.year,
            "node": report.node,
            "page_obj": paginate(request, report.rows(summary), 50),
            "summary": summary,
            "charted": charted,
            "chart": {"labels": [row.unit.name for row in charted], "rates": [row.rate for row in charted]},
            "totals": (sum(r.learners for r in summary), sum(r.compliant for r in summary)),
        },
    )


@role_required(*selectors.REPORT_ROLES)
def job_status(request, public_id):
    """The progress of one's own export or import (refreshes itself), then its download or its report."""
    job = jobs.get_job(request.user, public_id)
    return render(request, "credits/job_status.html", {"job": job, "result": job.result})


@role_required(*selectors.REPORT_ROLES)
def job_download(request, public_id):
    job = jobs.get_job(request.user, public_id)
    response = FileResponse(jobs.job_file(job).open("rb"), content_type=XLSX)
    return download(response, job.original_name or "export.xlsx")
