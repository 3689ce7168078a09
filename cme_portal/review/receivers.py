"""Inbox messages for effects other apps signal (connected in ReviewConfig.ready)."""

from django.utils.translation import gettext as _

from cme_portal.accounts.validators import mask_mobile

from .models import Notification


def tell_the_new_holder(sender, handover, **kwargs):
    """An account was handed over: its holder finds how to claim it in the inbox."""
    Notification.objects.create(
        user=handover.user,
        message=_("您的账号已由%(admin)s核验证件后移交本人，绑定手机号 %(mobile)s。请用该手机号“注册”认领账号并设置密码。")
        % {"admin": handover.by.name, "mobile": mask_mobile(handover.to_mobile)},
    )
