from celery import shared_task
from django.conf import settings

from . import services


@shared_task
def send_delivery(delivery_id):
    """Send one outbox delivery (queued after the event commits). Never raises: a failure is recorded on the
    row and retried with back-off here, and by the sweeper should this retry be lost."""
    result = services.deliver(delivery_id)
    if result == "retry" and not settings.CELERY_TASK_ALWAYS_EAGER:
        from .models import Delivery

        attempts = Delivery.objects.filter(pk=delivery_id).values_list("attempts", flat=True).first() or 1
        try:
            send_delivery.apply_async((delivery_id,), countdown=services.backoff(attempts))
        except Exception:  # broker down: the sweeper will find the row pending
            pass
    return result


@shared_task
def sweep_deliveries():
    """Every minute (Celery beat): send deliveries still pending whose time has come."""
    return services.sweep()


@shared_task
def send_daily_digests():
    """Every morning (Celery beat): reviewers who chose the digest get one message for the day's items."""
    return services.send_digests()
