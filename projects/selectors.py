"""Reads of the projects app: the loaders that check scope, and the lists with their filters.

Services push, selectors pull. Every view that takes a session or material id
goes through a loader here; outside the viewer's scope it answers 404.
"""

from django.db.models import Count
from django.shortcuts import get_object_or_404

from cme_portal.accounts.models import OrgKind, Role

from .filters import MySessionFilter, PublicProjectFilter
from .models import Entry, Material, Project, ProjectStatus, Session, SessionState


def sessions():
    """Sessions with what every list and page of them shows."""
    return Session.objects.select_related("project", "project__discipline__parent", "unit", "organiser")


def get_session(user, pk, *, own=False, approved=False):
    """The session ``pk`` if ``user`` may see it: its organiser, or a unit or province admin
    whose node holds it (DESIGN.md §3). ``own``: only its organiser; ``approved``: only
    once approved. Anything else is 404."""
    queryset = sessions().visible_to(user)
    if own:
        queryset = queryset.filter(organiser_id=user.pk)
    if approved:
        queryset = queryset.filter(state=SessionState.APPROVED)
    return get_object_or_404(queryset, pk=pk)


def get_material(user, public_id):
    """A hosting application's file, for the people who may see the application; else 404."""
    return get_object_or_404(Material.objects.filter(session__in=Session.objects.visible_to(user)), public_id=public_id)


def organiser_unit(user):
    """The unit an organiser files for (their node, or the unit above their department)."""
    node = user.scope_nodes(Role.ORGANISER).select_related("parent").first()
    if node is None:
        return None
    return node.parent if node.kind == OrgKind.DEPARTMENT else node


def hostable_projects(organiser):
    """Projects the organiser's unit may hold: its published projects of the catalogue."""
    unit = organiser_unit(organiser)
    if unit is None:
        return Project.objects.none()
    return Project.objects.filter(holding_unit=unit, status=ProjectStatus.PUBLISHED).exclude(entry=Entry.REMOTE_FILED)


def my_sessions(user, *, filters):
    """The organiser's applications, newest first, filtered; returns the FilterSet (``.qs``, ``.form``)."""
    return MySessionFilter(filters, queryset=sessions().filter(organiser=user).order_by("-created_at"))


def my_state_counts(user):
    return dict(Session.objects.filter(organiser=user).values_list("state").annotate(n=Count("pk")).order_by())


def public_projects(*, filters):
    """The anonymous project query; returns the FilterSet."""
    return PublicProjectFilter(filters, queryset=Project.objects.select_related("discipline__parent", "holding_unit"))


def public_project(pk):
    project = get_object_or_404(Project.objects.select_related("discipline__parent", "holding_unit"), pk=pk)
    held = project.sessions.filter(state__in=[SessionState.APPROVED, SessionState.FILED]).order_by("sequence")
    return project, held
