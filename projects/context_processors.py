from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cme_portal.accounts.models import Role

from .models import HOSTING_WORKFLOW, Session


def navigation(request):
    """Project links for the navigation bar, with the number waiting in each queue."""
    user = getattr(request, "user", None)
    links = [{"label": _("项目查询"), "url": reverse("projects:public_search")},
             {"label": _("证书查询"), "url": reverse("certificates:query")}]
    if user is not None and user.is_authenticated:
        if user.has_role(Role.ORGANISER):
            links.append({"label": _("我的举办申请"), "url": reverse("projects:my_sessions")})
        for role, level, label in ((Role.UNIT_ADMIN, "unit", _("举办申请确认")), (Role.PROVINCE_ADMIN, "province", _("举办申请审批"))):
            if user.has_role(role):
                count = HOSTING_WORKFLOW.queue(Session.objects, user, role).count()
                links.append({"label": label, "url": reverse("projects:queue", args=[level]), "count": count, "role": role})
        if user.has_role(Role.PROVINCE_ADMIN):
            links.append({"label": _("学科目录"), "url": reverse("projects:discipline_list")})
            links.append({"label": _("项目导入导出"), "url": reverse("projects:project_import")})
    return {"project_nav": links, "project_nav_total": sum(link.get("count", 0) for link in links)}
