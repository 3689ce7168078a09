"""Reads of accounts: a person's own profile, the organisation nodes in an admin's scope and their contacts."""

from django.db.models import Q
from django.shortcuts import get_object_or_404

from .models import LearnerProfile, Organisation, OrgKind, Role, User


def profile_of(user):
    """The person's learner profile with its unit, or None."""
    return LearnerProfile.objects.filter(user=user).select_related("unit").first()


def own_profile(user):
    """The person's profile, made empty on first visit (the profile page edits it)."""
    profile, _created = LearnerProfile.objects.get_or_create(user=user)
    return profile


def recent_handovers(admin, limit=20):
    """Hand-overs this admin made, newest first (a province admin sees every one)."""
    from .models import AccountHandover

    rows = AccountHandover.objects.select_related("user", "by")
    if not admin.has_role(Role.PROVINCE_ADMIN):
        rows = rows.filter(by=admin)
    return rows[:limit]


# --- Organisation nodes and their contacts (issue 13: help where people get stuck) ---------------

ADMIN_ROLES = (Role.PROVINCE_ADMIN, Role.CITY_ADMIN, Role.UNIT_ADMIN)


def contact_nodes(user):
    """The provinces, cities, districts and units whose contact ``user`` may edit: the subtree of each admin
    role held (a unit admin: their own unit). Departments have no office of their own."""
    condition = Q(pk__in=[])
    for role in ADMIN_ROLES:
        condition |= user.scope_q(role, "path")
    return Organisation.objects.filter(condition).exclude(kind=OrgKind.DEPARTMENT).order_by("path")


def get_contact_node(user, pk):
    """The loader for organisation nodes: the node ``pk`` if ``user`` may edit its contact, else 404."""
    return get_object_or_404(contact_nodes(user), pk=pk)


def unit_picked(value):
    """The unit a form's posted ``value`` (a node id) names, or None."""
    value = str(value or "").strip()
    if not value.isdigit() or len(value) > 18:
        return None
    return Organisation.objects.filter(pk=int(value), kind=OrgKind.UNIT).first()


def contact_for(*, learner=None, unit=None, session=None):
    """The node a stuck learner should call: the learner's own unit if known, else ``unit`` (one chosen on a
    form), else the session's organising unit, else the province. The first of these with a contact, or the
    nearest node above it that has one (a unit without its own phone sends people to its city, then the
    province). Returns an Organisation, or None when no node of the tree has a contact at all. Two queries."""
    node = None
    if learner is not None and getattr(learner, "is_authenticated", True) and learner.pk:
        profile = profile_of(learner)
        node = profile.unit if profile and profile.unit_id else None
    if node is None and unit is not None:
        node = unit
    if node is None and session is not None and session.unit_id:
        node = Organisation.objects.filter(pk=session.unit_id).first()
    if node is None:
        return Organisation.objects.filter(kind=OrgKind.PROVINCE).exclude(contact_phone="").order_by("pk").first()
    for candidate in reversed(list(node.ancestors())):
        if candidate.has_contact:
            return candidate
    return None


def account_named(identifier):
    """The account a document number or mobile names, or None."""
    return User.objects.find_by_identifier(identifier)


def public_contacts():
    """The province's and the cities' offices, for the help page of anyone (anonymous visitors included)."""
    return (
        Organisation.objects.filter(kind__in=[OrgKind.PROVINCE, OrgKind.CITY])
        .exclude(contact_phone="", office_address="")
        .order_by("path")
    )
