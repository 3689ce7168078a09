from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """Who changed what, beyond review transitions (which have their own events): django-auditlog on the
    province's and units' settings, plus explicit events (imports, revocations) — see services.py."""

    name = "cme_portal.audit"
    label = "audit"
    verbose_name = _("操作日志")

    def ready(self):
        from . import services

        services.register_models()
