from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cme_portal.accounts.models import Role

from .models import ROSTER_WORKFLOW, Roster


def navigation(request):
    """Roster queue links, with the number waiting, added to the projects menu."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    links = []
    for role, level, label in ((Role.UNIT_ADMIN, "unit", _("学员名单确认")), (Role.PROVINCE_ADMIN, "province", _("学员名单审批"))):
        if user.has_role(role):
            links.append({"label": label, "url": reverse("attendance:roster_queue", args=[level]),
                          "count": ROSTER_WORKFLOW.queue(Roster.objects, user, role).count(), "role": role})
    if user.has_role(Role.PROVINCE_ADMIN):
        links.append({"label": _("调查问卷模板"), "url": reverse("attendance:survey_templates")})
    return {"attendance_nav": links, "attendance_nav_total": sum(link.get("count", 0) for link in links)}
