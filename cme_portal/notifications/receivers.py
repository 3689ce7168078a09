"""Events of other apps, told to the people they concern (connected in NotificationsConfig.ready)."""

from django.db.models.signals import post_save
from django.urls import reverse
from django.utils.translation import gettext_noop

from cme_portal.accounts.models import User
from cme_portal.review.workflow import OWNER

from .kinds import Kind
from .services import notify
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


def certificate_saved(sender, instance, **kwargs):
    """A certificate drawn for the first time: its learner is told once (re-drawing tells nobody again)."""
    if not instance.rendered_at or not instance.file or instance.status != "issued":
        return
    notify(
        instance.learner,
        Kind.CERTIFICATE_READY,
        Text(
            gettext_noop("您的学分证书已生成：%(name)s（%(number)s），可在“我的证书”查看和下载。"),
            name=instance.snapshot.get("project_name") or instance.record.activity_name,
            number=instance.number or "",
        ),
        reverse("certificates:mine"),
        key=f"certificate:{instance.pk}",
    )


def connect_certificates():
    from certificates.models import Certificate

    post_save.connect(certificate_saved, sender=Certificate, dispatch_uid="notifications.certificate_saved")


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
