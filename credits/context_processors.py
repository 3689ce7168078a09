from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cme_portal.accounts.models import Role
from cme_portal.review.registry import queue_links

from .models import CorrectionRequest, CreditEntry


def navigation(request):
    """Credit links for the navigation bar; queue counts come from the review registry."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    links = []
    if user.has_role(Role.LEARNER):
        links.append({"label": _("我的学分"), "url": reverse("credits:my_credits")})
        links.append({"label": _("我的证书"), "url": reverse("certificates:mine")})
    links += queue_links(request, CreditEntry) + queue_links(request, CorrectionRequest)
    if user.has_role(Role.UNIT_ADMIN):
        links.append({"label": _("证书批量下载"), "url": reverse("certificates:bulk")})
        links.append({"label": _("单位统一录入"), "url": reverse("credits:batch_new")})
        links.append({"label": _("提前审核"), "url": reverse("credits:early_review")})
    if any(user.has_role(r) for r in (Role.UNIT_ADMIN, Role.CITY_ADMIN, Role.PROVINCE_ADMIN)):
        links.append({"label": _("达标统计"), "url": reverse("credits:compliance_report")})
    if user.has_role(Role.PROVINCE_ADMIN):
        links.append({"label": _("平台学分导入"), "url": reverse("credits:platform_import")})
        links.append({"label": _("数据接口令牌"), "url": reverse("integrations:tokens")})
        links.append({"label": _("达标规则"), "url": reverse("credits:rules")})
        links.append({"label": _("学分录入规则与平台"), "url": reverse("credits:entry_policy")})
        links.append({"label": _("证书管理"), "url": reverse("certificates:manage")})
    return {"credit_nav": links, "credit_nav_total": sum(link.get("count", 0) for link in links)}
