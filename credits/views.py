"""The learner's credits and compliance, entries with evidence, and the three review queues."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cme_portal.accounts.models import LearnerProfile, Role
from cme_portal.accounts.permissions import role_required
from cme_portal.errors import DomainError
from cme_portal.review.views import take_action
from cme_portal.review.workflow import timeline

from . import compliance, services
from .forms import ActivityForm, QueueFilterForm
from .models import CREDIT_ENTRY_WORKFLOW, CreditEntry, EarlyReviewRequest, EntryState
from .rules import EVIDENCE

PAGE_SIZE = 20
QUEUE_ROLES = {"unit": Role.UNIT_ADMIN, "city": Role.CITY_ADMIN, "province": Role.PROVINCE_ADMIN}


def _entries():
    early = EarlyReviewRequest.objects.filter(candidates=OuterRef("learner"), deadline__gte=date.today())
    return CreditEntry.objects.select_related("learner", "unit").annotate(early=Exists(early))


def _visible_entry(user, pk):
    entry = get_object_or_404(_entries(), pk=pk)
    if not CREDIT_ENTRY_WORKFLOW.can_view(entry, user):
        raise Http404
    return entry


@login_required
def my_credits(request):
    """W6 for the learner: progress bars for the year, the five-year rule, the ledger, the entries."""
    today = date.today()
    year = compliance.sane_year(request.GET.get("year"), today.year)
    profile = LearnerProfile.objects.filter(user=request.user).select_related("unit").first()
    progress = None
    if profile and profile.unit:
        rules = compliance.rules_for(compliance.province_of(profile.unit), year)
        progress = compliance.learner_progress(request.user, year, rules[profile.staff_category])
    records = services.ledger(request.user).filter(year=year)
    return render(request, "credits/my_credits.html", {
        "year": year, "years": range(today.year, today.year - 6, -1), "progress": progress, "records": records,
        "entries": _entries().filter(learner=request.user).order_by("-created_at")[:50], "profile": profile,
    })


@login_required
def entry_new(request):
    form = ActivityForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.enter_credit(request.user, evidence=form.cleaned_data["evidence"], **form.activity_data())
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(request, _("学分已录入并上报单位科教科审核。"))
            return redirect("credits:entry_detail", entry.pk)
    return render(request, "credits/entry_form.html", {"form": form, "evidence": EVIDENCE})


@login_required
def entry_edit(request, pk):
    entry = _visible_entry(request.user, pk)
    if entry.learner_id != request.user.pk or entry.state != EntryState.RETURNED:
        raise Http404
    form = ActivityForm(request.POST or None, request.FILES or None, instance=entry, require_evidence=False)
    if request.method == "POST" and form.is_valid():
        try:
            services.correct_entry(CreditEntry.objects.get(pk=pk), request.user,
                                   evidence=form.cleaned_data["evidence"] or None, **form.activity_data())
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(request, _("已修改并重新上报。"))
            return redirect("credits:entry_detail", pk)
    return render(request, "credits/entry_form.html", {"form": form, "entry": entry, "evidence": EVIDENCE})


@login_required
def entry_detail(request, pk):
    entry = _visible_entry(request.user, pk)
    return render(request, "credits/entry_detail.html", {
        "entry": entry, "actions": CREDIT_ENTRY_WORKFLOW.available(entry, request.user), "timeline": timeline(entry),
        "is_owner": entry.learner_id == request.user.pk,
    })


@login_required
def evidence(request, public_id):
    entry = get_object_or_404(CreditEntry.objects.select_related("unit"), public_id=public_id)
    if not CREDIT_ENTRY_WORKFLOW.can_view(entry, request.user):
        raise Http404
    filename = f"evidence-{entry.public_id.hex[:12]}.pdf"
    return FileResponse(entry.evidence.open("rb"), filename=filename, content_type="application/pdf")


@require_POST
@login_required
def entry_action(request, pk):
    entry = _visible_entry(request.user, pk)

    def submit():
        raise DomainError(_("请在修改页面重新上报。"), code="use_edit")

    return take_action(
        request, entry, submit=submit, review=lambda action, reason: services.review(entry, request.user, action, reason),
        back_to=entry.get_absolute_url(), next_prefix="/credits/",
    )


def queue(request, level):
    if level not in QUEUE_ROLES:
        raise Http404
    return role_required(QUEUE_ROLES[level])(_queue)(request, QUEUE_ROLES[level], level)


def _queue(request, role, level):
    """Entries waiting for this level; early-review candidates first until their deadline."""
    form = QueueFilterForm(request.GET or None)
    cleaned = form.cleaned_data if form.is_valid() else {}
    if cleaned.get("state"):
        queryset = CREDIT_ENTRY_WORKFLOW.visible(_entries(), request.user, role).filter(state=cleaned["state"])
    else:
        queryset = CREDIT_ENTRY_WORKFLOW.queue(_entries(), request.user, role)
    text = (cleaned.get("q") or "").strip()
    if text:
        queryset = queryset.filter(
            Q(learner__name__icontains=text) | Q(learner__id_number=text.upper()) | Q(activity_name__icontains=text)
            | Q(activity_number__icontains=text)
        )
    if cleaned.get("year"):
        queryset = queryset.filter(year=cleaned["year"])
    if cleaned.get("category"):
        queryset = queryset.filter(category=cleaned["category"])
    page = Paginator(queryset.order_by("-early", "state_changed_at", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page:
        entry.actions = CREDIT_ENTRY_WORKFLOW.available(entry, request.user)
    return render(request, "credits/queue.html", {
        "form": form, "page_obj": page, "level": level, "role": role,
        "waiting": CREDIT_ENTRY_WORKFLOW.queue(CreditEntry.objects, request.user, role).count(),
    })
