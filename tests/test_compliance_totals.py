"""Issue 12, item 1: the compliance report reads per-learner-per-year totals that the database keeps.

A random history is played through the real services (project awards, approved entries, platform
imports, corrections decided directly and through the province's correction flow, cancellations), plus
raw ledger inserts of every kind and year the services do not reach (advanced study, national credits
of earlier years, bulk_create), and learners moving unit or staff category. After every round the
summary-based report (learners_with_compliance, unit_summary, the report page's every page under each
filter, a learner's own progress) must equal the recomputation from the ledger (learners_from_ledger),
and ``check_compliance_totals`` must find nothing. Runs on SQLite, and on PostgreSQL with DATABASE_URL.
"""

import io
import random
from datetime import date
from decimal import Decimal as D

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from cme_portal.accounts.models import LearnerProfile, StaffCategory
from credits import compliance, services, totals
from credits.models import CREDIT_ENTRY_WORKFLOW, CreditRecord, LearnerYearTotal, RecordStatus, RequirementRule
from credits.platforms import import_platform_file
from projects.models import Session

from .factories import ProjectFactory, credit_entry, learner

pytestmark = pytest.mark.django_db
YEAR = 2026
YEARS = range(YEAR - 6, YEAR + 2)
FIGURES = ("c1", "c2", "national5", "advanced", "compliant")


def lenient_rules(province):
    """Thresholds low enough that a random history leaves both verdicts common."""
    rules = compliance.rules_for(province, YEAR)
    RequirementRule.objects.filter(province=province, year=YEAR, staff_category=StaffCategory.HEALTH_TECHNICAL).update(
        min_total=D(8), min_class_i=D(2), max_class_i=D(6), min_class_ii=D(3), max_class_ii=D(10), five_year_national=0
    )
    RequirementRule.objects.filter(province=province, year=YEAR, staff_category=StaffCategory.SENIOR_TERTIARY).update(
        min_total=D(6), min_class_i=D(1), max_class_i=D(8), min_class_ii=D(2), max_class_ii=D(10), five_year_national=D(4)
    )
    return rules


def by_learner(queryset):
    return {row.user_id: tuple(getattr(row, name) for name in FIGURES) for row in queryset}


def assert_report_equals_ledger(tree, client, admin):
    province = tree["province"]
    for year in YEARS:
        rules = compliance.rules_for(province, year)
        for node in (province, tree["city_a"], tree["unit_b"]):
            fast = by_learner(compliance.learners_with_compliance(node, year, rules))
            slow = by_learner(compliance.learners_from_ledger(node, year, rules))
            assert fast == slow, (year, node.name)
            expected = {}
            for profile in compliance.learners_from_ledger(node, year, rules):
                n, ok = expected.get(profile.unit_id, (0, 0))
                expected[profile.unit_id] = (n + 1, ok + int(profile.compliant))
            summary = {row.unit.pk: (row.learners, row.compliant) for row in compliance.unit_summary(node, year, rules)}
            assert summary == expected, (year, node.name)
    # One learner's own progress, for every learner, against the recomputation.
    rules = compliance.rules_for(province, YEAR)
    for profile in compliance.learners_from_ledger(province, YEAR, rules).select_related("user"):
        progress = compliance.learner_progress(profile.user, YEAR, rules[profile.staff_category])
        mine = (progress.class_i, progress.class_ii, progress.national_five_years, progress.advanced_months, progress.compliant)
        assert mine == tuple(getattr(profile, name) for name in FIGURES)
    # The page, every page, under each filter: the same learners in the same order as the recomputation.
    client.force_login(admin)
    ledger = compliance.learners_from_ledger(province, YEAR, rules).order_by("unit__path", "user__name")
    for filters in ({}, {"compliant": "yes"}, {"compliant": "no"}, {"staff_category": StaffCategory.SENIOR_TERTIARY}):
        wanted = ledger
        if "compliant" in filters:
            wanted = wanted.filter(compliant=filters["compliant"] == "yes")
        if "staff_category" in filters:
            wanted = wanted.filter(staff_category=filters["staff_category"])
        shown, page = [], 1
        while True:
            response = client.get(reverse("credits:compliance_report"), {"year": YEAR, "page": page, **filters})
            assert response.status_code == 200
            page_obj = response.context["page_obj"]
            shown += [(p.user_id, p.compliant, p.c1, p.c2) for p in page_obj]
            if not page_obj.has_next():
                break
            page += 1
        assert shown == [(p.user_id, p.compliant, p.c1, p.c2) for p in wanted], filters
        assert response.context["page_obj"].paginator.count == wanted.count()
    assert totals.differences() == []


def platform_file(rows):
    book = openpyxl.Workbook()
    book.active.append(["记录号", "证件号", "姓名", "项目编号", "项目名称", "学分", "学时", "学分类别", "完成日期"])
    for row in rows:
        book.active.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("feed.xlsx", buffer.getvalue())


def held(person=None):
    rows = CreditRecord.objects.filter(status=RecordStatus.EFFECTIVE, reversed_by__isnull=True)
    return rows.filter(learner=person) if person else rows


def test_random_history_through_the_services_matches_the_ledger(client, tree, cast):
    rng = random.Random(12)
    lenient_rules(tree["province"])
    units = [tree["unit_a"], tree["unit_a2"], tree["unit_b"]]
    people = [cast["learner"], cast["other_learner"]]
    people += [learner(unit=units[n % 3], name=f"学员{n:02d}") for n in range(70)]
    for person in people[::4]:
        LearnerProfile.objects.filter(user=person).update(staff_category=StaffCategory.SENIOR_TERTIARY)
    sequence = iter(range(1, 10_000))

    for round_ in range(3):
        # Project awards (the roster's effect), one session a round.
        project = ProjectFactory(holding_unit=tree["unit_a"], credits=rng.choice([2, 3, 5]))
        session = Session.objects.create(
            project=project,
            venue="甲市",
            start_date=date(YEAR, 6, 1 + round_),
            end_date=date(YEAR, 6, 1 + round_),
            credits=project.credits,
            hours=6,
            state="approved",
            organiser=cast["organiser"],
            unit=tree["unit_a"],
        )
        services.award(session, rng.sample(people, 15))
        # Own entries approved by the unit, the city and the province (record_approved_entry).
        mine = [p for p in people if LearnerProfile.objects.get(user=p).unit_id == tree["unit_a"].pk]
        for person in rng.sample(mine, 4):
            entry = credit_entry(
                person,
                activity_number=f"2026-03-01-{next(sequence):03d}（国）",
                credits=rng.choice([1, 2, 4]),
            )
            for who, action in (
                ("unit_admin", "unit_approve"),
                ("city_admin", "city_approve"),
                ("province_admin", "province_approve"),
            ):
                CREDIT_ENTRY_WORKFLOW.review(entry, cast[who], action)
        # A platform feed.
        rows = []
        for person in rng.sample(people, 12):
            n = next(sequence)
            rows.append(
                (
                    f"HY-{n}",
                    person.id_number,
                    person.name,
                    f"2026-04-01-{n:03d}（国）",
                    "远程课程",
                    rng.choice([1, 2]),
                    3,
                    rng.choice(["I", "II"]),
                    f"{YEAR}-03-01",
                )
            )
        assert import_platform_file(platform_file(rows), "华医网", cast["province_admin"]).imported == len(rows)
        # Rows of every kind and year the services above do not reach (bulk, as a feed of old years would).
        CreditRecord.objects.bulk_create(
            [
                CreditRecord(
                    learner=person,
                    year=rng.choice(list(YEARS)),
                    credit_class=rng.choice(["I", "II"]),
                    level=rng.choice(["national", "oop_national", "provincial", "city"]),
                    category=category,
                    credits=D(rng.choice(["0.5", "1", "2.5", "3", "6"])),
                    months=rng.choice([3, 6, 12]) if category == "advanced_study" else 0,
                    source="own",
                    activity_name="历年学分",
                    activity_key=f"OLD-{next(sequence)}",
                )
                for person in rng.sample(people, 25)
                for category in [rng.choice(["national_i", "provincial_ii", "advanced_study", "district_ii"])]
            ]
        )
        # Corrections decided directly, and through the province's correction flow (correct and cancel).
        for record in rng.sample(list(held()), 6):
            services.correct_record(
                record, cast["province_admin"], "更正", credits=D(rng.choice(["1", "2.5", "4"])), year=rng.choice(list(YEARS))
            )
        for record in rng.sample(list(held()), 3):
            services.correct_record(record, cast["province_admin"], "撤销")
        for kind in ("correct", "cancel"):
            record = rng.choice(list(held(cast["learner"])) or list(held()))
            request = services.request_correction(
                record, record.learner, kind=kind, credits=record.credits + 1 if kind == "correct" else None, reason="核对证书"
            )
            request.workflow.review(request, cast["province_admin"], "approve")
        # Learners move to another unit, or become senior staff.
        for person in rng.sample(people[2:], 5):
            profile = LearnerProfile.objects.get(user=person)
            profile.unit = rng.choice(units)
            profile.staff_category = rng.choice(StaffCategory.values)
            profile.save()

        assert_report_equals_ledger(tree, client, cast["province_admin"])

    assert CreditRecord.objects.filter(status=RecordStatus.REVERSAL).count() >= 3 * 11
    assert LearnerYearTotal.objects.filter(year=YEAR).exclude(national5=0).exists()


def test_the_check_command_finds_and_repairs_what_a_bypass_broke(tree):
    person = learner(unit=tree["unit_a"], name="被改学员")
    CreditRecord.objects.create(
        learner=person,
        year=YEAR,
        credit_class="I",
        level="national",
        category="national_i",
        credits=D("4"),
        source="own",
        activity_name="国家级项目",
    )
    assert totals.differences() == []
    out = io.StringIO()
    call_command("check_compliance_totals", stdout=out)
    assert "0 differences" in out.getvalue()

    LearnerYearTotal.objects.filter(learner=person, year=YEAR + 2).update(national5=D("9"))  # what no trigger would do
    LearnerYearTotal.objects.filter(learner=person, year=YEAR).update(unit=tree["unit_b"])
    out = io.StringIO()
    with pytest.raises(SystemExit) as failed:
        call_command("check_compliance_totals", stdout=out)
    assert failed.value.code == 1
    assert "2 differences" in out.getvalue() and f"learner {person.pk} year {YEAR + 2}" in out.getvalue()

    out = io.StringIO()
    call_command("check_compliance_totals", "--repair", stdout=out)
    assert "repaired" in out.getvalue()
    assert totals.differences() == []
    assert LearnerYearTotal.objects.get(learner=person, year=YEAR + 2).national5 == D("4")


def test_the_triggers_follow_a_deleted_row_and_a_moved_learner(tree):
    person = learner(unit=tree["unit_a"], name="搬家学员")
    record = CreditRecord.objects.create(
        learner=person,
        year=YEAR - 1,
        credit_class="II",
        level="oop_national",
        category="out_of_province",
        credits=D("3"),
        source="own",
        activity_name="赴外省",
    )
    window = dict(LearnerYearTotal.objects.filter(learner=person).values_list("year", "national5"))
    assert window == {YEAR - 1 + k: D("3") for k in range(5)}
    LearnerProfile.objects.filter(user=person).update(unit=tree["unit_b"], staff_category=StaffCategory.SENIOR_TERTIARY)
    assert set(LearnerYearTotal.objects.filter(learner=person).values_list("unit", "staff_category")) == {
        (tree["unit_b"].pk, StaffCategory.SENIOR_TERTIARY)
    }
    CreditRecord.objects.filter(pk=record.pk).delete()
    assert set(LearnerYearTotal.objects.filter(learner=person).values_list("c2", "national5")) == {(D(0), D(0))}
    assert totals.differences() == []


def test_a_rule_that_asks_nothing_counts_learners_without_credits(tree):
    """A learner with no ledger row has no totals row either: the summary must still count them."""
    rules = compliance.rules_for(tree["province"], YEAR)
    RequirementRule.objects.filter(province=tree["province"], year=YEAR, staff_category=StaffCategory.HEALTH_TECHNICAL).update(
        min_total=0, min_class_i=0, min_class_ii=0, five_year_national=0
    )
    rules = compliance.rules_for(tree["province"], YEAR)
    learner(unit=tree["unit_a"], name="无学分")
    earner = learner(unit=tree["unit_a"], name="有学分")
    CreditRecord.objects.create(
        learner=earner,
        year=YEAR,
        credit_class="I",
        level="city",
        category="district_ii",
        credits=D("1"),
        source="own",
        activity_name="市级",
    )
    summary = {row.unit.pk: (row.learners, row.compliant) for row in compliance.unit_summary(tree["province"], YEAR, rules)}
    assert summary == {tree["unit_a"].pk: (2, 2)}
    assert {p.compliant for p in compliance.learners_with_compliance(tree["province"], YEAR, rules)} == {True}


@pytest.mark.postgres
def test_truncating_the_ledger_empties_the_totals(tree):
    """TRUNCATE fires no row trigger; a statement trigger empties the totals with the ledger."""
    from django.db import connection

    person = learner(unit=tree["unit_a"], name="清空学员")
    CreditRecord.objects.create(
        learner=person,
        year=YEAR,
        credit_class="I",
        level="national",
        category="national_i",
        credits=D("2"),
        source="own",
        activity_name="国家级项目",
    )
    assert LearnerYearTotal.objects.filter(learner=person).count() == 5
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own inserts leave deferred checks pending
        cursor.execute("TRUNCATE credits_creditrecord CASCADE")
    assert not LearnerYearTotal.objects.exists()
    assert totals.differences() == []
