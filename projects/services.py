"""Projects: entering national projects, applying to hold sessions, materials, review.

Each function raises DomainError with a message that tells the organiser or
reviewer what to do next.
"""

import logging
from datetime import timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cme_portal import punctuation
from cme_portal.accounts.models import OrgKind, Role
from cme_portal.audit.services import record_event
from cme_portal.errors import DomainError
from cme_portal.review.workflow import perform
from cme_portal.uploads import check_upload

from . import numbers
from .imports import ImportFailed, import_projects
from .models import (
    HOSTING_WORKFLOW,
    CatalogueImport,
    Entry,
    ImportState,
    Level,
    Material,
    MaterialKind,
    Project,
    Session,
    SessionState,
)
from .selectors import hostable_projects, organiser_unit

log = logging.getLogger("cme.projects")


def _require_unit(user):
    unit = organiser_unit(user)
    if unit is None:
        raise DomainError(_("您的账号还不是立项用户，请联系单位科教科开通。"), code="not_organiser")
    return unit


def parse_project_number(raw, *, year=None, discipline=None):
    """Parse ``raw``, check it agrees with the project's year and discipline; return a ProjectNumber."""
    number = numbers.parse(raw)
    numbers.check_agrees(number, year=year, discipline_code=discipline.code if discipline else "")
    return number


@transaction.atomic
def enter_national_project(
    organiser,
    *,
    number,
    name,
    discipline,
    leader,
    year,
    credits,
    hours,
    sequence,
    venue,
    start_date,
    end_date,
    credit_class="I",
    remarks="",
    today=None,
):
    """Seed 001 §1.2: an organiser enters a national project and its session (a draft); return the session.

    Raises DomainError for a number that is not national, disagrees with the
    year or discipline, or is already in the catalogue.
    """
    unit = _require_unit(organiser)
    parsed = parse_project_number(number, year=year, discipline=discipline)
    if parsed.kind != numbers.NATIONAL:
        raise DomainError(
            _("国家级项目编号应以（国）结尾，例如 2021-03-05-129（国）。"), code="number_not_national", field="number"
        )
    existing = Project.objects.filter(number_key=parsed.canonical).first()
    if existing:
        raise DomainError(
            _("项目编号 %(number)s 已在项目库中（%(name)s）。如需再次举办，请在该项目下申请新的一期。")
            % {"number": existing.number, "name": existing.name},
            code="number_taken",
            field="number",
        )
    project = Project.objects.create(
        number=parsed.typed,
        number_key=parsed.canonical,
        name=name,
        level=Level.NATIONAL,
        credit_class=credit_class,
        entry=Entry.DECLARED,
        discipline=discipline,
        leader=leader,
        holding_unit=unit,
        year=year,
        credits=credits,
        hours=hours,
        entered_by=organiser,
    )
    return _new_session(
        project,
        organiser,
        unit,
        sequence=sequence,
        venue=venue,
        start_date=start_date,
        end_date=end_date,
        credits=credits,
        hours=hours,
        remarks=remarks,
        today=today,
    )


@transaction.atomic
def apply_to_host(organiser, project, *, venue, start_date, end_date, credits, hours, remarks="", today=None):
    """Seed 001 §1.3: a hosting application (draft) for the next session of ``project``; return it."""
    unit = _require_unit(organiser)
    if not hostable_projects(organiser).filter(pk=project.pk).exists():
        raise DomainError(_("只能申请举办本单位已公布的项目。"), code="not_hostable")
    next_sequence = (project.sessions.aggregate(n=Max("sequence"))["n"] or 0) + 1
    return _new_session(
        project,
        organiser,
        unit,
        sequence=next_sequence,
        venue=venue,
        start_date=start_date,
        end_date=end_date,
        credits=credits,
        hours=hours,
        remarks=remarks,
        today=today,
    )


def _new_session(project, organiser, unit, today=None, **fields):
    _check_session_fields(project, fields, today)
    try:
        with transaction.atomic():
            return Session.objects.create(project=project, organiser=organiser, unit=unit, **fields)
    except IntegrityError:
        raise DomainError(
            _("该项目已有第 %(n)s 期，请改用其他期数。") % {"n": fields["sequence"]}, code="sequence_taken", field="sequence"
        ) from None


def _check_session_fields(project, fields, today=None):
    """Dates in order and not in the past, credits within the project's.

    ``today`` is the day the application is filed (the demo files its history in the past).
    """
    today = today or timezone.localdate()
    if fields["start_date"] < today:
        raise DomainError(
            _("开始日期不能早于今天（%(today)s）：举办申请须在举办之前提交。") % {"today": today.isoformat()},
            code="past",
            field="start_date",
        )
    if fields["end_date"] < fields["start_date"]:
        raise DomainError(_("结束日期不能早于开始日期。"), code="dates", field="end_date")
    if fields["credits"] > project.credits:
        raise DomainError(
            _("本期学分不能超过项目批准的 %(credits)s 分。") % {"credits": project.credits}, code="credits", field="credits"
        )


def _require_owner_editable(session, user):
    if session.organiser_id != user.pk:
        raise DomainError(_("只有申请人可以修改举办申请。"), code="forbidden")
    if not session.editable:
        raise DomainError(
            _("举办申请当前状态为“%(state)s”，不能修改。") % {"state": session.get_state_display()}, code="not_editable"
        )


@transaction.atomic
def update_session(session, user, today=None, **fields):
    """Edit a draft or returned application's venue, dates, credits, hours and remarks."""
    _require_owner_editable(session, user)
    _check_session_fields(
        session.project, {**{k: getattr(session, k) for k in ("start_date", "end_date", "credits")}, **fields}, today
    )
    for key, value in fields.items():
        setattr(session, key, value)
    session.save()
    return session


def attach_material(session, user, kind, upload):
    """Store the notice or schedule of an application, replacing an earlier one; return the Material.

    Raises DomainError for a file over 50 MB or not a PDF, JPEG or PNG by content.
    """
    _require_owner_editable(session, user)
    content_type, sha256 = check_upload(upload)
    with transaction.atomic():
        old = Material.objects.select_for_update().filter(session=session, kind=kind).first()
        material = Material(
            session=session,
            kind=kind,
            original_name=upload.name[:200],
            content_type=content_type,
            size=upload.size,
            sha256=sha256,
            uploaded_by=user,
        )
        material.file.save(upload.name, upload, save=False)  # upload_to names it; the typed name is kept apart
        if old:
            old_file = old.file
            old.delete()
            transaction.on_commit(lambda: old_file.delete(save=False))
        material.save()
    log.info("material_attached", extra={"object_id": session.pk, "kind": kind, "actor_id": user.pk, "replaced": bool(old)})
    return material


def submit(session, user):
    """Send a draft (or a returned application) to the unit admin; both materials are needed."""
    kinds = set(session.materials.values_list("kind", flat=True))
    missing = [label for value, label in MaterialKind.choices if value not in kinds]
    if missing:
        raise DomainError(
            _("请先上传：%(missing)s。") % {"missing": punctuation.mark("、").join(str(m) for m in missing)},
            code="materials_missing",
        )
    action = "resubmit" if session.state == SessionState.RETURNED else "submit"
    return perform(HOSTING_WORKFLOW, session, action, user)


@transaction.atomic
def delete_draft(session, user):
    """Delete a draft that was never submitted, with its files (after commit)."""
    if session.organiser_id != user.pk or session.state != SessionState.DRAFT:
        raise DomainError(_("只能删除自己未上报的举办申请。"), code="not_deletable")
    files = [m.file for m in session.materials.all()]
    project = session.project
    log.info("draft_deleted", extra={"object_id": session.pk, "actor_id": user.pk})
    session.delete()
    # A national project entered only for this draft goes with it.
    if project.entered_by_id == user.pk and not project.sessions.exists():
        project.delete()
    transaction.on_commit(lambda: [f.delete(save=False) for f in files])


@transaction.atomic
def confirm_co_organiser(project, admin, unit):
    """The province admin names the in-province unit that reports a remote-filed project's credits (seed 004)."""
    if project.entry != Entry.REMOTE_FILED:
        raise DomainError(_("只有异地备案项目需要确认协办单位。"), code="not_remote_filed")
    if unit.kind != OrgKind.UNIT or not admin.in_scope(Role.PROVINCE_ADMIN, unit.path):
        raise DomainError(_("请选择本省机构列表中的单位。"), code="unit", field="unit")
    Project.objects.filter(pk=project.pk).update(co_organiser_unit=unit, co_organiser_candidates=[])
    log.info("co_organiser_confirmed", extra={"object_id": project.pk, "unit_id": unit.pk, "actor_id": admin.pk})


# --- the province's lists, imported by a worker (W9) ---------------------------------------------

MAX_LIST_BYTES = 20 * 1024 * 1024
# A province's list of 20,000 rows takes minutes (two passes, all or nothing): its task may run for an hour.
IMPORT_TIME_LIMIT = 3600
MAX_LIST_ERRORS = 500


def request_catalogue_import(admin, upload, *, entry, as_of=None):
    """Keep the uploaded list and queue its import (tasks.run_catalogue_import); return the CatalogueImport."""
    head = upload.read(4)
    upload.seek(0)
    if head[:2] != b"PK":
        raise DomainError(_("请上传 Excel（.xlsx）文件。"), code="not_xlsx", field="file")
    if upload.size > MAX_LIST_BYTES:
        raise DomainError(_("文件超过 20 MB，请分成几个文件导入。"), code="too_large", field="file")
    job = CatalogueImport(entry=entry, as_of=as_of, original_name=upload.name[:200], requested_by=admin)
    job.file.save("list.xlsx", upload, save=False)
    job.save()
    log.info("catalogue_import_requested", extra={"object_id": job.pk, "actor_id": admin.pk, "entry": entry})
    return job


def import_progress(job):
    """(done, total) of a running import, from the shared cache the worker writes."""
    return cache.get(f"catalogue-import:{job.pk}", (0, 0))


def run_catalogue_import(import_id):
    """Run a pending import: all or nothing, every refused row kept (the first 500) for the page to show."""
    # Take a pending job, or one whose worker died mid-way (the import is one transaction: nothing of it
    # stayed, so running it again is safe) once it has run longer than any task may.
    now = timezone.now()
    stale = now - timedelta(seconds=IMPORT_TIME_LIMIT)
    claimable = Q(state=ImportState.PENDING) | Q(state=ImportState.RUNNING, started_at__lt=stale)
    if not CatalogueImport.objects.filter(claimable, pk=import_id).update(state=ImportState.RUNNING, started_at=now):
        return "taken"
    job = CatalogueImport.objects.select_related("requested_by").get(pk=import_id)
    # The refused rows are read by the admin who asked: written in the language they chose (issue 13).
    with translation.override(job.requested_by.preferred_language if job.requested_by else None):
        return _run_catalogue_import(job)


def _run_catalogue_import(job):
    def progress(done, total):
        cache.set(f"catalogue-import:{job.pk}", (done, total), timeout=86400)

    try:
        with job.file.open("rb") as source:
            count = import_projects(source, entry=job.entry, user=job.requested_by, progress=progress)
    except ImportFailed as failed:
        errors = [{"row": e.row, "reason": str(e.reason)} for e in failed.errors[:MAX_LIST_ERRORS]]
        CatalogueImport.objects.filter(pk=job.pk).update(state=ImportState.FAILED, errors=errors, finished_at=timezone.now())
        log.info("catalogue_import_refused", extra={"object_id": job.pk, "rows_refused": len(failed.errors)})
        record_event(job, "catalogue_import_refused", actor=job.requested_by, entry=job.entry, rows_refused=len(failed.errors))
        return ImportState.FAILED
    except Exception as error:  # the page must show an end, whatever went wrong
        CatalogueImport.objects.filter(pk=job.pk).update(
            state=ImportState.FAILED,
            errors=[{"row": 0, "reason": _("导入失败，请重试。") + f" ({error.__class__.__name__})"}],
            finished_at=timezone.now(),
        )
        log.exception("catalogue_import_failed", extra={"object_id": job.pk})
        return ImportState.FAILED
    CatalogueImport.objects.filter(pk=job.pk).update(
        state=ImportState.DONE, imported=count, rows=count, finished_at=timezone.now()
    )
    log.info("catalogue_imported", extra={"object_id": job.pk, "projects": count, "entry": job.entry})
    record_event(job, "catalogue_imported", actor=job.requested_by, entry=job.entry, projects=count)
    return ImportState.DONE
