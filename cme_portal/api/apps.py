from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "cme_portal.api"
    label = "api"
    verbose_name = _("数据接口")

    def ready(self):
        # The OpenAPI description of the bearer tokens (drf-spectacular finds extensions by import).
        from . import schema  # noqa: F401
