"""Compliance (达标, W6): rules, a learner's progress, and reports for a subtree.

Reports are aggregate queries: one GROUP BY over the ledger gives every
learner's sums and verdict, and the per-unit figures wrap that same query.
Nothing loops over learners in Python.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import BooleanField, Case, DecimalField, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Least

from cme_portal.accounts.models import LearnerProfile, Organisation, OrgKind, StaffCategory

from .models import Category, CreditLevel, CreditRecord, RequirementRule

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
    """The learner's standing against ``rule`` in ``year``: sums, bars and the verdict."""
    records = CreditRecord.objects.filter(learner=learner)
    sums = records.filter(year=year).aggregate(
        c1=Coalesce(Sum("credits", filter=Q(credit_class="I")), ZERO),
        c2=Coalesce(Sum("credits", filter=Q(credit_class="II")), ZERO),
    )
    advanced = records.filter(year=year, category=Category.ADVANCED_STUDY).aggregate(m=Coalesce(Sum("months"), Value(0)))["m"]
    national = records.filter(year__gt=year - 5, year__lte=year, level__in=NATIONAL_LEVELS).aggregate(
        n=Coalesce(Sum("credits"), ZERO)
    )["n"]
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
        Bar(_("I 类学分"), c1, rule.min_class_i),
        Bar(_("II 类学分"), c2, rule.min_class_ii),
    ]
    if rule.five_year_national:
        bars.append(Bar(_("五年内国家级项目学分"), national, rule.five_year_national))
    return Progress(year, rule, c1, c2, counted, advanced, national, compliant, bars)


# --- a subtree -------------------------------------------------------------------


def learners_with_compliance(node, year, rules):
    """Learners of units under ``node`` with their sums for ``year`` and a ``compliant`` verdict.

    One query (GROUP BY learner); filter it further with ``compliant=True/False``.
    """
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
    verdicts = []
    for category, rule in rules.items():
        counted = Least("c1", Value(rule.max_class_i)) + Least("c2", Value(rule.max_class_ii))
        queryset = queryset.alias(**{f"counted_{category}": counted})
        meets = (
            Q(c1__gte=rule.min_class_i, c2__gte=rule.min_class_ii, **{f"counted_{category}__gte": rule.min_total})
            | Q(advanced__gte=rule.advanced_study_months)
        ) & Q(national5__gte=rule.five_year_national)
        verdicts.append(When(Q(staff_category=category) & meets, then=Value(True)))
    return queryset.annotate(
        compliant=Case(*verdicts, default=Value(False), output_field=BooleanField()),
    )


@dataclass
class UnitRow:
    unit: Organisation
    learners: int
    compliant: int

    @property
    def rate(self):
        return round(100 * self.compliant / self.learners, 1) if self.learners else 0.0


def unit_summary(node, year, rules):
    """Per unit under ``node``: learners and how many are compliant. Two queries in all."""
    inner = learners_with_compliance(node, year, rules).values("unit_id", "compliant")
    sql, params = inner.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT unit_id, COUNT(*), SUM(CASE WHEN compliant THEN 1 ELSE 0 END) FROM ({sql}) verdicts GROUP BY unit_id",
            params,
        )
        counts = {unit_id: (total, ok or 0) for unit_id, total, ok in cursor.fetchall()}
    units = Organisation.objects.filter(pk__in=counts).order_by("path")
    return [UnitRow(unit, *counts[unit.pk]) for unit in units]
