"""W6: the yearly compliance verdict is written twice in credits/compliance.py, and the two must agree.

``learner_progress`` decides one learner in Python (the learner's own progress);
``learners_with_compliance`` decides many in one SQL query (the admins' report).
Here a grid of ledgers is built around every boundary of the rule (Class I
below/at/above its minimum and cap, Class II likewise, the yearly total below
and at its minimum, the five-year national rule met and not, advanced study of
the rule's months counting as the full year, reversed and corrected credits),
for each staff category, under the national defaults and under a province rule
whose figures differ per category; for every learner the two implementations
must give the same sums, the same counted total and the same verdict.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D

import pytest
from django.db.models import Case, DecimalField, F, When

from cme_portal.accounts.models import LearnerProfile, Sex, StaffCategory, User
from credits import compliance
from credits.models import CreditRecord, RecordStatus, RequirementRule

from .factories import UserFactory, make_tree

pytestmark = pytest.mark.django_db
YEAR = 2026
HALF = D("0.5")
NATIONAL_LEVELS = {"national", "oop_national"}

# A province rule whose every figure differs from the national defaults and between the two
# categories, so a verdict computed with the wrong rule (or the wrong category's rule) shows.
PROVINCE_RULE = {
    StaffCategory.HEALTH_TECHNICAL: {
        "min_total": D(30),
        "min_class_i": D(8),
        "max_class_i": D(12),
        "min_class_ii": D(18),
        "max_class_ii": D(22),
        "five_year_national": D(5),
        "advanced_study_months": 3,
    },
    StaffCategory.SENIOR_TERTIARY: {
        "min_total": D(28),
        "min_class_i": D(6),
        "max_class_i": D(14),
        "min_class_ii": D(14),
        "max_class_ii": D(22),
        "five_year_national": D(15),
        "advanced_study_months": 9,
    },
}


# --- the grid --------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One ledger row; ``reversed`` adds the reversing row, ``corrected_to`` also a new revision."""

    credits: D
    credit_class: str = "I"
    level: str = "provincial"
    category: str = "provincial_i"
    year: int = YEAR
    months: int = 0
    reversed: bool = False
    corrected_to: D | None = None

    @property
    def standing(self):
        """What the row contributes once its reversal (and correction) are in the ledger."""
        if self.corrected_to is not None:
            return self.corrected_to, self.months
        return (D(0), 0) if self.reversed else (self.credits, self.months)


def class_i(amount, **kw):
    return Row(D(amount), **kw)


def class_ii(amount, **kw):
    return Row(D(amount), credit_class="II", level="city", category="provincial_ii", **kw)


def national(amount, **kw):
    return Row(D(amount), level=kw.pop("level", "national"), category=kw.pop("category", "national_i"), **kw)


def advanced(months, **kw):
    """Advanced study: 5 credits a month, Class I, certified in ``year``."""
    return Row(D(5 * months), level="other", category=kw.pop("category", "advanced_study"), months=months, **kw)


def per_class(minimum, maximum, make):
    """Amounts of one class around the rule's minimum and cap, some of them reversed or corrected."""
    return {
        "none": [],
        "below min": [make(minimum - HALF)],
        "at min (two rows)": [make(minimum - 2), make(2)],
        "just above min": [make(minimum + HALF)],
        "just below cap": [make(maximum - HALF)],
        "at cap (two rows)": [make(maximum - 4), make(4)],
        "above cap": [make(maximum + D("2.5"))],
        "at cap but reversed": [make(maximum, reversed=True)],
        "corrected to below min": [make(minimum + 3, corrected_to=minimum - HALF)],
    }


@dataclass
class Situation:
    name: str
    rows: list

    def intended(self):
        """(Class I, Class II, advanced months, national credits in five years) the rows add up to."""
        c1 = c2 = national5 = D(0)
        months = 0
        for row in self.rows:
            credits, row_months = row.standing
            if row.year == YEAR:
                c1 += credits if row.credit_class == "I" else 0
                c2 += credits if row.credit_class == "II" else 0
                months += row_months if row.category == "advanced_study" else 0
            if YEAR - 5 < row.year <= YEAR and row.level in NATIONAL_LEVELS:
                national5 += credits
        return c1, c2, months, national5


def grid(rule):
    """Every case for ``rule``, named by what it varies."""
    n = rule.five_year_national if rule.five_year_national > 0 else D(3)  # a category without the rule still gets some
    m = rule.advanced_study_months
    national_met = [national(n, year=YEAR - 2)]
    cases = []

    # 1. Class I × Class II, which also walks the yearly total below and at its minimum; the five-year
    #    national credits are there, so the year alone decides (grids 2 and 3 take them away).
    for i_name, i_rows in per_class(rule.min_class_i, rule.max_class_i, class_i).items():
        for ii_name, ii_rows in per_class(rule.min_class_ii, rule.max_class_ii, class_ii).items():
            cases.append(Situation(f"I {i_name} / II {ii_name} / national met", i_rows + ii_rows + national_met))

    # 2. The five-year national rule, with the year met, met only at the total's minimum, and not met.
    year_met = {
        "year met": [class_i(rule.max_class_i), class_ii(rule.max_class_ii)],
        "year at total min": [class_i(rule.max_class_i), class_ii(rule.min_total - rule.max_class_i)],
        "year short of total": [class_i(rule.min_class_i), class_ii(rule.min_class_ii)],
        "no credits this year": [],
    }
    national_variants = {
        "none": [],
        "below target": [national(n - HALF, year=YEAR - 4)],
        "at target over two years and both national levels": [
            national(n / 2, year=YEAR - 2),
            national(n / 2, year=YEAR - 4, level="oop_national", category="out_of_province"),
        ],
        "above target": [national(n + 5, year=YEAR - 1)],
        "at target five years back (outside)": [national(n, year=YEAR - 5)],
        "at target next year (outside)": [national(n, year=YEAR + 1)],
        "at target this year, also Class I": [national(n)],
        "at target as Class II": [national(n, credit_class="II", year=YEAR - 1)],
        "at target but reversed": [national(n, year=YEAR - 3, reversed=True)],
        "corrected to below target": [national(n + 2, year=YEAR - 3, corrected_to=n - HALF)],
        "provincial level does not count": [class_i(n, year=YEAR - 2)],
    }
    for base_name, base_rows in year_met.items():
        for nat_name, nat_rows in national_variants.items():
            cases.append(Situation(f"national {nat_name} / {base_name}", base_rows + nat_rows))

    # 3. Advanced study of the rule's months counts as the full year.
    study_variants = {
        "none": [],
        "one month short": [advanced(m - 1)],
        "exactly the months": [advanced(m)],
        "more than the months": [advanced(m + 3)],
        "two stints adding up to the months": [advanced(m - 1), advanced(1)],
        "exactly the months but reversed": [advanced(m, reversed=True)],
        "exactly the months last year": [advanced(m, year=YEAR - 1)],
        "months on another category": [advanced(m, category="out_of_province")],
    }
    year_bases = {
        "no other credits": [],
        "year met": [class_i(rule.max_class_i), class_ii(rule.max_class_ii)],
        "Class II missing": [class_i(rule.max_class_i + D("2.5"))],
        "short of total": [class_i(rule.min_class_i), class_ii(rule.min_class_ii)],
    }
    for study_name, study_rows in study_variants.items():
        for base_name, base_rows in year_bases.items():
            cases.append(Situation(f"advanced {study_name} / {base_name} / national met", study_rows + base_rows + national_met))
        # Advanced study stands in for the year, not for the five-year national credits.
        cases.append(Situation(f"advanced {study_name} / no other credits / no national", study_rows))
    return cases


# --- building and reading ------------------------------------------------------------


def rules_under_test(province, rule_set):
    rules = compliance.rules_for(province, YEAR)
    if rule_set == "province rule":
        for category, values in PROVINCE_RULE.items():
            RequirementRule.objects.filter(pk=rules[category].pk).update(**values)
        rules = compliance.rules_for(province, YEAR)
    return rules


def build(tree, category, cases):
    """One learner per case, spread over three units of the tree; people and ledger in bulk inserts."""
    units = [tree["unit_a"], tree["unit_a2"], tree["unit_b"]]
    people = User.objects.bulk_create(UserFactory.build_batch(len(cases)))
    LearnerProfile.objects.bulk_create(
        [
            LearnerProfile(
                user=person, unit=units[index % len(units)], sex=Sex.MALE, birth_date=date(1985, 5, 20), staff_category=category
            )
            for index, person in enumerate(people)
        ]
    )
    effective, reversals, corrections = [], [], []
    for index, (case, person) in enumerate(zip(cases, people)):
        for number, row in enumerate(case.rows):
            record = CreditRecord(
                learner=person,
                year=row.year,
                credit_class=row.credit_class,
                level=row.level,
                category=row.category,
                credits=row.credits,
                months=row.months,
                source="own",
                activity_name="活动",
                activity_key=f"V{index}-{number}",
            )
            effective.append((record, row))
    CreditRecord.objects.bulk_create([record for record, _ in effective])
    for record, row in effective:
        if row.reversed or row.corrected_to is not None:
            reversals.append(
                CreditRecord(
                    learner_id=record.learner_id,
                    year=record.year,
                    credit_class=record.credit_class,
                    level=record.level,
                    category=record.category,
                    credits=-record.credits,
                    months=-record.months,
                    source=record.source,
                    activity_name=record.activity_name,
                    activity_key=record.activity_key,
                    status=RecordStatus.REVERSAL,
                    reverses=record,
                    note="冲正",
                )
            )
        if row.corrected_to is not None:
            corrections.append(
                CreditRecord(
                    learner_id=record.learner_id,
                    year=record.year,
                    credit_class=record.credit_class,
                    level=record.level,
                    category=record.category,
                    credits=row.corrected_to,
                    months=record.months,
                    source=record.source,
                    activity_name=record.activity_name,
                    activity_key=record.activity_key,
                    revision=1,
                    note="更正",
                )
            )
    CreditRecord.objects.bulk_create(reversals + corrections)
    return people


def sql_report(province, rules):
    """The report's rows by learner, with the counted total the SQL verdict used for the learner's category."""
    counted = Case(
        *[When(staff_category=category, then=F(f"counted_{category}")) for category in rules],
        output_field=DecimalField(max_digits=7, decimal_places=1),
    )
    rows = compliance.learners_with_compliance(province, YEAR, rules).annotate(counted=counted)
    return {row.user_id: row for row in rows}


def figures(c1, c2, counted, advanced_months, national5, compliant):
    return {
        "class_i": c1,
        "class_ii": c2,
        "counted": counted,
        "advanced_months": advanced_months,
        "national_five_years": national5,
        "compliant": compliant,
    }


# --- the test --------------------------------------------------------------------------


@pytest.mark.parametrize("rule_set", ["national defaults", "province rule"])
@pytest.mark.parametrize("category", StaffCategory.values)
def test_python_and_sql_verdicts_agree(category, rule_set):
    tree = make_tree()
    rules = rules_under_test(tree["province"], rule_set)
    rule = rules[category]
    cases = grid(rule)
    people = build(tree, category, cases)
    report = sql_report(tree["province"], rules)
    assert len(report) == len(cases)

    disagreements, outcomes = [], Counter()
    for case, person in zip(cases, people):
        progress = compliance.learner_progress(person, YEAR, rule)
        python = figures(
            progress.class_i,
            progress.class_ii,
            progress.counted,
            progress.advanced_months,
            progress.national_five_years,
            progress.compliant,
        )
        row = report[person.pk]
        sql = figures(row.c1, row.c2, row.counted, row.advanced, row.national5, row.compliant)
        c1, c2, months, national5 = case.intended()
        intended = {"class_i": c1, "class_ii": c2, "advanced_months": months, "national_five_years": national5}
        differ = {key: (python[key], sql[key]) for key in python if python[key] != sql[key]}
        built_wrong = {key: (value, python[key]) for key, value in intended.items() if python[key] != value}
        if differ:
            disagreements.append(f"{case.name}: python vs SQL {differ}")
        if built_wrong:
            disagreements.append(f"{case.name}: the ledger does not add up to the case, intended vs python {built_wrong}")
        outcomes[python["compliant"]] += 1

    assert not disagreements, f"{len(disagreements)} of {len(cases)} cases ({category}, {rule_set}):\n" + "\n".join(disagreements)
    # The grid is only worth something if it lands on both sides of the verdict.
    assert outcomes[True] >= 10 and outcomes[False] >= 10, outcomes
