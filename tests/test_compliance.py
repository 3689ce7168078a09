"""W6: rules with national defaults, the learner's progress, reports by aggregate queries."""

import io
from datetime import date
from decimal import Decimal as D

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cme_portal.accounts.models import LearnerProfile, Organisation, Role, StaffCategory
from credits import compliance, services
from credits.models import CreditRecord, Platform, RequirementRule
from credits.platforms import import_platform_file

from .factories import ProjectFactory, learner, staff

pytestmark = pytest.mark.django_db
YEAR = 2026


def give(person, credit_class, credits, *, year=YEAR, level="provincial", category="provincial_i", months=0, key=None):
    return CreditRecord.objects.create(
        learner=person,
        year=year,
        credit_class=credit_class,
        level=level,
        category=category,
        credits=D(credits),
        source="own",
        activity_name="活动",
        activity_key=key or f"K{CreditRecord.objects.count()}",
        months=months,
    )


@pytest.fixture
def people(tree):
    ok = learner(unit=tree["unit_a"], name="达标者")
    give(ok, "I", 8)
    give(ok, "II", 18)
    short_ii = learner(unit=tree["unit_a"], name="II类不足")
    give(short_ii, "I", 20)
    give(short_ii, "II", 10)  # Class I does not stand in for Class II
    studying = learner(unit=tree["unit_a2"], name="进修者")
    give(studying, "I", 25, category="advanced_study", level="other", months=6)
    senior = learner(unit=tree["unit_b"], name="三级医院")
    LearnerProfile.objects.filter(user=senior).update(staff_category=StaffCategory.SENIOR_TERTIARY)
    give(senior, "I", 10)
    give(senior, "II", 20)  # meets the year, lacks national credits in five years
    return {"ok": ok, "short_ii": short_ii, "studying": studying, "senior": senior}


def test_national_defaults_are_preloaded(tree):
    rules = compliance.rules_for(tree["province"], YEAR)
    health = rules[StaffCategory.HEALTH_TECHNICAL]
    assert (health.min_total, health.min_class_i, health.max_class_i, health.min_class_ii, health.max_class_ii) == (
        25,
        5,
        10,
        15,
        20,
    )
    assert rules[StaffCategory.SENIOR_TERTIARY].five_year_national == 10
    assert RequirementRule.objects.count() == 2


def test_verdicts_one_learner_at_a_time(tree, people):
    rules = compliance.rules_for(tree["province"], YEAR)
    category = dict(LearnerProfile.objects.values_list("user_id", "staff_category"))
    verdict = {name: compliance.learner_progress(p, YEAR, rules[category[p.pk]]).compliant for name, p in people.items()}
    assert verdict == {"ok": True, "short_ii": False, "studying": True, "senior": False}
    give(people["senior"], "I", 10, year=YEAR - 3, level="national", category="national_i")
    assert compliance.learner_progress(people["senior"], YEAR, rules[StaffCategory.SENIOR_TERTIARY]).compliant


def test_the_report_agrees_and_is_one_query(tree, people, django_assert_num_queries):
    rules = compliance.rules_for(tree["province"], YEAR)
    with django_assert_num_queries(1):
        rows = {
            p.user.name: p.compliant
            for p in compliance.learners_with_compliance(tree["province"], YEAR, rules).select_related("user")
        }
    assert rows == {"达标者": True, "II类不足": False, "进修者": True, "三级医院": False}
    with django_assert_num_queries(3):  # learners per unit, the compliant among the year's totals, the units
        summary = {row.unit.name: (row.learners, row.compliant) for row in compliance.unit_summary(tree["province"], YEAR, rules)}
    assert summary == {"甲市人民医院": (2, 1), "甲市东区社区卫生服务中心": (1, 1), "乙市第一医院": (1, 0)}


def test_a_stricter_province_rule_changes_the_verdict(tree, people):
    rules = compliance.rules_for(tree["province"], YEAR)
    RequirementRule.objects.filter(staff_category=StaffCategory.HEALTH_TECHNICAL).update(min_class_i=10)
    rules = compliance.rules_for(tree["province"], YEAR)
    assert not compliance.learner_progress(people["ok"], YEAR, rules[StaffCategory.HEALTH_TECHNICAL]).compliant


def test_reversed_credits_no_longer_count(tree, people):
    rules = compliance.rules_for(tree["province"], YEAR)
    record = CreditRecord.objects.get(learner=people["ok"], credit_class="II")
    services.correct_record(record, people["ok"], "学分证无效")
    rows = {
        p.user.name: p.compliant
        for p in compliance.learners_with_compliance(tree["province"], YEAR, rules).select_related("user")
    }
    assert rows["达标者"] is False


def test_learner_sees_progress_bars(client, tree, people):
    client.force_login(people["short_ii"])
    page = client.get(reverse("credits:my_credits"), {"year": YEAR})
    bars = {bar.label: (bar.value, bar.target, bar.met) for bar in page.context["progress"].bars}
    assert bars["II 类学分"] == (D("10"), D("15"), False)
    assert bars["I 类学分"] == (D("20"), D("5"), True)
    assert "未达标" in page.content.decode()


def test_admins_see_their_subtree_with_filters_chart_and_excel(client, tree, people, django_capture_on_commit_callbacks):
    client.force_login(staff(Role.CITY_ADMIN, tree["city_a"]))
    page = client.get(reverse("credits:compliance_report"), {"year": YEAR})
    names = [p.user.name for p in page.context["page_obj"]]
    assert sorted(names) == sorted(["达标者", "II类不足", "进修者"])
    chart = page.context["chart"]
    assert dict(zip(chart["labels"], chart["rates"])) == {"甲市人民医院": 50.0, "甲市东区社区卫生服务中心": 100.0}
    not_ok = client.get(reverse("credits:compliance_report"), {"year": YEAR, "compliant": "no"})
    assert [p.user.name for p in not_ok.context["page_obj"]] == ["II类不足"]
    export = exported(client, {"year": YEAR}, django_capture_on_commit_callbacks)
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 4 and rows[0][1] == "姓名"
    # Issue 13: the admins the report is for are reviewers in scope, so the numbers are whole, not masked.
    numbers = {row[2] for row in rows[1:]}
    assert numbers == {people[k].id_number for k in ("ok", "short_ii", "studying")} and not any("*" in n for n in numbers)


def exported(client, query, on_commit):
    """The compliance export as a person gets it: asked for (POST), built by the job (queued after the
    commit, eager in tests), downloaded when ready."""
    from urllib.parse import urlencode

    with on_commit(execute=True):
        asked = client.post(f"{reverse('credits:compliance_export')}?{urlencode(query)}")
    assert asked.status_code == 302, asked
    page = client.get(asked["Location"])
    assert page.context["job"].state == "done", page.context["job"].result
    download = client.get(reverse("credits:job_download", args=[page.context["job"].public_id]))
    assert download.status_code == 200
    return Downloaded(download)


class Downloaded(dict):
    """A streamed download's headers (``response["Cache-Control"]``) and its whole ``content``."""

    def __init__(self, response):
        super().__init__(response.headers)
        self.content = b"".join(response.streaming_content)


def test_report_refused_to_learners_and_organisers(client, tree, people):
    for user in (people["ok"], staff(Role.ORGANISER, tree["unit_a"])):
        client.force_login(user)
        assert client.get(reverse("credits:compliance_report")).status_code == 404
        assert client.get(reverse("credits:compliance_export")).status_code == 404
        assert client.post(reverse("credits:compliance_export")).status_code == 404


# --- award and platform imports ---------------------------------------------------


def test_award_is_idempotent(tree):
    from projects.models import Session

    organiser = staff(Role.ORGANISER, tree["unit_a"])
    project = ProjectFactory(holding_unit=tree["unit_a"], credits=5)
    session = Session.objects.create(
        project=project,
        venue="甲市",
        start_date=date(2026, 6, 1),
        end_date=date(2026, 6, 2),
        credits=5,
        hours=30,
        state="approved",
        organiser=organiser,
        unit=tree["unit_a"],
    )
    people = [learner(unit=tree["unit_a"]) for _ in range(3)]
    assert len(services.award(session, people)) == 3
    assert services.award(session, people) == []
    assert CreditRecord.objects.filter(session=session).count() == 3
    record = CreditRecord.objects.filter(session=session).first()
    assert (record.category, record.credit_class, record.level, record.credits) == ("project_award", "I", "provincial", D("5"))


def platform_file(*rows):
    book = openpyxl.Workbook()
    book.active.append(["记录号", "证件号", "姓名", "项目编号", "项目名称", "学分", "学时", "学分类别", "完成日期"])
    for row in rows:
        book.active.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("feed.xlsx", buffer.getvalue())


def test_platform_import_reports_and_is_idempotent(tree):
    admin = staff(Role.PROVINCE_ADMIN, tree["province"])
    person = learner(unit=tree["unit_a"], name="王医生")
    rows = [
        ("HY-001", person.id_number, "王医生", "2026-03-01-101（国）", "远程课程一", 2, 6, "I", "2026-03-01"),
        ("HY-002", person.id_number, "王医师", "2026-03-01-102（国）", "远程课程二", 2, 6, "I", "2026-03-02"),
        ("HY-003", "110105194912310029", "不存在", "2026-03-01-103（国）", "远程课程三", 2, 6, "I", "2026-03-03"),
        ("HY-004", person.id_number, "王医生", "2026-03-01-104（国）", "远程课程四", "两分", 6, "I", "2026-03-04"),
    ]
    report = import_platform_file(platform_file(*rows), "华医网", admin)
    assert report.imported == 1
    assert [row for row, _ in report.refused] == [3, 4, 5]
    assert "姓名" in report.refused[0][1] and "未在平台注册" in report.refused[1][1]

    again = import_platform_file(platform_file(*rows), "华医网", admin)
    assert again.imported == 0 and [row for row, _ in again.skipped] == [2]
    assert CreditRecord.objects.filter(learner=person, source="platform").count() == 1


def test_platform_import_page_is_for_the_province(client, tree):
    admin = staff(Role.PROVINCE_ADMIN, tree["province"])
    person = learner(unit=tree["unit_a"], name="王医生")
    client.force_login(admin)
    page = client.post(
        reverse("credits:platform_import"),
        {
            "platform": Platform.objects.get(name="中华医学电子音像出版社").pk,
            "file": platform_file(("Z-1", person.id_number, "王医生", "2026-03-01-201（国）", "课程", 1, 3, "I", "2026-04-01")),
        },
    )
    assert "导入 1 条，跳过 0 条，拒绝 0 条" in page.content.decode()
    client.force_login(staff(Role.UNIT_ADMIN, tree["unit_a"]))
    assert client.get(reverse("credits:platform_import")).status_code == 404


def test_platform_levels_follow_the_number_and_classes_are_checked(tree):
    admin = staff(Role.PROVINCE_ADMIN, tree["province"])
    person = learner(unit=tree["unit_a"], name="王医生")
    report = import_platform_file(
        platform_file(
            ("P-1", person.id_number, "王医生", "2026330301777 (省)", "省级远程课", 2, 12, "II", "2026-03-01"),
            ("P-2", person.id_number, "王医生", "2026-03-01-555（国）", "国家级远程课", 2, 6, "III", "2026-03-01"),
        ),
        "好医生",
        admin,
    )
    assert report.imported == 1 and "I 或 II" in report.refused[0][1]
    assert CreditRecord.objects.get(learner=person).level == "provincial"


def test_a_report_year_far_away_is_ignored(client, tree, people):
    client.force_login(staff(Role.PROVINCE_ADMIN, tree["province"]))
    page = client.get(reverse("credits:compliance_report"), {"year": 99999})
    assert page.status_code == 200 and page.context["year"] == date.today().year
    assert not RequirementRule.objects.filter(year=99999).exists()


def test_class_credits_beyond_the_cap_are_shown_as_not_counting(client, tree, people):
    """Issue 13: I 类学分 20 / 5 read as a full bar although only 10 count toward the year's total."""
    client.force_login(people["short_ii"])
    page = client.get(reverse("credits:my_credits"), {"year": YEAR})
    [class_i] = [bar for bar in page.context["progress"].bars if bar.label == "I 类学分"]
    assert class_i.over_cap == D("10") and class_i.cap == D("10")
    assert "计入年度学分 10，超出上限 10 分不计入" in page.content.decode()


def test_the_learners_dashboard_card_shows_this_years_figures(client, tree, people):
    """Issue 13: the dashboard's 本年度学分 card showed no numbers."""
    import time_machine

    with time_machine.travel(date(YEAR, 11, 25)):
        client.force_login(people["ok"])
        page = client.get(reverse("accounts:dashboard_role", args=["learner"])).content.decode()
    assert "I 类 8 分 · II 类 18 分" in page and "已达标" in page and ">26<" in page


def test_the_chart_draws_the_lowest_rates_first_and_at_most_twenty_units(tree):
    """A province of a thousand units draws the twenty that most need a call, lowest first; the table lists all."""
    from credits.compliance import UnitRow
    from credits.selectors import chart_rows

    units = [Organisation(name=f"单位{i:03}", path=f"0001.{i:04}") for i in range(30)]
    summary = [UnitRow(unit, learners=10, compliant=(i * 7) % 11) for i, unit in enumerate(units)]
    drawn = chart_rows(summary)
    assert len(drawn) == 20
    assert [row.rate for row in drawn] == sorted(row.rate for row in summary)[:20]
    assert chart_rows(summary[:3]) == sorted(summary[:3], key=lambda row: row.rate)
