from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import Role
from .permissions import ROLE_PRIORITY


def navigation(request):
    """The role switcher of the navigation bar: one entry per role the person holds."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = [role for role in ROLE_PRIORITY if user.has_role(role)]
    items = [{"role": role, "label": role.label, "url": reverse("accounts:dashboard_role", args=[role.value])} for role in roles]
    if any(role in roles for role in (Role.UNIT_ADMIN, Role.CITY_ADMIN, Role.PROVINCE_ADMIN)):
        items.append({"label": _("账号移交"), "url": reverse("accounts:handover")})
        items.append({"label": _("联系方式"), "url": reverse("support:contacts")})
        items.append({"label": _("问题反馈记录"), "url": reverse("support:reports")})
    # 问题反馈 goes to the learner's unit admins: offered to those who learn (DESIGN.md §3), not to staff alone.
    return {"nav_roles": items, "can_report_problem": Role.LEARNER in roles}
