"""Notifications leave through an outbox: one Delivery per (inbox notification, channel), written in the
transaction of the event itself, sent by a Celery task after commit and re-sent by a periodic sweeper
while still pending. A broker that was down, or an SMS gateway that failed, loses nothing."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .kinds import Channel


class Preference(models.Model):
    """How a person wants to be told, chosen on their profile. No row: the defaults below."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference")
    by_email = models.BooleanField(_("电子邮件通知"), default=True)
    by_sms = models.BooleanField(_("短信通知"), default=True)
    daily_digest = models.BooleanField(
        _("待审核事项每日汇总"), default=False, help_text=_("审核人员：每天汇总一次待审核事项，而不是每项一条")
    )

    class Meta:
        verbose_name = _("通知方式")
        verbose_name_plural = _("通知方式")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("待发送")
    HELD = "held", _("等待每日汇总")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class Delivery(models.Model):
    notification = models.ForeignKey("review.Notification", on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    state = models.CharField(_("状态"), max_length=8, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知发送")
        verbose_name_plural = _("通知发送")
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_once_per_channel"),
            models.CheckConstraint(condition=~Q(state="sent") | Q(sent_at__isnull=False), name="delivery_sent_has_time"),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="delivery_due")]

    def __str__(self):
        return f"{self.notification_id} {self.channel} {self.state}"
