from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("学分证书")

    def ready(self):
        from django.core import checks

        from .signing import signing_key_check

        checks.register(signing_key_check, checks.Tags.security, deploy=True)

        from cme_portal.accounts.services import profile_changed
        from credits.signals import credits_awarded, credits_reversed

        from .models import Certificate, CertificateStatus
        from .services import revoke_reversed
        from .tasks import rerender_learner, send_render_tasks

        def rerender(sender, user_id, **kwargs):
            from cme_portal.queueing import enqueue

            enqueue(rerender_learner, user_id)

        def render_awarded(sender, record_ids, replaces=(), **kwargs):
            # A correction never brings back a certificate the province had revoked.
            if replaces and Certificate.objects.filter(record_id__in=replaces, status=CertificateStatus.REVOKED).exists():
                return
            send_render_tasks(record_ids)

        profile_changed.connect(rerender, weak=False, dispatch_uid="certificates.rerender")
        credits_awarded.connect(render_awarded, weak=False, dispatch_uid="certificates.render_awarded")

        def revoke_with_credits(sender, record_ids, reason, actor_id=None, **kwargs):
            revoke_reversed(record_ids, reason, actor_id)

        credits_reversed.connect(revoke_with_credits, weak=False, dispatch_uid="certificates.revoke_reversed")

        from celery.signals import worker_process_init

        from .services import warm_up

        # Fonts, key and catalogue loaded when a worker process starts, not by the first certificate of a batch.
        worker_process_init.connect(lambda **kwargs: warm_up(), weak=False, dispatch_uid="certificates.warm_up")
