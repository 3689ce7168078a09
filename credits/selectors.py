"""Reads of the credits app: entries through the viewer's scope, the ledger, the unit's learners."""

from dataclasses import dataclass
from datetime import date
from functools import cached_property

from django.db.models import Exists, Max, Min, OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404

from cme_portal.accounts.models import LearnerProfile, Organisation, OrgKind, Role, User
from projects import numbers
from projects.models import Entry, Project, Session
from projects.selectors import remote_filed_imports

from . import compliance
from .filters import ComplianceFilter
from .models import CorrectionRequest, CreditEntry, CreditRecord, EarlyReviewRequest, EntryDeadline, Platform, RecordStatus

REPORT_ROLES = (Role.PROVINCE_ADMIN, Role.CITY_ADMIN, Role.UNIT_ADMIN)


def entries():
    """Credit entries with their learner and unit, whether an early review covers the learner today, and
    what the province's catalogues say of the activity number (W9: shown beside what was typed)."""
    early = EarlyReviewRequest.objects.filter(candidates=OuterRef("learner"), deadline__gte=date.today())
    listed = Project.objects.filter(number_key=OuterRef("activity_key"))
    held = Session.objects.filter(project__number_key=OuterRef("activity_key")).order_by().values("project__number_key")
    return (
        CreditEntry.objects.select_related("learner", "unit")
        .annotate(early=Exists(early))
        .annotate(
            catalogue_name=Subquery(listed.values("name")[:1]),
            catalogue_sponsor=Subquery(listed.values("sponsor")[:1]),
            catalogue_credits=Subquery(listed.values("credits")[:1]),
            catalogue_entry=Subquery(listed.values("entry")[:1]),
            # The remote-filed list's as-of date (seed 004), shown when the number is on that list.
            catalogue_as_of=Subquery(remote_filed_imports().values("as_of")[:1]),
            # The span of all the project's sessions (期数): an entry of a later session is no mismatch.
            catalogue_start=Subquery(held.annotate(first=Min("start_date")).values("first")[:1]),
            catalogue_end=Subquery(held.annotate(last=Max("end_date")).values("last")[:1]),
        )
    )


def get_entry(user, pk, *, own=False):
    """The entry ``pk`` if ``user`` entered it or reviews it within scope (``own``: only the learner); else 404."""
    queryset = entries().visible_to(user)
    if own:
        queryset = queryset.filter(learner_id=user.pk)
    return get_object_or_404(queryset, pk=pk)


def get_evidence(user, public_id):
    """The entry whose evidence PDF ``user`` asks for, within scope; else 404."""
    return get_object_or_404(CreditEntry.objects.visible_to(user), public_id=public_id)


def my_entries(user, limit=50):
    return entries().filter(learner=user).order_by("-created_at")[:limit]


def ledger(learner):
    """The learner's history, newest first, reversals and corrections included."""
    return (
        CreditRecord.objects.filter(learner=learner)
        .select_related("reverses")
        .annotate(is_reversed=Exists(CreditRecord.objects.filter(reverses=OuterRef("pk"))))
        .order_by("-year", "-created_at", "-pk")
    )


def unit_learners(user):
    """Learners of the units under the unit admin's node."""
    return User.objects.filter(user.scope_q(Role.UNIT_ADMIN, "profile__unit__path")).order_by("name")


def get_early_review(user, pk):
    return get_object_or_404(early_reviews(user), pk=pk)


def early_reviews(user):
    return (
        EarlyReviewRequest.objects.filter(user.scope_q(Role.UNIT_ADMIN, "unit__path"))
        .select_related("unit", "requested_by")
        .prefetch_related("candidates")
    )


def report_scope(user):
    """The widest node the person reports on (province, city or unit admin), and the role it comes from."""
    for role in REPORT_ROLES:
        node = user.scope_nodes(role).first()
        if node is not None:
            return node, role
    return None, None


class UnitWindow:
    """The report's learners (ordered by unit, then name) as a sequence for the Paginator that reads only
    the units a page spans: how many learners each unit has under the filters is known from the summary's
    counts, so page 1 and page 10,000 of a province each read a few hundred rows, and the count is exact
    without a COUNT over the province."""

    def __init__(self, queryset, sizes):
        self.queryset = queryset
        self.sizes = [(unit, n) for unit, n in sizes if n]  # (unit_id, learners under the filters), in path order

    def count(self):
        return sum(n for _unit, n in self.sizes)

    def __len__(self):
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return self[key : key + 1][0]
        start, stop = key.start or 0, key.stop if key.stop is not None else self.count()
        units, before, seen = [], None, 0
        for unit, n in self.sizes:
            if seen + n > start and seen < stop:
                units.append(unit)
                before = seen if before is None else before
            seen += n
        if not units:
            return []
        return list(self.queryset.filter(unit_id__in=units)[start - before : stop - before])


@dataclass
class ComplianceReport:
    form: object
    node: Organisation
    year: int
    learners: object  # LearnerProfile queryset with c1, c2, national5, advanced, compliant
    summary_node: Organisation
    rules: dict
    filters: dict = None

    @cached_property
    def counts(self):
        """{(unit_id, staff_category): (learners, compliant)} under the unit filter: two GROUP BYs."""
        return compliance.unit_counts(self.summary_node, self.year, self.rules)

    def summary(self):
        return compliance.unit_summary(self.summary_node, self.year, self.rules, counts=self.counts)

    def rows(self, summary=None):
        """What the learners' list pages through: the counted window, or (a name or number searched,
        which the counts do not know) the queryset itself."""
        filters = self.filters or {}
        if (filters.get("q") or "").strip():
            return self.learners
        category, compliant = filters.get("staff_category"), filters.get("compliant")
        sizes = {}
        for (unit, staff_category), (n, ok) in self.counts.items():
            if category and staff_category != category:
                continue
            chosen = ok if compliant == "yes" else n - ok if compliant == "no" else n
            sizes[unit] = sizes.get(unit, 0) + chosen
        order = [row.unit.pk for row in (summary if summary is not None else self.summary())]
        return UnitWindow(self.learners, [(unit, sizes.get(unit, 0)) for unit in order])


CHART_UNITS = 20


def chart_rows(summary, limit=CHART_UNITS):
    """The units the compliance chart draws: the lowest rates first (the ones to call), at most ``limit`` of
    them so that a province of a thousand units still draws readable bars (the page's heading says how many
    units there are in all)."""
    return sorted(summary, key=lambda row: (row.rate, -row.learners, row.unit.path))[:limit]


def compliance_report(user, *, filters):
    """W6 for admins: the learners of the person's subtree (or one unit of it) with their sums and verdicts."""
    node, _role = report_scope(user)
    units = Organisation.objects.filter(path__startswith=node.path, kind=OrgKind.UNIT).order_by("path")
    found = ComplianceFilter(filters, queryset=LearnerProfile.objects.none(), units=units)
    cleaned = found.form.cleaned_data if found.form.is_valid() else {}
    year = compliance.sane_year(cleaned.get("year"), date.today().year)
    rules = compliance.rules_for(compliance.province_of(node), year)
    scope_node = cleaned.get("unit") or node
    found.queryset = compliance.learners_with_compliance(scope_node, year, rules).select_related("user", "unit")
    return ComplianceReport(
        form=found.form,
        node=node,
        year=year,
        learners=found.qs,
        summary_node=scope_node,
        rules=rules,
        filters=getattr(found.form, "cleaned_data", {}),
    )


# --- corrections ----------------------------------------------------------------------------


def corrections():
    return CorrectionRequest.objects.select_related("record", "learner", "unit", "requested_by")


def get_correction(user, pk):
    """A correction request for the person who filed it, the learner it concerns, or the province in scope; else 404."""
    visible = CorrectionRequest.objects.visible_to(user).values("pk")
    return get_object_or_404(corrections().filter(Q(pk__in=visible) | Q(learner_id=user.pk)), pk=pk)


def get_correctable_record(user, pk):
    """A ledger row that stands, of the learner themself or of a learner of the unit admin's units; else 404."""
    rows = CreditRecord.objects.filter(status=RecordStatus.EFFECTIVE, reversed_by__isnull=True).filter(
        Q(learner_id=user.pk) | user.scope_q(Role.UNIT_ADMIN, "learner__profile__unit__path")
    )
    return get_object_or_404(rows.select_related("learner"), pk=pk)


def my_corrections(user, limit=20):
    return corrections().filter(Q(learner=user) | Q(requested_by=user)).order_by("-created_at")[:limit]


def entry_deadlines(province):
    return EntryDeadline.objects.filter(province=province).order_by("-year")


def platforms():
    return Platform.objects.order_by("-active", "name")


def co_organised_project(unit_admin, activity_key):
    """The remote-filed project ``activity_key`` names, if the admin's unit is its in-province co-organiser."""
    if not activity_key:
        return None
    project = Project.objects.filter(number_key=activity_key, entry=Entry.REMOTE_FILED, co_organiser_unit__isnull=False).first()
    if project and unit_admin.in_scope(Role.UNIT_ADMIN, project.co_organiser_unit.path):
        return project
    return None


def co_organised_projects(unit_admin):
    """The remote-filed projects the admin's unit co-organises (seed 004: it reports their attendees' credits)."""
    return Project.objects.filter(
        entry=Entry.REMOTE_FILED, co_organiser_unit__in=unit_admin.scope_nodes(Role.UNIT_ADMIN)
    ).order_by("-year", "number_key")


def batch_learners(user, activity_number=""):
    """Whom a unit admin may enter a batch for: the unit's learners, or every learner when the activity is a
    remote-filed project the unit co-organises (seed 004: the co-organiser reports all attendees)."""
    key = ""
    if activity_number:
        try:
            key = numbers.canonical(activity_number)
        except Exception:
            key = ""
    if key and co_organised_project(user, key) is not None:
        return User.objects.filter(roles__role=Role.LEARNER).distinct().order_by("name")
    return unit_learners(user)


def get_platform(pk):
    if not str(pk).isdigit():
        raise Http404
    return get_object_or_404(Platform, pk=pk)


def entry_categories(user, role=None):
    """The categories ``user`` may enter by hand: the province's (its TCM switch, seed 004) of their unit,
    or of the unit they administer (``role``)."""
    from .rules import enterable_categories

    if role is not None:
        node = user.scope_nodes(role).first()
    else:
        profile = LearnerProfile.objects.filter(user=user).select_related("unit").first()
        node = profile.unit if profile else None
    return enterable_categories(compliance.province_of(node) if node is not None else None)
