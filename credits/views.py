"""The learner's credits and compliance, entries with evidence, and the three review queues."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cme_portal.accounts.selectors import contact_for, profile_of
from cme_portal.errors import DomainError
from cme_portal.review.views import take_action
from cme_portal.review.workflow import perform, timeline

from . import compliance, selectors, services
from .forms import ActivityForm, CorrectionForm
from .models import CORRECTION_WORKFLOW, CREDIT_ENTRY_WORKFLOW, EntryState
from .rules import EVIDENCE


@login_required
def my_credits(request):
    """W6 for the learner: progress bars for the year, the five-year rule, the ledger, the entries."""
    today = date.today()
    year = compliance.sane_year(request.GET.get("year"), today.year)
    profile = profile_of(request.user)
    progress = compliance.own_progress(request.user, year)
    records = selectors.ledger(request.user).filter(year=year)
    return render(
        request,
        "credits/my_credits.html",
        {
            "year": year,
            "years": range(today.year, today.year - 6, -1),
            "progress": progress,
            "records": records,
            "entries": selectors.my_entries(request.user),
            "corrections": selectors.my_corrections(request.user),
            "profile": profile,
        },
    )


@login_required
def entry_new(request):
    form = ActivityForm(request.POST or None, request.FILES or None, categories=selectors.entry_categories(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.enter_credit(request.user, evidence=form.cleaned_data["evidence"], **form.activity_data())
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(request, _("学分已录入并上报单位科教科审核。"))
            return redirect("credits:entry_detail", entry.pk)
    evidence = {c: EVIDENCE[c] for c in selectors.entry_categories(request.user)}
    return render(request, "credits/entry_form.html", {"form": form, "evidence": evidence, **_help(request, form)})


def _help(request, form):
    """A refused entry (a rule said no, or a field is wrong) shows who can help: the learner's own unit."""
    return {"help_contact": contact_for(learner=request.user) if form.errors else None}


@login_required
def entry_edit(request, pk):
    entry = selectors.get_entry(request.user, pk, own=True)
    if entry.state != EntryState.RETURNED:
        raise Http404
    form = ActivityForm(
        request.POST or None,
        request.FILES or None,
        instance=entry,
        require_evidence=False,
        categories=selectors.entry_categories(request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.correct_entry(
                selectors.get_entry(request.user, pk, own=True),
                request.user,
                evidence=form.cleaned_data["evidence"] or None,
                **form.activity_data(),
            )
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(request, _("已修改并重新上报。"))
            return redirect("credits:entry_detail", pk)
    return render(
        request, "credits/entry_form.html", {"form": form, "entry": entry, "evidence": EVIDENCE, **_help(request, form)}
    )


@login_required
def entry_detail(request, pk):
    entry = selectors.get_entry(request.user, pk)
    return render(
        request,
        "credits/entry_detail.html",
        {
            "entry": entry,
            "actions": CREDIT_ENTRY_WORKFLOW.available(entry, request.user),
            "timeline": timeline(entry),
            "is_owner": entry.learner_id == request.user.pk,
        },
    )


@login_required
def evidence(request, public_id):
    entry = selectors.get_evidence(request.user, public_id)
    filename = f"evidence-{entry.public_id.hex[:12]}.pdf"
    return FileResponse(entry.evidence.open("rb"), filename=filename, content_type="application/pdf")


@require_POST
@login_required
def entry_action(request, pk):
    entry = selectors.get_entry(request.user, pk)

    def submit(action, reason):
        if action != "withdraw":
            raise DomainError(_("请在修改页面重新上报。"), code="use_edit")
        services.withdraw_entry(entry, request.user, reason)

    return take_action(
        request,
        entry,
        submit=submit,
        review=lambda action, reason: CREDIT_ENTRY_WORKFLOW.review(entry, request.user, action, reason),
        back_to=entry.get_absolute_url(),
        next_prefix="/credits/",
    )


# --- corrections (学分删除修改器) ---------------------------------------------------------------


@login_required
def correction_new(request, record_pk):
    """Ask the province to correct or cancel a credit the ledger holds (the learner's own, or a unit's learner's)."""
    record = selectors.get_correctable_record(request.user, record_pk)
    form = CorrectionForm(request.POST or None, initial={"credits": record.credits, "hours": record.hours})
    if request.method == "POST" and form.is_valid():
        try:
            correction = services.request_correction(record, request.user, **form.cleaned_data)
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(request, _("更正申请已提交省继教办审核；审核通过后原学分冲正，更正后的学分生效。"))
            return redirect(correction)
    return render(request, "credits/correction_form.html", {"form": form, "record": record})


@login_required
def correction_detail(request, pk):
    correction = selectors.get_correction(request.user, pk)
    return render(
        request,
        "credits/correction_detail.html",
        {
            "correction": correction,
            "actions": CORRECTION_WORKFLOW.available(correction, request.user),
            "timeline": timeline(correction),
        },
    )


@require_POST
@login_required
def correction_action(request, pk):
    correction = selectors.get_correction(request.user, pk)
    return take_action(
        request,
        correction,
        submit=lambda action, reason: perform(CORRECTION_WORKFLOW, correction, action, request.user, reason),
        review=lambda action, reason: CORRECTION_WORKFLOW.review(correction, request.user, action, reason),
        back_to=correction.get_absolute_url(),
        next_prefix="/credits/",
    )
