"""Events of other apps, told to the people they concern (connected in NotificationsConfig.ready)."""

from django.db.models.signals import post_save
from django.urls import reverse
from django.utils.translation import gettext_noop

from cme_portal.accounts.models import User
from cme_portal.review.workflow import OWNER

from .kinds import Kind
from .services import notify, notify_many
from .text import Text


def kind_for(workflow, transition, user_is_reviewer):
    """What a review event is to one recipient: work waiting, a return, a decision or a step on the way."""
    if user_is_reviewer:
        return Kind.REVIEW_WAITING
    later = [t for t in workflow.transitions if transition.target in t.sources and not t.internal]
    if transition.reason_required and any(t.actor == OWNER and not t.confirm for t in later):
        return Kind.RETURNED
    if workflow.name == "correction":
        return Kind.CORRECTION_DECIDED
    if not any(t.actor != OWNER and t.in_queue for t in later):
        return Kind.DECIDED
    return Kind.PROGRESS


def review_event(sender, event, obj, workflow, transition, **kwargs):
    """Inbox rows and deliveries for a review event, in the transition's own transaction."""
    # Shown in the reader's language: the kind and the action by their translations, the name (its brackets
    # are the language's) once per language, the reason as typed.
    parts = {"kind": obj._meta.verbose_name, "name": lambda: str(obj), "action": transition.label}
    if event.reason:
        message = Text(gettext_noop("%(kind)s“%(name)s”：%(action)s（理由：%(reason)s）"), **parts, reason=event.reason)
    else:
        message = Text(gettext_noop("%(kind)s“%(name)s”：%(action)s"), **parts)
    link = obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else ""
    concerned = {getattr(obj, f"{name}_id", None) for name in (workflow.owner_field, *workflow.subject_fields)}
    for user in User.objects.filter(pk__in=workflow.recipients(obj, transition)).exclude(pk=event.actor_id):
        notify(user, kind_for(workflow, transition, user.pk not in concerned), message, link, event=event)


def _certificate_ready(certificate, link):
    """The learner's message about a drawn certificate (user, kind, message, link, key), told once by its key."""
    return (
        certificate.learner,
        Kind.CERTIFICATE_READY,
        Text(
            gettext_noop("您的学分证书已生成：%(name)s（%(number)s），可在“我的证书”查看和下载。"),
            name=certificate.snapshot.get("project_name") or certificate.record.activity_name,
            number=certificate.number or "",
        ),
        link,
        f"certificate:{certificate.pk}",
    )


def _ready(certificate):
    return certificate.rendered_at and certificate.file and certificate.status == "issued"


def certificate_saved(sender, instance, **kwargs):
    """A certificate drawn for the first time: its learner is told once (re-drawing tells nobody again)."""
    if not _ready(instance):
        return
    user, kind, message, link, key = _certificate_ready(instance, reverse("certificates:mine"))
    notify(user, kind, message, link, key=key)


def certificates_drawn(sender, certificates, **kwargs):
    """A chunk of certificates drawn (written in bulk, without post_save): each learner told once, in bulk."""
    link = reverse("certificates:mine")
    notify_many([_certificate_ready(certificate, link) for certificate in certificates if _ready(certificate)])


def connect_certificates():
    from certificates.models import Certificate
    from certificates.signals import certificates_drawn as drawn

    post_save.connect(certificate_saved, sender=Certificate, dispatch_uid="notifications.certificate_saved")
    drawn.connect(certificates_drawn, sender=Certificate, dispatch_uid="notifications.certificates_drawn")


def account_handed_over(sender, handover, **kwargs):
    """An account was handed to the real holder of its number (W9): they find how to claim it, by their channels."""
    from cme_portal.accounts.validators import mask_mobile

    notify(
        handover.user,
        Kind.ACCOUNT_HANDED_OVER,
        Text(
            gettext_noop(
                "您的账号已由%(admin)s核验证件后移交本人，绑定手机号 %(mobile)s。请用该手机号“注册”认领账号并设置密码。"
            ),
            admin=handover.by.name,
            mobile=mask_mobile(handover.to_mobile),
        ),
        key=f"handover:{handover.pk}",
    )
