"""Rendering and bulk downloads in Celery workers. Tasks take ids and are safe to run twice."""

import logging
import tempfile
import zipfile
from datetime import timedelta

from celery import shared_task
from django.core.files import File
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from cme_portal import punctuation
from cme_portal.queueing import enqueue

from . import designs, services
from .models import BulkDownload, BulkState, Certificate, ReissueJob, ReissueState

log = logging.getLogger("cme.certificates")

# A task's share of a batch (one transaction of services.TRANSACTION_SIZE): small enough that the last tasks of a
# 1,000-person award still keep every worker busy (a worker takes one task at a time, CELERY_WORKER_PREFETCH_MULTIPLIER).
CHUNK = 100


@shared_task
def render_certificates(record_ids):
    """Issue and render the certificates of these awards (one task per chunk of an award), a transaction of
    ``services.TRANSACTION_SIZE`` at a time."""
    services.render_many(record_ids)
    return len(record_ids)


def send_render_tasks(record_ids):
    """After the award's transaction commits, in chunks so a 3,000-person roster spreads over workers."""
    ids = list(record_ids)
    for start in range(0, len(ids), CHUNK):
        enqueue(render_certificates, ids[start : start + CHUNK])


@shared_task
def rerender_learner(user_id):
    """A learner completed blank fields (seed 000: sex, age): draw their certificates again."""
    record_ids = list(
        Certificate.objects.filter(
            learner_id=user_id, status="issued", record__status="effective", record__reversed_by__isnull=True
        ).values_list("record_id", flat=True)
    )
    services.render_many(record_ids)
    return len(record_ids)


@shared_task
def build_bulk_download(bulk_id):
    """Check every certificate's fields first (no half-built batch), then build one ZIP with progress.

    Only the worker that moves the job out of "pending" builds it; any failure
    ends the job as failed with its reason, never stuck half-way.
    """
    if not BulkDownload.objects.filter(pk=bulk_id, state=BulkState.PENDING).update(state=BulkState.CHECKING):
        return "taken"
    bulk = BulkDownload.objects.select_related("unit", "requested_by").get(pk=bulk_id)
    try:
        # What was left out, and why, is read by the admin who asked: in the language they chose (issue 13).
        with translation.override(bulk.requested_by.preferred_language):
            return _build(bulk)
    except Exception as error:  # the page must show an end, whatever went wrong
        BulkDownload.objects.filter(pk=bulk.pk).update(
            state=BulkState.FAILED,
            problems=[{"number": "", "name": "", "missing": [str(_("打包失败，请重试")), error.__class__.__name__]}],
        )
        raise


def _build(bulk):
    """Indico's two passes: check every certificate first; without ``force`` any problem ends the job with the list,
    with ``force`` the ZIP is built without those certificates and lists them in a text file inside it."""
    certificates = list(_certificates_for(bulk))
    problems, complete = [], []
    for certificate in certificates:
        missing = services.missing_fields(certificate.snapshot)
        if missing or not certificate.file:
            problems.append(
                {
                    "number": certificate.number,
                    "name": certificate.snapshot.get("name", ""),
                    "missing": missing or [str(_("证书文件"))],
                }
            )
        else:
            complete.append(certificate)
    if (problems and not bulk.force) or not complete:
        BulkDownload.objects.filter(pk=bulk.pk).update(total=len(certificates), state=BulkState.FAILED, problems=problems)
        return BulkState.FAILED
    certificates = complete
    BulkDownload.objects.filter(pk=bulk.pk).update(total=len(certificates), done=0, state=BulkState.BUILDING, left_out=problems)
    with tempfile.TemporaryFile() as spool:
        with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
            if problems:
                archive.writestr(str(_("未打包的证书.txt")), _left_out_text(problems))
            for index, certificate in enumerate(certificates, start=1):
                certificate.refresh_from_db(fields=["file"])  # a re-render meanwhile replaced the file
                with certificate.file.open("rb") as pdf:
                    archive.writestr(f"{certificate.number}-{certificate.snapshot.get('name', '')}.pdf", pdf.read())
                if index % 50 == 0 or index == len(certificates):
                    BulkDownload.objects.filter(pk=bulk.pk).update(done=index)
        spool.seek(0)
        bulk.file.save(f"certificates-{bulk.pk}.zip", File(spool), save=False)
    BulkDownload.objects.filter(pk=bulk.pk).update(
        file=bulk.file.name, state=BulkState.READY, done=F("total"), expires_at=timezone.now() + timedelta(hours=24)
    )
    return BulkState.READY


def _left_out_text(problems):
    lines = [str(_("以下证书缺少内容，未放入本压缩包：")), ""]
    for problem in problems:
        lines.append(
            str(_("%(number)s %(name)s 缺：%(missing)s"))
            % {"number": problem["number"], "name": problem["name"], "missing": punctuation.mark("、").join(problem["missing"])}
        )
    return "\r\n".join(lines) + "\r\n"


def _certificates_for(bulk):
    queryset = Certificate.objects.filter(status="issued", record__learner__profile__unit__path__startswith=bulk.unit.path)
    if bulk.session_id:
        queryset = queryset.filter(record__session_id=bulk.session_id)
    if bulk.year:
        queryset = queryset.filter(record__year=bulk.year)
    return queryset.order_by("number")


@shared_task
def purge_expired_bulk_downloads():
    """Hourly: delete ZIPs past their expiry."""
    expired = BulkDownload.objects.filter(expires_at__lt=timezone.now()).exclude(file="")
    for bulk in expired:
        bulk.file.delete(save=False)
    return expired.update(file="")


REISSUE_CHUNK = 20  # certificates drawn in one transaction between two steps of the progress bar


@shared_task
def reissue(job_id):
    """Draw the province's issued certificates again with the job's template version, with progress.

    Only the worker that moves the job out of "pending" runs it. A certificate that cannot be drawn is counted and
    logged, and the job goes on; a run that dies part-way is safe to run again (drawn ones are skipped).
    """
    if not ReissueJob.objects.filter(pk=job_id, state=ReissueState.PENDING).update(state=ReissueState.RUNNING):
        return "taken"
    job = ReissueJob.objects.select_related("province", "template").get(pk=job_id)
    try:
        record_ids = list(designs.stale_certificates(job.province, job.template).values_list("record_id", flat=True))
        ReissueJob.objects.filter(pk=job.pk).update(total=len(record_ids), done=0)
        failed = 0
        for start in range(0, len(record_ids), REISSUE_CHUNK):
            chunk = record_ids[start : start + REISSUE_CHUNK]
            try:
                failed += len(services.render_chunk(chunk, reissue=True).failed)
            except Exception:  # the chunk rolled back: its certificates keep their old drawing
                failed += len(chunk)
                log.exception("certificate_reissue_failed", extra={"object_id": job.pk, "record_ids": chunk})
            ReissueJob.objects.filter(pk=job.pk).update(done=start + len(chunk), failed=failed)
        ReissueJob.objects.filter(pk=job.pk).update(state=ReissueState.DONE, finished_at=timezone.now())
        return len(record_ids)
    except Exception:
        ReissueJob.objects.filter(pk=job.pk).update(state=ReissueState.FAILED, finished_at=timezone.now())
        raise


@shared_task
def reconcile():
    """Every few minutes (beat): queue again the work a dead worker or an absent broker left undone."""
    from .reconcile import reconcile as run

    return run()
