from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("学分证书")

    def ready(self):
        from cme_portal.accounts.services import profile_changed

        from .tasks import rerender_learner

        def rerender(sender, user_id, **kwargs):
            rerender_learner.delay_on_commit(user_id)

        profile_changed.connect(rerender, weak=False, dispatch_uid="certificates.rerender")
