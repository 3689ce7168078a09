"""Credit operations: entries with evidence, batch entry, review, the award, corrections.

The ledger changes only here. Each function raises DomainError with a message
for the person in front of the screen.
"""

import logging

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cme_portal import punctuation
from cme_portal.accounts.models import LearnerProfile, Role, User
from cme_portal.accounts.validators import normalise_document_number
from cme_portal.errors import DomainError
from cme_portal.review.workflow import perform

from . import rules
from .compliance import province_of
from .evidence import merge_evidence
from .ledger import next_revisions
from .models import (
    CLOSED_ENTRY_STATES,
    CORRECTION_WORKFLOW,
    CREDIT_ENTRY_WORKFLOW,
    Category,
    CorrectionKind,
    CorrectionRequest,
    CreditEntry,
    CreditLevel,
    CreditPolicy,
    CreditRecord,
    EarlyReviewRequest,
    EntryDeadline,
    EntryState,
    RecordStatus,
    Source,
)
from .selectors import co_organised_project
from .signals import credits_awarded, credits_reversed

log = logging.getLogger("cme.credits")

ENTRY_FIELDS = (
    "category",
    "activity_name",
    "activity_number",
    "issuer",
    "credit_class",
    "credits",
    "hours",
    "start_date",
    "end_date",
    "certificate_date",
    "lecturer",
    "residency_years",
    "training_year",
    "annual_assessment_passed",
    "final_assessment_passed",
)
# Kept on the entry and checked by their own rules (seed 004): the activity's form, the evidence held, 人员编号.
SAVED_FIELDS = (*ENTRY_FIELDS, "mode", "evidence_items", "personnel_number")


def learner_unit(learner):
    profile = LearnerProfile.objects.filter(user=learner).select_related("unit").first()
    if profile is None or profile.unit is None:
        raise DomainError(_("请先在“个人信息”中从列表选择工作单位：学分由所在单位科教科初审。"), code="no_unit")
    return profile.unit


def _duplicate(learner, key, exclude_pk=None):
    if not key:
        return False
    entries = (
        CreditEntry.objects.filter(learner=learner, activity_key=key)
        .exclude(pk=exclude_pk)
        .exclude(state__in=CLOSED_ENTRY_STATES)
    )
    records = _held(CreditRecord.objects.filter(learner=learner, activity_key=key))
    return entries.exists() or records.exists()


def _duplicate_error(number, data=None):
    if data and data.get("category") == Category.RESIDENCY and not number:
        return DomainError(
            _("第 %(year)s 年的规培学分已有录入或学分记录：规培每个培训年度授分一次。") % {"year": data.get("training_year")},
            code="duplicate",
            field="training_year",
        )
    return DomainError(
        _("活动编号 %(number)s 已有学分记录或录入，同一活动不能重复录入。如需更正，请在原记录上修改。") % {"number": number},
        code="duplicate",
        field="activity_number",
    )


def _derive(unit, data, entering_unit=None):
    """The province's categories, the category's rule, its evidence, then the province's window; return the derived fields."""
    rules.check_category_handled(province_of(unit), data.get("category"))
    if data.get("category") != Category.RESIDENCY:
        # The training year belongs to residency training only: typed for another category, it is not kept.
        data.update(residency_years=None, training_year=None, annual_assessment_passed=False, final_assessment_passed=False)
    derived = rules.check_entry(**{k: data.get(k) for k in ENTRY_FIELDS if k != "activity_name"}, entering_unit=entering_unit)
    rules.check_evidence(data.get("category"), data.get("mode"), data.get("evidence_items"))
    rules.check_window(
        province_of(unit),
        year=derived.year,
        start_date=data["start_date"],
        end_date=data["end_date"],
        issuer=data.get("issuer"),
        certificate_date=data.get("certificate_date"),
    )
    return derived


def _checked(learner, data, exclude_pk=None, entering_unit=None):
    derived = _derive(learner_unit(learner), data, entering_unit=entering_unit)
    profile = LearnerProfile.objects.filter(user=learner).only("personnel_number").first()
    rules.check_personnel_number(data.get("personnel_number"), profile.personnel_number if profile else "")
    if _duplicate(learner, derived.activity_key, exclude_pk):
        raise _duplicate_error(data["activity_number"], data)
    return derived


def enter_credit(learner, *, evidence, entered_by=None, **data):
    """A learner's own entry (W5): check the category's rule, merge the evidence,
    save it and send it to the unit admin; return the entry."""
    unit = learner_unit(learner)
    derived = _checked(learner, data)
    merged, pages = merge_evidence(evidence)
    try:
        with transaction.atomic():
            entry = CreditEntry(
                learner=learner,
                entered_by=entered_by or learner,
                unit=unit,
                source=Source.OWN_ENTRY,
                level=derived.level,
                year=derived.year,
                activity_key=derived.activity_key,
                evidence_pages=pages,
                **{k: data.get(k) for k in SAVED_FIELDS if k in data},
            )
            entry.evidence.save("evidence.pdf", merged, save=False)
            entry.save()
            perform(CREDIT_ENTRY_WORKFLOW, entry, "submit", learner)
    except IntegrityError:
        raise _duplicate_error(data["activity_number"], data) from None
    return entry


def correct_entry(entry, learner, *, evidence=None, **data):
    """The learner corrects a returned entry and resubmits it; new evidence replaces the old.

    An entry a co-organiser reported for a remote-filed project stays that unit's: the learner may correct it.
    """
    reporter = entry.unit if entry.source == Source.UNIT_BATCH else None
    derived = _checked(learner, data, exclude_pk=entry.pk, entering_unit=reporter)
    merged = merge_evidence(evidence) if evidence else None
    with transaction.atomic():
        entry = CreditEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.learner_id != learner.pk or entry.state != EntryState.RETURNED:
            raise DomainError(_("只有被退回的学分录入可以修改。"), code="not_editable")
        for key in SAVED_FIELDS:
            if key in data:
                setattr(entry, key, data[key])
        entry.level, entry.year, entry.activity_key = derived.level, derived.year, derived.activity_key
        if merged:
            entry.evidence.save("evidence.pdf", merged[0], save=False)
            entry.evidence_pages = merged[1]
        entry.save()
        perform(CREDIT_ENTRY_WORKFLOW, entry, "resubmit", learner)
    return entry


def batch_enter(unit_admin, learners, *, evidence, **data):
    """Seed 003: a unit admin enters one activity for many learners of the unit.

    All or nothing: if any learner is outside the unit or already holds the
    activity, nothing is entered and DomainError names them.
    """
    unit_paths = unit_admin.role_paths(Role.UNIT_ADMIN)
    problems = []
    profiles = {p.user_id: p for p in LearnerProfile.objects.filter(user__in=learners).select_related("unit")}
    entering_unit = unit_admin.scope_nodes(Role.UNIT_ADMIN).first()
    derived = _derive(entering_unit, data, entering_unit=entering_unit)
    # Seed 004: the co-organiser of a remote-filed project reports every attendee, from whatever unit;
    # the entries are the reporting unit's, and pass its city and the province.
    reporter = co_organised_project(unit_admin, derived.activity_key) is not None
    for learner in learners:
        profile = profiles.get(learner.pk)
        if profile is None or profile.unit is None:
            problems.append(_("%(name)s 未填写工作单位") % {"name": learner.name})
        elif not reporter and not any(profile.unit.path.startswith(p) for p in unit_paths):
            problems.append(_("%(name)s 不是本单位学员") % {"name": learner.name})
        elif _duplicate(learner, derived.activity_key):
            problems.append(_("%(name)s 已有该活动的学分") % {"name": learner.name})
    if problems:
        raise DomainError(
            _("未录入任何学分：") + punctuation.mark("；").join(problems) + punctuation.mark("。"), code="batch_refused"
        )
    merged, pages = merge_evidence(evidence)
    content = merged.read()
    entries = []
    with transaction.atomic():
        for learner in learners:
            entry = CreditEntry(
                learner=learner,
                entered_by=unit_admin,
                unit=entering_unit if reporter else profiles[learner.pk].unit,
                source=Source.UNIT_BATCH,
                level=derived.level,
                year=derived.year,
                activity_key=derived.activity_key,
                evidence_pages=pages,
                **{k: data.get(k) for k in SAVED_FIELDS if k in data},
            )
            entry.evidence.save("evidence.pdf", ContentFile(content), save=False)
            entry.save()
            perform(CREDIT_ENTRY_WORKFLOW, entry, "batch_submit", unit_admin)
            entries.append(entry)
    log.info("batch_entered", extra={"actor_id": unit_admin.pk, "learners": len(entries), "category": data.get("category")})
    return entries


def _held(queryset):
    """Ledger rows that stand: effective and not reversed."""
    return queryset.filter(status=RecordStatus.EFFECTIVE, reversed_by__isnull=True)


def record_approved_entry(entry, event):
    """The effect of "province_approve" (declared on the workflow): the entry's credit enters the ledger.

    Raises DomainError (and so undoes the approval) when the learner already
    holds the activity, e.g. through a platform feed that arrived meanwhile.
    """
    if (
        entry.activity_key
        and _held(CreditRecord.objects.filter(learner_id=entry.learner_id, activity_key=entry.activity_key)).exists()
    ):
        raise DomainError(
            _("该学员已通过其他途径（项目授予或平台导入）获得此活动的学分，请退回并说明，不能重复计入。"), code="already_held"
        )
    months = rules.months_between(entry.start_date, entry.end_date) if entry.category == Category.ADVANCED_STUDY else 0
    CreditRecord.objects.create(
        revision=next_revisions([entry.learner_id], entry.activity_key)[entry.learner_id],
        learner_id=entry.learner_id,
        year=entry.year,
        credit_class=entry.credit_class,
        level=entry.level,
        category=entry.category,
        credits=entry.credits,
        hours=entry.hours,
        source=entry.source,
        activity_number=entry.activity_number,
        activity_key=entry.activity_key,
        activity_name=entry.activity_name,
        issuer=entry.issuer,
        start_date=entry.start_date,
        end_date=entry.end_date,
        months=months,
        entry=entry,
        created_by=event.actor,
    )


# --- the ledger ------------------------------------------------------------------


def award(session, learners, awarded_by=None):
    """Give each learner the session's credits (an approved roster, W4); return the new records.

    Running it twice changes nothing: a learner who already holds the session's
    (or the same project's) credit is skipped, and the database refuses a
    second award for the same session.
    """
    project = session.project
    level = {
        "national": CreditLevel.NATIONAL,
        "provincial": CreditLevel.PROVINCIAL,
        "city": CreditLevel.CITY,
        "district": CreditLevel.DISTRICT,
    }[project.level]
    ids = [learner.pk if hasattr(learner, "pk") else learner for learner in learners]
    held = set(
        _held(CreditRecord.objects.filter(learner_id__in=ids))
        .filter(Q(session=session) | Q(activity_key=project.number_key))
        .values_list("learner_id", flat=True)
    )
    created = []
    revisions = next_revisions(ids, project.number_key, session.pk)
    with transaction.atomic():
        for learner_id in ids:
            if learner_id in held:
                continue
            try:
                with transaction.atomic():
                    created.append(
                        CreditRecord.objects.create(
                            revision=revisions[learner_id],
                            learner_id=learner_id,
                            year=session.end_date.year,
                            credit_class=project.credit_class,
                            level=level,
                            category=Category.PROJECT_AWARD,
                            credits=session.credits,
                            hours=session.hours,
                            source=Source.PROJECT_AWARD,
                            activity_number=project.number,
                            activity_key=project.number_key,
                            activity_name=project.name,
                            issuer=session.unit.name if session.unit_id else project.sponsor,
                            start_date=session.start_date,
                            end_date=session.end_date,
                            session=session,
                            created_by=awarded_by,
                        )
                    )
            except IntegrityError:
                continue  # awarded concurrently: the constraint kept it to one
        if created:
            # Certificates (a higher app) listen; they queue their work after this commits.
            credits_awarded.send(sender=CreditRecord, record_ids=[record.pk for record in created])
            log.info(
                "awarded", extra={"session_id": session.pk, "records": len(created), "actor_id": getattr(awarded_by, "pk", None)}
            )
    return created


@transaction.atomic
def correct_record(record, corrected_by, note, **changes):
    """Correct an effective ledger row: a reversing row cancels it, a new revision replaces it.

    ``changes`` may set credits, hours, credit_class, level or year. Returns
    (reversal, replacement). Raises DomainError if the row was already reversed.
    """
    record = CreditRecord.objects.select_for_update().get(pk=record.pk)
    if record.status != RecordStatus.EFFECTIVE or hasattr(record, "reversed_by"):
        raise DomainError(_("该学分记录已被冲正，请更正最新的记录。"), code="already_reversed")
    if not (note or "").strip():
        raise DomainError(_("请写明更正原因。"), code="reason_required", field="note")
    fields = {
        f.name: getattr(record, f.name)
        for f in CreditRecord._meta.concrete_fields
        if f.name not in ("id", "created_at", "status", "reverses", "platform_record", "note", "created_by")
    }
    reversal = CreditRecord.objects.create(
        **{**fields, "credits": -record.credits, "hours": -record.hours, "months": -record.months},
        status=RecordStatus.REVERSAL,
        reverses=record,
        created_by=corrected_by,
        note=note,
    )
    log.info("ledger_corrected", extra={"object_id": record.pk, "actor_id": corrected_by.pk, "changes": sorted(changes)})
    replacement = None
    if changes:
        revision = next_revisions([record.learner_id], record.activity_key, record.session_id)[record.learner_id]
        replacement = CreditRecord.objects.create(
            **{**fields, **changes, "revision": revision},
            created_by=corrected_by,
            note=note,
        )
    # Certificates (a higher app) listen: a corrected award is drawn anew (unless its certificate had been
    # revoked before: a correction never brings one back), then the old award's certificate is revoked.
    if replacement is not None and replacement.session_id:
        credits_awarded.send(sender=CreditRecord, record_ids=[replacement.pk], replaces=[record.pk])
    credits_reversed.send(sender=CreditRecord, record_ids=[record.pk], reason=note, actor_id=corrected_by.pk)
    return reversal, replacement


# --- withdrawals and corrections (学分删除修改器, seed 004) ------------------------------------


def withdraw_entry(entry, user, reason=""):
    """The learner withdraws an entry not yet approved, or the unit admin does it for its learner with a reason.

    The entry stays in the history as withdrawn and no longer blocks entering the activity again.
    """
    action = "withdraw" if entry.learner_id == user.pk else "unit_withdraw"
    return perform(CREDIT_ENTRY_WORKFLOW, entry, action, user, reason)


def request_correction(record, user, *, kind, reason, credits=None, hours=None, credit_class="", year=None):
    """Ask the province to correct or cancel a credit the ledger holds; return the CorrectionRequest (submitted).

    The learner asks for their own credits, a unit admin for its learners'. Raises DomainError when the
    row no longer stands, a request for it is already open, nothing would change, or a value is out of range.
    """
    reason = (reason or "").strip()
    if record.learner_id != user.pk:
        unit = learner_unit(record.learner)
        if not user.in_scope(Role.UNIT_ADMIN, unit.path):
            raise DomainError(_("只能为本人或本单位学员申请更正学分。"), code="forbidden")
    if record.status != RecordStatus.EFFECTIVE or _held(CreditRecord.objects.filter(pk=record.pk)).count() == 0:
        raise DomainError(_("该学分记录已被冲正，请对最新的记录申请更正。"), code="already_reversed")
    if not reason:
        raise DomainError(_("请写明更正或撤销的原因。"), code="reason_required", field="reason")
    changes = {"credits": credits, "hours": hours, "credit_class": credit_class or "", "year": year}
    if kind == CorrectionKind.CORRECT:
        if credits is not None and not (0 < credits <= rules.FULL_YEAR):
            raise DomainError(_("学分应大于 0，且不超过 25 分。"), code="credits", field="credits")
        if hours is not None and hours < 0:
            raise DomainError(_("学时不能为负数。"), code="hours", field="hours")
        current = {"credits": record.credits, "hours": record.hours, "credit_class": record.credit_class, "year": record.year}
        if all(value in (None, "") or value == current[key] for key, value in changes.items()):
            raise DomainError(_("请填写要更正的学分、学时、类别或年度（与原记录不同）。"), code="no_change", field="credits")
    else:
        changes = {"credits": None, "hours": None, "credit_class": "", "year": None}
    try:
        with transaction.atomic():
            request = CorrectionRequest.objects.create(
                record=record,
                learner_id=record.learner_id,
                unit=learner_unit(record.learner),
                requested_by=user,
                kind=kind,
                reason=reason[:300],
                **changes,
            )
            perform(CORRECTION_WORKFLOW, request, "submit", user)
    except IntegrityError:
        raise DomainError(_("该学分已有一份待审核的更正申请，请等待省继教办处理。"), code="open_request") from None
    return request


def apply_correction(request, event):
    """The effect of the province's approval (declared on CORRECTION_WORKFLOW): reversal plus new revision.

    A cancelled credit that came from an entry closes the entry too (its own event), so the learner may
    enter the activity again.
    """
    correct_record(request.record, event.actor, request.reason, **request.changes())
    if request.kind == CorrectionKind.CANCEL and request.record.entry_id:
        entry = CreditEntry.objects.get(pk=request.record.entry_id)
        if entry.state == EntryState.APPROVED:
            perform(CREDIT_ENTRY_WORKFLOW, entry, "cancel", event.actor, request.reason)


@transaction.atomic
def request_early_review(unit_admin, *, candidates, title, reason=""):
    """Seed 003: the unit names this year's promotion candidates (with the title they apply for) whose entries
    are reviewed first until the province's deadline; return the request.

    Raises DomainError when the province has not opened early review, its deadline has passed, the title is
    not one the province accepts, or a candidate is not of the unit.
    """
    unit = unit_admin.scope_nodes(Role.UNIT_ADMIN).first()
    policy = rules.policy_for(province_of(unit))
    today = timezone.localdate()
    if policy.early_review_deadline is None:
        raise DomainError(_("省继教办尚未开放本年度的提前审核。"), code="early_review_closed")
    if today > policy.early_review_deadline:
        raise DomainError(
            _("本年度提前审核申请已于 %(date)s 截止。") % {"date": policy.early_review_deadline.isoformat()},
            code="early_review_closed",
        )
    if title not in policy.titles():
        raise DomainError(
            _("提前审核仅限申报%(titles)s职称的人员。") % {"titles": punctuation.mark("、").join(policy.titles())},
            code="title",
            field="title",
        )
    units = dict(LearnerProfile.objects.filter(user__in=candidates).values_list("user_id", "unit__path"))
    outside = [p.name for p in candidates if not unit_admin.in_scope(Role.UNIT_ADMIN, units.get(p.pk) or "")]
    if outside:
        raise DomainError(
            _("%(names)s 不是本单位学员。") % {"names": punctuation.mark("、").join(outside)},
            code="not_of_unit",
            field="candidates",
        )
    early = EarlyReviewRequest.objects.create(
        unit=unit,
        requested_by=unit_admin,
        title=title,
        reason=reason or _("因晋升%(title)s职称需要，申请提前审核学分") % {"title": title},
        deadline=policy.early_review_deadline,
    )
    early.candidates.set(candidates)
    log.info("early_review_requested", extra={"actor_id": unit_admin.pk, "object_id": early.pk, "candidates": len(candidates)})
    return early


def find_learners(document_numbers):
    """Learners by document number, for batch sheets: returns (found dict, missing list)."""
    wanted = [normalise_document_number(n) for n in document_numbers if n and n.strip()]
    found = {u.id_number: u for u in User.objects.filter(id_number__in=wanted)}
    return found, [n for n in wanted if n not in found]


# --- the province's entry policy and platform catalogue ------------------------------------------


@transaction.atomic
def save_policy(province, admin, **fields):
    """The province's entry window, platform grace days and early-review titles and deadline."""
    policy, _created = CreditPolicy.objects.update_or_create(province=province, defaults=fields)
    log.info("policy_saved", extra={"object_id": policy.pk, "actor_id": admin.pk, "fields": sorted(fields)})
    return policy


@transaction.atomic
def set_deadline(province, admin, *, year, deadline):
    """The last day credits of ``year`` may be entered by hand in ``province`` (seed 003's 截止日期)."""
    row, _created = EntryDeadline.objects.update_or_create(province=province, year=year, defaults={"deadline": deadline})
    log.info("deadline_set", extra={"object_id": row.pk, "actor_id": admin.pk, "year": year})
    return row


@transaction.atomic
def save_platform(form, admin):
    platform = form.save()
    log.info("platform_saved", extra={"object_id": platform.pk, "actor_id": admin.pk, "active": platform.active})
    return platform


def set_platform_active(platform, admin, *, active):
    """Connect or disconnect a platform: only a connected platform's credits are refused at entry."""
    type(platform).objects.filter(pk=platform.pk).update(active=active)
    log.info("platform_active_set", extra={"object_id": platform.pk, "actor_id": admin.pk, "active": active})
