from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "cme_portal.notifications"
    label = "notifications"
    verbose_name = _("通知发送")

    def ready(self):
        # Declared here, so a worker or a management command tells people exactly what a web request would.
        from cme_portal.accounts.services import account_handed_over
        from cme_portal.review.signals import event_recorded

        from . import receivers

        event_recorded.connect(receivers.review_event, dispatch_uid="notifications.review_event")
        account_handed_over.connect(receivers.account_handed_over, dispatch_uid="notifications.account_handed_over")
        receivers.connect_certificates()
