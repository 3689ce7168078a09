"""What people are told of, and by which channels (the README's notification matrix comes from here).

Every kind goes to the inbox. E-mail and SMS go out where the kind allows the channel AND the person chose
it on their profile (and has an address). Items waiting for a reviewer who chose the daily digest are held
and sent as one message a day instead (SMS only ever as that digest's one line).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    CERTIFICATE_READY = "certificate_ready", _("证书已生成")
    DECIDED = "decided", _("审核结果（名单、学分、举办申请）")
    RETURNED = "returned", _("退回修改（附理由）")
    DEADLINE = "deadline", _("截止前三天提醒与逾期")
    CORRECTION_DECIDED = "correction_decided", _("学分更正结果")
    ACCOUNT_HANDED_OVER = "account_handed_over", _("现场账号移交")
    PROGRESS = "progress", _("审核进度")
    REVIEW_WAITING = "review_waiting", _("有待我审核的事项")
    PROBLEM_REPORTED = "problem_reported", _("学员问题反馈")
    PROBLEM_ANSWERED = "problem_answered", _("问题反馈的答复")
    OTHER = "other", _("其他")


class Channel(models.TextChoices):
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")


_PERSONAL = {Channel.EMAIL, Channel.SMS}
# kind → channels besides the inbox that it may use (subject to the person's choice).
MATRIX = {
    Kind.CERTIFICATE_READY: _PERSONAL,
    Kind.DECIDED: _PERSONAL,
    Kind.RETURNED: _PERSONAL,
    Kind.DEADLINE: _PERSONAL,
    Kind.CORRECTION_DECIDED: _PERSONAL,
    Kind.ACCOUNT_HANDED_OVER: _PERSONAL,
    Kind.PROGRESS: set(),
    Kind.REVIEW_WAITING: {Channel.EMAIL},
    Kind.PROBLEM_REPORTED: {Channel.EMAIL},
    Kind.PROBLEM_ANSWERED: _PERSONAL,
    Kind.OTHER: _PERSONAL,
}
# Kinds a reviewer may take as one daily digest instead of a message per item.
DIGESTIBLE = {Kind.REVIEW_WAITING}


def channels(kind):
    return MATRIX.get(kind, _PERSONAL)
