"""Reads of the projects app: the loaders that check scope, and the lists with their filters.

Services push, selectors pull. Every view that takes a session or material id
goes through a loader here; outside the viewer's scope it answers 404.
"""

from django.db.models import Count, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404

from cme_portal.accounts.models import Organisation, OrgKind, Role
from cme_portal.review.models import ReviewEvent

from .filters import MySessionFilter, PublicProjectFilter
from .models import CatalogueImport, Entry, ImportState, Material, Project, ProjectStatus, Session, SessionState


def with_last_review(queryset):
    """Annotate each session with its latest review event (seed 001's 审核理由 column), in the same query."""
    last = ReviewEvent.objects.filter(
        content_type__app_label="projects", content_type__model="session", object_id=OuterRef("pk")
    ).order_by("-created_at", "-pk")
    return queryset.annotate(
        last_reason=Subquery(last.values("reason")[:1]),
        last_role=Subquery(last.values("actor_role")[:1]),
        last_state=Subquery(last.values("to_state")[:1]),
    )


def sessions():
    """Sessions with what every list and page of them shows (审核理由 included)."""
    return with_last_review(Session.objects.select_related("project", "project__discipline__parent", "unit", "organiser"))


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


def remote_filed_imports():
    """Imports of the remote-filed list that went through, the one in force first."""
    return CatalogueImport.objects.filter(entry=Entry.REMOTE_FILED, state=ImportState.DONE).order_by("-finished_at", "-pk")


def remote_filed_as_of():
    """The as-of date of the remote-filed list in force (seed 004: 异地备案项目（截止11月16日）), or None."""
    return remote_filed_imports().values_list("as_of", flat=True).first()


def remote_filed_projects(*, unmatched_first=True):
    """Remote-filed projects with their co-organiser unit (or the candidates to confirm)."""
    queryset = Project.objects.filter(entry=Entry.REMOTE_FILED).select_related("co_organiser_unit")
    return queryset.order_by("co_organiser_unit", "-year", "number_key") if unmatched_first else queryset


def candidate_units(projects):
    """{project id: [units]} for the candidates stored on each project, in one query."""
    ids = {pk for project in projects for pk in project.co_organiser_candidates}
    units = {unit.pk: unit for unit in Organisation.objects.filter(pk__in=ids)}
    return {project.pk: [units[pk] for pk in project.co_organiser_candidates if pk in units] for project in projects}


def get_remote_filed(pk):
    if not str(pk).isdigit():
        raise Http404
    return get_object_or_404(Project, pk=pk, entry=Entry.REMOTE_FILED)


def unit_in_province(user, *, unit_id="", name=""):
    """A unit of the province admin's province, by exact name (typed) or by id (a candidate picked); else None."""
    units = Organisation.objects.filter(user.scope_q(Role.PROVINCE_ADMIN, "path"), kind=OrgKind.UNIT)
    if name.strip():
        return units.filter(name=name.strip()).first()
    if str(unit_id).isdigit():
        return units.filter(pk=unit_id).first()
    return None


def recent_imports(user, limit=10):
    return CatalogueImport.objects.filter(requested_by=user)[:limit]


def get_import(user, public_id):
    """An import for the province admin who asked for it; else 404."""
    return get_object_or_404(CatalogueImport, public_id=public_id, requested_by=user)
