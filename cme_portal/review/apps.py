from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewConfig(AppConfig):
    name = "cme_portal.review"
    label = "review"
    verbose_name = _("审核与通知")

    def ready(self):
        from cme_portal.accounts.services import account_handed_over

        from . import receivers

        account_handed_over.connect(receivers.tell_the_new_holder, dispatch_uid="review.tell_the_new_holder")
