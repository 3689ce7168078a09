from datetime import timedelta

from celery import shared_task
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from cme_portal.accounts.models import User
from cme_portal.notifications.kinds import Kind
from cme_portal.notifications.services import notify
from cme_portal.notifications.text import Text

from .models import CreditEntry, EntryDeadline, EntryState


@shared_task
def remind_entry_deadlines():
    """Daily (Celery beat): three days before a year's entry deadline, learners with entries of that year
    still to submit or to correct (draft, returned) are told. Once per learner and deadline; returns how many."""
    day = timezone.localdate() + timedelta(days=3)
    told = 0
    for deadline in EntryDeadline.objects.filter(deadline=day).select_related("province"):
        waiting = (
            CreditEntry.objects.filter(
                year=deadline.year,
                state__in=[EntryState.DRAFT, EntryState.RETURNED],
                unit__path__startswith=deadline.province.path,
            )
            .values("learner_id")
            .annotate(n=Count("pk"))
        )
        counts = {row["learner_id"]: row["n"] for row in waiting}
        for learner in User.objects.filter(pk__in=counts):
            message = Text(
                gettext_noop("您有 %(count)s 条 %(year)s 年度的学分录入尚未上报或待修改，录入将于 %(date)s 截止。"),
                count=counts[learner.pk],
                year=deadline.year,
                date=deadline.deadline.isoformat(),
            )
            if notify(
                learner,
                Kind.DEADLINE,
                message,
                reverse("credits:my_credits"),
                key=f"entry-deadline:{deadline.pk}:{deadline.deadline}",
            ):
                told += 1
    return told


@shared_task
def render_credit_record(user_id, first, last, key):
    """A large 学分登记表 (credits/record.py), rendered by a worker into storage for its job page."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from . import record

    learner = User.objects.get(pk=user_id)
    with translation.override(learner.preferred_language):  # a worker has no request: the learner's language
        pdf, _rows, _totals = record.render(learner, first, last)
    path = record.job_path(key)
    if not default_storage.exists(path):
        default_storage.save(path, ContentFile(pdf))
    return path


@shared_task(soft_time_limit=3540, time_limit=3600)
def run_background_job(job_id):
    """A province's compliance export or a large platform file (credits.jobs); safe to run twice."""
    from .jobs import run_job

    return run_job(job_id)


@shared_task
def purge_expired_jobs():
    """Hourly: delete the files of exports and imports past their expiry."""
    from .jobs import purge_expired

    return purge_expired()
