from celery import shared_task
from django.core.mail import send_mail
from django.utils.translation import gettext as _

from cme_portal.accounts.models import User
from cme_portal.accounts.tasks import send_sms

from .models import Notification, ReviewEvent


@shared_task
def deliver_review_notifications(event_id):
    """Tell the people a review event concerns: an inbox row each, and an e-mail
    where they gave an address. Safe to run twice (one row per person and event)."""
    event = ReviewEvent.objects.select_related("content_type").get(pk=event_id)
    subject = event.subject
    if subject is None:
        return 0
    workflow = type(subject).workflow
    transition = workflow.get(event.action)
    message = _("%(kind)s“%(name)s”：%(action)s") % {
        "kind": subject._meta.verbose_name,
        "name": str(subject),
        "action": transition.label,
    }
    if event.reason:
        message += _("（理由：%(reason)s）") % {"reason": event.reason}
    link = subject.get_absolute_url() if hasattr(subject, "get_absolute_url") else ""
    created = 0
    for user in User.objects.filter(pk__in=workflow.recipients(subject, transition)).exclude(pk=event.actor_id):
        _note, is_new = Notification.objects.get_or_create(
            user=user, event=event, defaults={"message": message[:300], "link": link}
        )
        if not is_new:
            continue
        created += 1
        if user.email:
            send_mail(_("继续医学教育平台通知"), message, None, [user.email])
        if event.reason and user.mobile and user.pk == getattr(subject, f"{workflow.owner_field}_id"):
            # A return for revision is worth a text: the applicant has work to do.
            send_sms.delay(user.mobile, _("【继续医学教育】") + message)
    return created
