from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cme_portal.accounts.models import Role
from cme_portal.review.registry import queue_links

from .models import Roster


def navigation(request):
    """Roster queue links (counts from the review registry) and the province's survey templates."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    links = queue_links(request, Roster)
    if user.has_role(Role.LEARNER):
        links.append({"label": _("我的签到码"), "url": reverse("attendance:my_code")})
    if user.has_role(Role.PROVINCE_ADMIN):
        links.append({"label": _("调查问卷模板"), "url": reverse("attendance:survey_templates")})
        links.append({"label": _("签到规则"), "url": reverse("attendance:door_policy")})
    return {"attendance_nav": links, "attendance_nav_total": sum(link.get("count", 0) for link in links)}
