"""Finding work a dead worker or an absent broker left undone (DESIGN.md §7, reliability).

Every task is safe to run twice, so the reconciler simply queues again whatever should exist and does
not: an award without its certificate (or whose certificate has no file, or a file storage cannot
read), a bulk download or catalogue import that never started or whose worker died. It runs from beat
(``certificates.tasks.reconcile``) and may run at any time. Only work older than a grace period is
taken, so it does not race with tasks queued a moment ago (it would be harmless, only wasted work).
Notifications are swept by their own outbox.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from credits.models import CreditRecord, RecordStatus, Source

from .models import BulkDownload, BulkState, Certificate, CertificateStatus

log = logging.getLogger("cme.reconcile")


def awards_without_a_certificate(cutoff):
    """Ids of effective, unreversed project awards made before ``cutoff`` with no issued certificate with a file.

    A correction whose predecessor's certificate had been revoked before it stays without one (a
    correction never brings back a certificate the province revoked).
    """
    issued_with_file = Certificate.objects.filter(record=OuterRef("pk")).exclude(file="")
    revoked_before = Certificate.objects.filter(
        learner=OuterRef("learner"),
        record__session=OuterRef("session"),
        record__revision__lt=OuterRef("revision"),
        status=CertificateStatus.REVOKED,
        revoked_at__lt=OuterRef("created_at"),
    )
    return list(
        CreditRecord.objects.filter(
            source=Source.PROJECT_AWARD,
            status=RecordStatus.EFFECTIVE,
            reversed_by__isnull=True,
            created_at__lt=cutoff,
        )
        .exclude(Exists(issued_with_file))
        .exclude(Q(revision__gt=0) & Exists(revoked_before))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def certificates_with_unreadable_files(since):
    """Ids of the awards whose issued certificate, rendered since ``since``, names a file storage lacks."""
    lost = []
    for record_id, name, storage in (
        (c.record_id, c.file.name, c.file.storage)
        for c in Certificate.objects.filter(status=CertificateStatus.ISSUED, rendered_at__gte=since)
        .exclude(file="")
        .only("record_id", "file")
    ):
        if not storage.exists(name):
            lost.append(record_id)
    return lost


def stuck_bulk_downloads(cutoff, dead_after):
    """Bulk downloads never started (pending before ``cutoff``), or whose worker died (checking/building
    before ``dead_after``): the latter are put back to pending. Returns their ids."""
    BulkDownload.objects.filter(state__in=[BulkState.CHECKING, BulkState.BUILDING], created_at__lt=dead_after).update(
        state=BulkState.PENDING, done=0
    )
    return list(BulkDownload.objects.filter(state=BulkState.PENDING, created_at__lt=cutoff).values_list("pk", flat=True))


def stuck_catalogue_imports(cutoff):
    """Catalogue imports never started, or whose worker died (the task claims a stale running one itself)."""
    from projects.models import CatalogueImport, ImportState
    from projects.services import IMPORT_TIME_LIMIT

    stale = timezone.now() - timedelta(seconds=IMPORT_TIME_LIMIT)
    return list(
        CatalogueImport.objects.filter(
            Q(state=ImportState.PENDING, created_at__lt=cutoff) | Q(state=ImportState.RUNNING, started_at__lt=stale)
        ).values_list("pk", flat=True)
    )


def reconcile(*, grace_seconds=None):
    """Queue again what is missing; return what was queued, by kind. Safe to run at any time, twice."""
    from cme_portal.queueing import enqueue
    from projects.tasks import run_catalogue_import

    from .tasks import build_bulk_download, send_render_tasks

    grace = settings.RECONCILE_GRACE_SECONDS if grace_seconds is None else grace_seconds
    now = timezone.now()
    cutoff = now - timedelta(seconds=grace)
    records = sorted(
        set(awards_without_a_certificate(cutoff))
        | set(certificates_with_unreadable_files(now - timedelta(days=settings.RECONCILE_FILE_CHECK_DAYS)))
    )
    send_render_tasks(records)
    bulks = stuck_bulk_downloads(cutoff, now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT))
    for bulk_id in bulks:
        enqueue(build_bulk_download, bulk_id)
    imports = stuck_catalogue_imports(cutoff)
    for import_id in imports:
        enqueue(run_catalogue_import, import_id)
    from credits.jobs import stuck_jobs
    from credits.tasks import run_background_job

    jobs = stuck_jobs(cutoff)
    for job_id in jobs:
        enqueue(run_background_job, job_id)
    queued = {
        "certificates": len(records),
        "bulk_downloads": len(bulks),
        "catalogue_imports": len(imports),
        "background_jobs": len(jobs),
    }
    if any(queued.values()):
        log.warning("reconciled", extra=queued)
    return queued
