from django.urls import reverse

from .permissions import ROLE_PRIORITY


def navigation(request):
    """The role switcher of the navigation bar: one entry per role the person holds."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = [role for role in ROLE_PRIORITY if user.has_role(role)]
    return {
        "nav_roles": [
            {"role": role, "label": role.label, "url": reverse("accounts:dashboard_role", args=[role.value])} for role in roles
        ],
    }
