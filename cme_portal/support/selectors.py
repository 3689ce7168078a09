"""Reads of the help pages: the guides a person sees (their own role first), who receives a learner's
problem report, and the loader of a report (its reporter and the admins of the node it went to)."""

from django.db.models import Q
from django.shortcuts import get_object_or_404

from cme_portal.accounts.models import Organisation, OrgKind, Role, RoleAssignment
from cme_portal.accounts.permissions import ROLE_PRIORITY, primary_role
from cme_portal.accounts.selectors import profile_of

from .filters import ProblemReportFilter
from .guides import GUIDES
from .models import ProblemReport

# Which admins answer for a node of each kind: the nearest node up the tree that has any receives the report.
ANSWERING_ROLE = {
    OrgKind.UNIT: Role.UNIT_ADMIN,
    OrgKind.DISTRICT: Role.CITY_ADMIN,
    OrgKind.CITY: Role.CITY_ADMIN,
    OrgKind.PROVINCE: Role.PROVINCE_ADMIN,
}


def guides_for(user):
    """[(role, guides)] for ``user``: the primary role's first, then the other roles held (widest first).
    Anonymous visitors and people with no role get the learner's guides."""
    if not user.is_authenticated:
        return [(Role.LEARNER, GUIDES[Role.LEARNER])]
    held = [role for role in ROLE_PRIORITY if user.has_role(role)]
    first = primary_role(user) or Role.LEARNER
    order = [first] + [role for role in held if role != first]
    return [(role, GUIDES[role]) for role in order]


def report_destination(reporter):
    """(node, admins) a problem report of ``reporter`` goes to: their unit's unit admins; a unit with none
    sends it up to its city's (or district's) admins and then the province's; a learner without a unit
    reaches the province's admins (of the province of their region, else the first province)."""
    profile = profile_of(reporter)
    start = profile.unit if profile and profile.unit_id else None
    if start is None and profile and profile.region_id:
        start = profile.region.ancestor_of_kind(OrgKind.PROVINCE)
    if start is None:
        start = Organisation.objects.filter(kind=OrgKind.PROVINCE).order_by("pk").first()
    if start is None:
        return None, []
    nodes = list(reversed(list(start.ancestors())))
    admins = {}
    for assignment in RoleAssignment.objects.filter(org__in=nodes, role__in=set(ANSWERING_ROLE.values())).select_related("user"):
        if assignment.user.is_active:
            admins.setdefault((assignment.org_id, assignment.role), []).append(assignment.user)
    for node in nodes:
        found = admins.get((node.pk, ANSWERING_ROLE.get(node.kind)))
        if found:
            return node, sorted(found, key=lambda user: user.pk)
    return nodes[-1], []


ADMIN_ROLES = (Role.UNIT_ADMIN, Role.CITY_ADMIN, Role.PROVINCE_ADMIN)


def _in_admin_scope(user):
    scope = Q(pk__in=[])
    for role in ADMIN_ROLES:
        scope |= user.scope_q(role, "org__path")
    return scope


def is_admin(user):
    return user.is_authenticated and any(user.has_role(role) for role in ADMIN_ROLES)


def visible_reports(user):
    """The problem reports ``user`` may read, newest first: their own, and those sent to a node in the scope
    of an admin role they hold."""
    reports = ProblemReport.objects.filter(Q(reporter=user) | _in_admin_scope(user))
    return reports.select_related("reporter", "org", "answered_by").order_by("-created_at", "-pk")


def report_list(user, *, filters):
    """问题反馈记录: the reports ``user`` may read, searched and filtered (a FilterSet; ``.qs`` is the list)."""
    return ProblemReportFilter(filters, queryset=visible_reports(user))


def can_answer(user, report):
    """Whether ``user`` may answer ``report``: an admin whose scope holds the office it went to (not its reporter
    as such), while it is unanswered."""
    return not report.answered and any(user.in_scope(role, report.org.path) for role in ADMIN_ROLES)


def get_answerable_report(user, pk, *, lock=False):
    """The loader of a report to answer: an admin in scope of the office it went to; 404 else (its reporter too)."""
    reports = ProblemReport.objects.filter(_in_admin_scope(user)).select_related("reporter", "org")
    return get_object_or_404(reports.select_for_update(of=("self",)) if lock else reports, pk=pk)


def get_report(user, pk):
    """The loader of a problem report: its reporter, or an admin whose scope holds the node it went to; 404 else."""
    return get_object_or_404(visible_reports(user), pk=pk)
