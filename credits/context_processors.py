from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cme_portal.accounts.models import Role

from .models import CREDIT_ENTRY_WORKFLOW, CreditEntry

QUEUES = ((Role.UNIT_ADMIN, "unit"), (Role.CITY_ADMIN, "city"), (Role.PROVINCE_ADMIN, "province"))


def navigation(request):
    """Credit links for the navigation bar, with the number of entries waiting at each level."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    links = []
    if user.has_role(Role.LEARNER):
        links.append({"label": _("我的学分"), "url": reverse("credits:my_credits")})
        links.append({"label": _("我的证书"), "url": reverse("certificates:mine")})
    for role, level in QUEUES:
        if user.has_role(role):
            count = CREDIT_ENTRY_WORKFLOW.queue(CreditEntry.objects, user, role).count()
            links.append({"label": _("学分审核"), "url": reverse("credits:queue", args=[level]), "count": count, "role": role})
    if user.has_role(Role.UNIT_ADMIN):
        links.append({"label": _("证书批量下载"), "url": reverse("certificates:bulk")})
        links.append({"label": _("单位统一录入"), "url": reverse("credits:batch_new")})
        links.append({"label": _("提前审核"), "url": reverse("credits:early_review")})
    if any(user.has_role(r) for r in (Role.UNIT_ADMIN, Role.CITY_ADMIN, Role.PROVINCE_ADMIN)):
        links.append({"label": _("达标统计"), "url": reverse("credits:compliance_report")})
    if user.has_role(Role.PROVINCE_ADMIN):
        links.append({"label": _("平台学分导入"), "url": reverse("credits:platform_import")})
        links.append({"label": _("达标规则"), "url": reverse("credits:rules")})
        links.append({"label": _("证书管理"), "url": reverse("certificates:manage")})
    return {"credit_nav": links, "credit_nav_total": sum(link.get("count", 0) for link in links)}
