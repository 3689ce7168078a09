from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "cme_portal.notifications"
    label = "notifications"
    verbose_name = _("通知发送")

    def ready(self):
        # Declared here, so a worker or a management command tells people exactly what a web request would.
        from cme_portal.review.signals import event_recorded

        from . import receivers

        event_recorded.connect(receivers.review_event, dispatch_uid="notifications.review_event")
        receivers.connect_certificates()
