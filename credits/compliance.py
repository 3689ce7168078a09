"""Compliance (达标, W6): rules, a learner's progress, and reports for a subtree.

Reports read the per-learner-per-year totals (LearnerYearTotal, kept by the
ledger's trigger in the same transaction as every ledger row: credits/totals.py),
never the ledger itself, so a province of 500,000 learners costs one pass over
one year's totals. The per-unit figures are one GROUP BY over that table plus one
over the profiles; the learners' list joins one totals row per learner. Nothing
loops over learners in Python. ``learners_from_ledger`` keeps the old GROUP BY
over the ledger as the recomputation the totals are checked against.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import BooleanField, Case, Count, DecimalField, F, FilteredRelation, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Least
from django.db.models.lookups import GreaterThanOrEqual

from cme_portal.accounts.models import LearnerProfile, Organisation, OrgKind, StaffCategory

from .models import Category, CreditLevel, LearnerYearTotal, RequirementRule

NATIONAL_LEVELS = [CreditLevel.NATIONAL, CreditLevel.OUT_OF_PROVINCE_NATIONAL]
ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=7, decimal_places=1))


def national_defaults(staff_category):
    """The 2006 national rules: 25 a year, 5–10 Class I, 15–20 Class II; provincial-level
    and tertiary staff also 10 national-project credits in five years."""
    return {
        "min_total": Decimal("25"),
        "min_class_i": Decimal("5"),
        "max_class_i": Decimal("10"),
        "min_class_ii": Decimal("15"),
        "max_class_ii": Decimal("20"),
        "advanced_study_months": 6,
        "five_year_national": Decimal("10") if staff_category == StaffCategory.SENIOR_TERTIARY else Decimal("0"),
    }


def sane_year(value, default):
    """A year from user input, or ``default`` when it is missing or far from today."""
    from datetime import date

    try:
        year = int(value)
    except (TypeError, ValueError):
        return default
    return year if abs(year - date.today().year) <= 10 else default


def rules_for(province, year):
    """The rules of ``province`` for ``year``, one per staff category, the national defaults filled in."""
    rules = {}
    for category in StaffCategory.values:
        rules[category], _ = RequirementRule.objects.get_or_create(
            province=province, year=year, staff_category=category, defaults=national_defaults(category)
        )
    return rules


def province_of(node):
    return node if node.kind == OrgKind.PROVINCE else node.ancestor_of_kind(OrgKind.PROVINCE)


# --- one learner -----------------------------------------------------------------


@dataclass
class Bar:
    label: str
    value: Decimal
    target: Decimal
    # The most of this class that counts toward the year's total (W6: the classes do not substitute).
    cap: Decimal | None = None

    @property
    def over_cap(self):
        """Credits of this class beyond what counts toward the year's total (shown, so 29 / 5 does not mislead)."""
        return self.value - self.cap if self.cap is not None and self.value > self.cap else Decimal("0")

    @property
    def percent(self):
        return 100 if not self.target else min(100, int(self.value / self.target * 100))

    @property
    def met(self):
        return self.value >= self.target


@dataclass
class Progress:
    year: int
    rule: RequirementRule
    class_i: Decimal
    class_ii: Decimal
    counted: Decimal
    advanced_months: int
    national_five_years: Decimal
    compliant: bool
    bars: list


def learner_progress(learner, year, rule):
    """The learner's standing against ``rule`` in ``year``: sums, bars and the verdict (one row read)."""
    sums = (LearnerYearTotal.objects.filter(learner=learner, year=year).values("c1", "c2", "national5", "advanced").first()) or {
        "c1": Decimal("0"),
        "c2": Decimal("0"),
        "national5": Decimal("0"),
        "advanced": 0,
    }
    advanced, national = sums["advanced"], sums["national5"]
    c1, c2 = sums["c1"], sums["c2"]
    counted = min(c1, rule.max_class_i) + min(c2, rule.max_class_ii)
    five_ok = national >= rule.five_year_national
    compliant = (advanced >= rule.advanced_study_months) or (
        c1 >= rule.min_class_i and c2 >= rule.min_class_ii and counted >= rule.min_total
    )
    compliant = compliant and five_ok
    from django.utils.translation import gettext as _

    bars = [
        Bar(_("年度学分（计入）"), counted, rule.min_total),
        Bar(_("I 类学分"), c1, rule.min_class_i, cap=rule.max_class_i),
        Bar(_("II 类学分"), c2, rule.min_class_ii, cap=rule.max_class_ii),
    ]
    if rule.five_year_national:
        bars.append(Bar(_("五年内国家级项目学分"), national, rule.five_year_national))
    return Progress(year, rule, c1, c2, counted, advanced, national, compliant, bars)


# --- a subtree -------------------------------------------------------------------


def counted(rule, c1="c1", c2="c2"):
    """The year's counted credits: each class up to its cap."""
    return Least(F(c1), Value(rule.max_class_i)) + Least(F(c2), Value(rule.max_class_ii))


def verdict(rules, *, category="staff_category", c1="c1", c2="c2", national5="national5", advanced="advanced", aliased=False):
    """The yearly verdict as one SQL expression over the named columns, with each category's rule
    (``aliased``: the queryset carries each category's counted total as ``counted_<category>``)."""
    verdicts = []
    for staff_category, rule in rules.items():
        if aliased:
            total_ok = Q(**{f"counted_{staff_category}__gte": rule.min_total})
        else:
            total_ok = Q(_counted_gte(counted(rule, c1, c2), rule.min_total))
        meets = (
            (Q(**{f"{c1}__gte": rule.min_class_i, f"{c2}__gte": rule.min_class_ii}) & total_ok)
            | Q(**{f"{advanced}__gte": rule.advanced_study_months})
        ) & Q(**{f"{national5}__gte": rule.five_year_national})
        verdicts.append(When(Q(**{category: staff_category}) & meets, then=Value(True)))
    return Case(*verdicts, default=Value(False), output_field=BooleanField())


def _counted_gte(counted, minimum):
    return GreaterThanOrEqual(counted, Value(minimum))


def zero_verdict(rule):
    """The verdict of a learner with no credits at all (no totals row): false unless a rule asks nothing."""
    meets = rule.advanced_study_months <= 0 or (rule.min_class_i <= 0 and rule.min_class_ii <= 0 and rule.min_total <= 0)
    return meets and rule.five_year_national <= 0


def learners_with_compliance(node, year, rules):
    """Learners of units under ``node`` with their sums for ``year`` and a ``compliant`` verdict.

    One query: each profile joined to its one totals row of the year (absent: all zero); filter it
    further with ``compliant=True/False``.
    """
    totals = FilteredRelation("user__year_totals", condition=Q(user__year_totals__year=year))
    queryset = (
        LearnerProfile.objects.filter(unit__path__startswith=node.path)
        .annotate(year_total=totals)
        .annotate(
            c1=Coalesce(F("year_total__c1"), ZERO),
            c2=Coalesce(F("year_total__c2"), ZERO),
            national5=Coalesce(F("year_total__national5"), ZERO),
            advanced=Coalesce(F("year_total__advanced"), Value(0)),
        )
    )
    return _with_verdict(queryset, rules)


def _with_verdict(queryset, rules):
    queryset = queryset.alias(**{f"counted_{category}": counted(rule) for category, rule in rules.items()})
    return queryset.annotate(compliant=verdict(rules, aliased=True))


def learners_from_ledger(node, year, rules):
    """The same as ``learners_with_compliance``, recomputed from the whole ledger (one GROUP BY): what the
    totals are checked against (tests, `manage.py check_compliance_totals`). Grows with the ledger."""
    in_year = Q(user__credit_records__year=year)

    def total(extra):
        return Coalesce(Sum("user__credit_records__credits", filter=in_year & extra), ZERO)

    queryset = LearnerProfile.objects.filter(unit__path__startswith=node.path).annotate(
        c1=total(Q(user__credit_records__credit_class="I")),
        c2=total(Q(user__credit_records__credit_class="II")),
        national5=Coalesce(
            Sum(
                "user__credit_records__credits",
                filter=Q(
                    user__credit_records__year__gt=year - 5,
                    user__credit_records__year__lte=year,
                    user__credit_records__level__in=NATIONAL_LEVELS,
                ),
            ),
            ZERO,
        ),
        advanced=Coalesce(
            Sum(
                "user__credit_records__months",
                filter=in_year & Q(user__credit_records__category=Category.ADVANCED_STUDY),
            ),
            Value(0),
        ),
    )
    return _with_verdict(queryset, rules)


@dataclass
class UnitRow:
    unit: Organisation
    learners: int
    compliant: int

    @property
    def rate(self):
        return round(100 * self.compliant / self.learners, 1) if self.learners else 0.0


def unit_counts(node, year, rules):
    """{(unit_id, staff_category): (learners, compliant)} for the units under ``node``: one GROUP BY over the
    profiles (who is there) and one over the year's totals (who is compliant); a learner without a totals
    row has no credits, compliant only under a rule that asks nothing."""
    units = Organisation.objects.filter(path__startswith=node.path).values("pk")
    learners = (
        LearnerProfile.objects.filter(unit_id__in=units)
        .values_list("unit_id", "staff_category")
        .annotate(n=Count("*"))  # COUNT(*), not of the id: the (unit, staff category) index alone answers
        .order_by()
    )
    rows = (
        LearnerYearTotal.objects.filter(year=year, unit_id__in=units)
        .values_list("unit_id", "staff_category")
        # Counted over indexed columns (not the id), so the covering index alone answers.
        .annotate(n=Count("*"), ok=Count("year", filter=Q(verdict(rules))))
        .order_by()
    )
    with_row = {(unit, category): (n, ok) for unit, category, n, ok in rows}
    counts = {}
    for unit, category, n in learners:
        rowed, ok = with_row.get((unit, category), (0, 0))
        rule = rules.get(category)
        if rule is not None and zero_verdict(rule):
            ok += n - rowed
        counts[unit, category] = (n, ok)
    return counts


def unit_summary(node, year, rules, counts=None):
    """Per unit under ``node``: learners and how many are compliant. Three queries in all."""
    counts = unit_counts(node, year, rules) if counts is None else counts
    per_unit = {}
    for (unit, _category), (n, ok) in counts.items():
        total, compliant = per_unit.get(unit, (0, 0))
        per_unit[unit] = (total + n, compliant + ok)
    units = Organisation.objects.filter(pk__in=per_unit).order_by("path")
    return [UnitRow(unit, *per_unit[unit.pk]) for unit in units]


def own_progress(user, year):
    """The learner's standing this ``year`` against their province's rule, or None without a unit (the dashboard's card)."""
    from cme_portal.accounts.selectors import profile_of

    profile = profile_of(user)
    if not profile or not profile.unit:
        return None
    rules = rules_for(province_of(profile.unit), year)
    return learner_progress(user, year, rules[profile.staff_category])
