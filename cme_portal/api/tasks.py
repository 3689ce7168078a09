from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import ApiCall


@shared_task
def purge_old_api_calls():
    """Daily (Celery beat): forget calls older than API_CALL_LOG_DAYS (the log lines stay with the log collector)."""
    cutoff = timezone.now() - timedelta(days=settings.API_CALL_LOG_DAYS)
    deleted, _ = ApiCall.objects.filter(created_at__lt=cutoff).delete()
    return deleted
