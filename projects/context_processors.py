from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cme_portal.accounts.models import Role
from cme_portal.review.registry import queue_links

from .models import Session


def navigation(request):
    """Project links for the navigation bar; queue counts come from the review registry (one query a page)."""
    user = getattr(request, "user", None)
    links = [
        {"label": _("项目查询"), "url": reverse("projects:public_search")},
        {"label": _("证书查询"), "url": reverse("certificates:query")},
    ]
    if user is not None and user.is_authenticated:
        if user.has_role(Role.ORGANISER):
            links.append({"label": _("我的举办申请"), "url": reverse("projects:my_sessions")})
        links += queue_links(request, Session)
        if user.has_role(Role.PROVINCE_ADMIN):
            links.append({"label": _("学科目录"), "url": reverse("projects:discipline_list")})
            links.append({"label": _("项目导入导出"), "url": reverse("projects:project_import")})
            links.append({"label": _("异地备案协办单位"), "url": reverse("projects:co_organisers")})
    return {"project_nav": links, "project_nav_total": sum(link.get("count", 0) for link in links)}
