from celery import shared_task
from django.utils import timezone

from .models import SmsCode
from .sms import get_backend


@shared_task(autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=5)
def send_sms(mobile, message):
    """Hand one message to the configured SMS backend."""
    get_backend().send(mobile, message)


@shared_task
def purge_expired_sms_codes():
    """Delete codes that expired more than a day ago (rate limits look back one day)."""
    cutoff = timezone.now() - timezone.timedelta(days=1)
    deleted, _ = SmsCode.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
