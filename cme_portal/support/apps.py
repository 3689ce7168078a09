from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "cme_portal.support"
    label = "support"
    verbose_name = _("帮助与问题反馈")
