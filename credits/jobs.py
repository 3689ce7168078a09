"""Exports and imports that do not hold a request (issue 12, item 2).

The compliance report's Excel of a province (500,000 rows) and a platform file of more than
``INLINE_ROWS`` rows are kept as a ``BackgroundJob`` and done by a worker (``tasks.run_background_job``)
while the person watches a page that refreshes itself; the export is written a row at a time
(openpyxl's write-only mode fed by ``QuerySet.iterator``, every cell through ``cme_portal.exports``), kept
for ``KEEP_HOURS`` and purged by beat (``tasks.purge_expired_jobs``). Only the person who asked sees a
job or its file (``get_job``: 404 for anyone else). A job is taken by one worker only (pending, or running
past ``JOB_TIME_LIMIT``: its worker died), so running its task twice does nothing twice; the reconciler
(``certificates/reconcile.py``) queues again a job never started or whose worker died.
"""

import logging
import tempfile
from datetime import timedelta
from pathlib import Path

import openpyxl
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Q
from django.db.models.functions import Greatest
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cme_portal.audit.services import record_event
from cme_portal.errors import DomainError
from cme_portal.exports import stamp, write_xlsx

from .models import BackgroundJob, JobKind, JobState, Platform

log = logging.getLogger("cme.credits.jobs")

# A platform file of more rows than this is imported by a worker; a smaller one in the request, as before.
INLINE_ROWS = 500
MAX_FILE_BYTES = 20 * 1024 * 1024
# A province's export may take minutes; its task may run for an hour (then another worker may take it).
JOB_TIME_LIMIT = 3600
KEEP_HOURS = 24
# Skipped and refused rows kept for the page (the counts are always whole).
MAX_LISTED = 2000
FILTER_KEYS = 20


def get_job(user, public_id):
    """The job ``public_id`` if ``user`` asked for it; else 404."""
    return get_object_or_404(BackgroundJob, public_id=public_id, requested_by=user)


def job_file(job):
    """The ready file of ``job`` (an export, not yet purged); else 404."""
    if job.kind != JobKind.COMPLIANCE_EXPORT or job.state != JobState.DONE or not job.file:
        raise Http404
    if job.expires_at and job.expires_at < timezone.now():
        raise Http404
    if not job.file.storage.exists(job.file.name):
        raise Http404
    return job.file


# --- asking ---------------------------------------------------------------------------------


def request_compliance_export(user, filters):
    """Keep the report's filters and return the pending job (the caller queues it)."""
    kept = {str(k)[:50]: str(v)[:200] for k, v in list(filters.items())[:FILTER_KEYS]}
    job = BackgroundJob.objects.create(
        kind=JobKind.COMPLIANCE_EXPORT,
        requested_by=user,
        params={"filters": kept, "language": translation.get_language()},
    )
    log.info("compliance_export_requested", extra={"object_id": job.pk, "actor_id": user.pk})
    return job


def count_rows(upload):
    """The data rows of a platform file (Excel: from its dimension, without reading it; CSV: its lines)."""
    head = upload.read(2)
    upload.seek(0)
    rows = 0
    if head == b"PK":
        try:
            book = openpyxl.load_workbook(upload, read_only=True)
            rows = book.worksheets[0].max_row or 0
            book.close()
        except Exception:
            rows = 0  # unreadable: the inline import says so
    else:
        rows = upload.read().count(b"\n")
    upload.seek(0)
    return max(rows - 1, 0)


def request_platform_import(user, upload, platform):
    """Keep a large platform file and return the pending job (the caller queues it)."""
    if upload.size > MAX_FILE_BYTES:
        raise DomainError(_("文件超过 20 MB，请分成几个文件导入。"), code="too_large", field="file")
    job = BackgroundJob(
        kind=JobKind.PLATFORM_IMPORT,
        requested_by=user,
        original_name=upload.name[:200],
        params={"platform": platform.name, "language": translation.get_language()},
    )
    job.file.save(upload.name, upload, save=False)
    job.save()
    log.info("platform_import_requested", extra={"object_id": job.pk, "actor_id": user.pk})
    return job


def request_batch_entry(user, post, files):
    """Keep a unit's batch (its form's fields, its sheet, its evidence files) and return the pending job."""
    sheet = files["sheet"]
    job = BackgroundJob(
        kind=JobKind.BATCH_ENTRY,
        requested_by=user,
        original_name=sheet.name[:200],
        params={
            "post": {key: post.getlist(key) for key in post if key != "csrfmiddlewaretoken"},
            "language": translation.get_language(),
        },
    )
    job.file.save(sheet.name, sheet, save=False)
    job.params["evidence"] = [
        default_storage.save(f"jobs/{job.public_id.hex}-evidence-{index}{Path(upload.name).suffix[:5].lower()}", upload)
        for index, upload in enumerate(files.getlist("evidence"))
    ]
    job.save()
    log.info("batch_entry_requested", extra={"object_id": job.pk, "actor_id": user.pk})
    return job


# --- doing ----------------------------------------------------------------------------------


def _progress(job):
    def update(done, total=None):
        changes = {"done": done, "total": Greatest("total", done) if total is None else max(total, done)}
        BackgroundJob.objects.filter(pk=job.pk).update(**changes)

    return update


def compliance_headers():
    return [_("单位"), _("姓名"), _("证件号"), _("人员类别"), _("I 类"), _("II 类"), _("五年国家级"), _("是否达标")]


def compliance_rows(learners, chunk_size=2000):
    """One list per learner of the report's queryset, read from a server-side cursor ``chunk_size`` at a time."""
    yes, no = _("是"), _("否")
    for profile in learners.iterator(chunk_size=chunk_size):
        yield [
            profile.unit.name,
            profile.user.name,
            # The report holds only the requester's subtree: its reviewers see the numbers whole (DESIGN.md §7).
            profile.user.id_number,
            profile.get_staff_category_display(),
            float(profile.c1),
            float(profile.c2),
            float(profile.national5),
            yes if profile.compliant else no,
        ]


def _compliance_export(job):
    from . import selectors

    report = selectors.compliance_report(job.requested_by, filters=job.params.get("filters", {}))
    total = report.rows().count()
    BackgroundJob.objects.filter(pk=job.pk).update(total=total, done=0)
    if job.file:
        job.file.delete(save=False)  # a re-run after a dead worker
    with tempfile.TemporaryFile() as target:
        written = write_xlsx(
            target,
            title=_("达标情况"),
            headers=compliance_headers(),
            rows=compliance_rows(report.learners),
            progress=_progress(job),
        )
        target.seek(0)
        job.file.save("export.xlsx", File(target), save=False)
    name = f"compliance-{report.year}-{stamp()}.xlsx"
    BackgroundJob.objects.filter(pk=job.pk).update(
        state=JobState.DONE,
        done=written,
        total=written,
        file=job.file.name,
        original_name=name,
        expires_at=timezone.now() + timedelta(hours=KEEP_HOURS),
        finished_at=timezone.now(),
    )
    log.info("compliance_exported", extra={"object_id": job.pk, "rows": written})


def _platform_import(job):
    from .platforms import import_platform_file

    platform = Platform.objects.get(name=job.params["platform"])
    with job.file.open("rb") as source:
        report = import_platform_file(source, platform.name, job.requested_by, progress=_progress(job))
    result = {
        "imported": report.imported,
        "skipped_count": len(report.skipped),
        "refused_count": len(report.refused),
        "skipped": [[row, str(reason)] for row, reason in report.skipped[:MAX_LISTED]],
        "refused": [[row, str(reason)] for row, reason in report.refused[:MAX_LISTED]],
    }
    BackgroundJob.objects.filter(pk=job.pk).update(
        state=JobState.DONE,
        result=result,
        expires_at=timezone.now() + timedelta(hours=KEEP_HOURS),
        finished_at=timezone.now(),
    )
    record_event(
        platform,
        "platform_imported",
        actor=job.requested_by,
        file=job.original_name[:100],
        imported=report.imported,
        refused=len(report.refused),
    )


def _batch_entry(job):
    """The batch form rebuilt from what was sent and checked again as the unit admin is now, then entered
    all or nothing (credits.batch); a refusal is the job's report, not a failure."""
    from django.utils.datastructures import MultiValueDict

    from .batch import batch_form, enter_batch

    def kept(name, shown):
        with default_storage.open(name, "rb") as source:
            return ContentFile(source.read(), name=shown)

    evidence = [kept(name, name.rsplit("/", 1)[-1]) for name in job.params["evidence"]]
    form = batch_form(
        job.requested_by,
        MultiValueDict(job.params["post"]),
        MultiValueDict({"evidence": evidence, "sheet": [kept(job.file.name, job.original_name or "sheet.xlsx")]}),
    )
    BackgroundJob.objects.filter(pk=job.pk).update(total=1)
    entries = enter_batch(job.requested_by, form) if form.is_valid() else None
    problems = [str(message) for errors in form.errors.values() for message in errors]
    BackgroundJob.objects.filter(pk=job.pk).update(
        state=JobState.DONE,
        done=1,
        result={"imported": len(entries or []), "problems": problems[:MAX_LISTED]},
        expires_at=timezone.now() + timedelta(hours=KEEP_HOURS),
        finished_at=timezone.now(),
    )


RUNNERS = {
    JobKind.COMPLIANCE_EXPORT: _compliance_export,
    JobKind.PLATFORM_IMPORT: _platform_import,
    JobKind.BATCH_ENTRY: _batch_entry,
}


def claimable(now=None):
    """Jobs a worker may take: pending, or running longer than any task may (its worker died)."""
    stale = (now or timezone.now()) - timedelta(seconds=JOB_TIME_LIMIT)
    return Q(state=JobState.PENDING) | Q(state=JobState.RUNNING, started_at__lt=stale)


def run_job(job_id):
    """Do one job if this worker takes it; the page always sees an end (done or failed with a reason)."""
    now = timezone.now()
    if not BackgroundJob.objects.filter(claimable(now), pk=job_id).update(state=JobState.RUNNING, started_at=now, done=0):
        return "taken"
    job = BackgroundJob.objects.select_related("requested_by").get(pk=job_id)
    try:
        with translation.override(job.params.get("language") or None):
            RUNNERS[job.kind](job)
    except Exception as error:
        BackgroundJob.objects.filter(pk=job.pk).update(
            state=JobState.FAILED,
            result={"error": _("处理失败，请重试。") + f" ({error.__class__.__name__})"},
            finished_at=timezone.now(),
        )
        log.exception("background_job_failed", extra={"object_id": job.pk})
        return JobState.FAILED
    return JobState.DONE


def stuck_jobs(cutoff):
    """Ids of jobs never started before ``cutoff``, or whose worker died (for the reconciler)."""
    return list(
        BackgroundJob.objects.filter(claimable())
        .exclude(state=JobState.PENDING, created_at__gte=cutoff)
        .values_list("pk", flat=True)
    )


def purge_expired():
    """Delete the files of jobs past their expiry; return how many."""
    expired = BackgroundJob.objects.filter(expires_at__lt=timezone.now()).exclude(file="")
    for job in expired:
        job.file.delete(save=False)
        for name in job.params.get("evidence", []):
            default_storage.delete(name)
    return expired.update(file="")
