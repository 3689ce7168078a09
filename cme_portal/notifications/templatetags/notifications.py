from django import template

from cme_portal.accounts.models import Role

from ..services import preferences

register = template.Library()

REVIEWER_ROLES = (Role.UNIT_ADMIN, Role.CITY_ADMIN, Role.PROVINCE_ADMIN)


@register.simple_tag
def notification_preferences(user):
    """The person's notification choices, and whether they review (the digest is for reviewers)."""
    prefs = preferences(user)
    return {"prefs": prefs, "reviewer": any(user.has_role(role) for role in REVIEWER_ROLES)}
