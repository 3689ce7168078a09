"""W9: only credits that can be true are entered (issue 10 item 1, 5): the portal's own sessions, dates,
the province's window, the platforms' feeds, the six societies with their branches."""

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.apps import apps
from django.db.models import CheckConstraint, UniqueConstraint
from django.urls import reverse

from credits.models import CreditEntry, CreditLevel, CreditPolicy, EntryDeadline, Platform
from projects.models import Entry, Session

from .factories import ProjectFactory, held_session, ledger_row, pdf_upload
from .test_credits import FORM  # the entry form as the seeds fill it

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 22)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(date(2026, 11, 22), tick=False):
        yield


def enter(client, person, **changes):
    client.force_login(person)
    return client.post(reverse("credits:entry_new"), {**FORM, **changes, "evidence": [pdf_upload()]})


def errors(response, field):
    return " ".join(str(e) for e in response.context["form"].errors.get(field, []))


def test_a_session_held_in_the_portal_is_not_self_entered(client, cast, tree):
    project = ProjectFactory(
        holding_unit=tree["unit_a"], number="2026330301099 (省)", number_key="2026330301099(省)", name="心衰学习班"
    )
    Session.objects.create(
        project=project,
        venue="甲市",
        start_date=date(2026, 6, 1),
        end_date=date(2026, 6, 2),
        credits=5,
        hours=12,
        state="approved",
        organiser=cast["organiser"],
        unit=tree["unit_a"],
    )
    response = enter(
        client, cast["learner"], category="provincial_i", activity_number="2026330301099（省）", credits="2", hours="12"
    )
    message = errors(response, "activity_number")
    assert "在本平台举办" in message and "学员名单" in message
    assert f'href="{project.get_absolute_url()}"' in response.content.decode()
    assert response.context["form"]["activity_name"].value() == "心力衰竭诊治新进展"
    assert not CreditEntry.objects.exists()


def test_no_end_date_after_today(client, cast):
    response = enter(client, cast["learner"], start_date="2026-12-01", end_date="2026-12-02")
    assert "不能晚于今天" in errors(response, "end_date")
    far = enter(client, cast["learner"], start_date="2026-05-01", end_date="9999-12-31")
    assert "不能晚于今天" in errors(far, "end_date")
    assert not CreditEntry.objects.exists()


def test_the_provinces_earliest_year_and_deadline(client, cast, tree):
    old = enter(client, cast["learner"], activity_number="2021-03-01-001（国）", start_date="2021-05-01", end_date="2021-05-03")
    assert "2021 年度的学分已不再受理" in errors(old, "start_date")  # by default the last five years: 2022 on
    CreditPolicy.objects.create(province=tree["province"], earliest_year=2020, platform_days=30)
    assert (
        enter(
            client, cast["learner"], activity_number="2021-03-01-001（国）", start_date="2021-05-01", end_date="2021-05-03"
        ).status_code
        == 302
    )
    EntryDeadline.objects.create(province=tree["province"], year=2025, deadline=TODAY - timedelta(days=1))
    late = enter(client, cast["learner"], activity_number="2025-03-01-001（国）", start_date="2025-05-01", end_date="2025-05-03")
    assert "2025 年度学分的录入已于 2026-11-21 截止" in errors(late, "start_date")
    EntryDeadline.objects.create(province=tree["province"], year=2026, deadline=TODAY)
    assert enter(client, cast["learner"]).status_code == 302  # the deadline day itself is still open


def test_the_province_admin_sets_the_window(client, cast, tree):
    client.force_login(cast["province_admin"])
    url = reverse("credits:entry_policy")
    client.post(
        url,
        {"form": "policy", "policy-earliest_year": "2019", "policy-platform_days": "45", "policy-early_review_titles": "副高"},
    )
    client.post(url, {"form": "deadline", "deadline-year": "2026", "deadline-deadline": "2027-01-15"})
    bad = client.post(url, {"form": "deadline", "deadline-year": "2026", "deadline-deadline": "2025-01-15"})
    assert "不能早于该年度" in " ".join(bad.context["deadline_form"].errors["deadline"])
    policy = CreditPolicy.objects.get(province=tree["province"])
    assert (policy.earliest_year, policy.platform_days) == (2019, 45)
    assert EntryDeadline.objects.get(province=tree["province"], year=2026).deadline == date(2027, 1, 15)
    client.force_login(cast["unit_admin"])
    assert client.get(url).status_code == 404


def test_a_platforms_credit_arrives_by_feed_not_by_hand(client, cast, tree):
    CreditPolicy.objects.create(province=tree["province"], earliest_year=2022, platform_days=20)
    response = enter(client, cast["learner"], issuer="华医网")
    message = errors(response, "issuer")
    assert "北京华医网科技股份有限公司（华医网）" in message and "20 天" in message
    Platform.objects.create(name="浙江省医学继续教育学习平台", aliases="浙江继教平台")  # the catalogue is the province's
    assert "联系该平台" in errors(enter(client, cast["learner"], issuer="浙江继教平台"), "issuer")
    Platform.objects.filter(name__contains="华医网").update(active=False)
    assert enter(client, cast["learner"], issuer="华医网").status_code == 302


@pytest.mark.parametrize(
    "issuer, level",
    [
        ("中华医学会", CreditLevel.OUT_OF_PROVINCE_SOCIETY),
        ("中华医学会心血管病学分会", CreditLevel.OUT_OF_PROVINCE_SOCIETY),
        ("中华护理学会外科护理专业委员会", CreditLevel.OUT_OF_PROVINCE_SOCIETY),
        ("中国医师协会 急诊医师分会", CreditLevel.OUT_OF_PROVINCE_SOCIETY),
        ("中华医学会杂志社", None),
        ("江苏省医学会", None),
    ],
)
def test_the_six_societies_with_their_branches(client, cast, issuer, level):
    response = enter(
        client,
        cast["learner"],
        category="out_of_province",
        activity_number="",
        issuer=issuer,
        credits="3",
        hours="9",
        mode="online",  # seed 004: an online activity's evidence without the unit's approval form
        evidence_items=["certificate", "notice", "cme_query", "invoice"],
    )
    if level is None:
        assert "六家国家一级学（协）会" in errors(response, "activity_number")
        assert not CreditEntry.objects.exists()
    else:
        assert response.status_code == 302 and CreditEntry.objects.get().level == level


def constraint_names():
    names = set()
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            if isinstance(constraint, (CheckConstraint, UniqueConstraint)):
                names.add(constraint.name)
    return names


@pytest.mark.parametrize(
    "changes",
    [
        {"credits": "-1"},
        {"credits": "0"},
        {"credits": "26"},
        {"credits": "1e9"},
        {"hours": "-5"},
        {"start_date": "2026-05-03", "end_date": "2026-05-01"},
        {"credits": "abc"},
        {"start_date": "0001-01-01"},
    ],
)
def test_no_database_message_reaches_a_person_on_entry(client, cast, changes):
    response = enter(client, cast["learner"], **changes)
    assert response.status_code == 200 and response.context["form"].errors
    assert not CreditEntry.objects.exists()
    shown = response.content.decode()
    leaked = [name for name in constraint_names() if name in shown]
    assert leaked == [] and not re.search(r"约束|constraint|violates|IntegrityError", shown, re.I)


@pytest.mark.parametrize(
    "url_name, who, data",
    [
        (
            "projects:national_new",
            "organiser",
            {
                "number": "2027-03-05-129（国）",
                "sequence": "0",
                "name": "x",
                "leader": "x",
                "year": "1800",
                "credits": "-1",
                "hours": "0",
                "venue": "x",
                "start_date": "2027-03-02",
                "end_date": "2027-03-01",
            },
        ),
        (
            "credits:rules",
            "province_admin",
            {
                f"{c}-{f}": v
                for c in ("general", "senior_tertiary")
                for f, v in (
                    ("min_total", "-1"),
                    ("min_class_i", "30"),
                    ("max_class_i", "1"),
                    ("min_class_ii", "40"),
                    ("max_class_ii", "2"),
                    ("five_year_national", "-3"),
                    ("advanced_study_months", "-1"),
                )
            },
        ),
        (
            "credits:entry_policy",
            "province_admin",
            {"form": "policy", "policy-earliest_year": "1800", "policy-platform_days": "-1"},
        ),
    ],
)
def test_no_database_message_reaches_a_person_on_other_forms(client, cast, tree, url_name, who, data):
    client.force_login(cast[who])
    response = client.post(reverse(url_name), data)
    assert response.status_code == 200
    shown = response.content.decode()
    assert [name for name in constraint_names() if name in shown] == []
    assert not re.search(r"约束|constraint|violates|IntegrityError", shown, re.I)


def test_a_session_form_with_out_of_range_values_answers_in_chinese(client, cast, tree):
    project = ProjectFactory(holding_unit=tree["unit_a"], credits=5)
    client.force_login(cast["organiser"])
    response = client.post(
        reverse("projects:session_new", args=[project.pk]),
        {
            "venue": "甲市",
            "start_date": "2026-12-01",
            "end_date": "2026-12-02",
            "credits": "-1",
            "hours": "-3",
        },
    )
    form = response.context["form"]
    assert form.errors["credits"] and form.errors["hours"]
    assert not [name for name in constraint_names() if name in response.content.decode()]
    assert not Session.objects.exists()


def test_no_database_message_on_the_plan_discipline_batch_and_correction_forms(client, cast, tree):
    """The other forms whose fields have database constraints behind them."""
    from datetime import date as day

    session = held_session(cast["organiser"], tree["unit_a"], day(2026, 12, 1), day(2026, 12, 2), hours=12)
    record = ledger_row(cast["learner"])
    cases = [
        (
            cast["organiser"],
            reverse("attendance:codes", args=[session.pk]),
            {"refresh_minutes": "0", "mode": "session", "day_start": "18:00", "day_end": "08:00", "required_hours": "-1"},
        ),
        (cast["province_admin"], reverse("projects:discipline_new"), {"year": "2026", "code": "3-5", "name": "x"}),
        (cast["unit_admin"], reverse("credits:batch_new"), {**FORM, "credits": "-1", "learners": [cast["learner"].pk]}),
        (
            cast["learner"],
            reverse("credits:correction_new", args=[record.pk]),
            {"kind": "correct", "credits": "-1", "hours": "-2", "year": "0", "reason": "x"},
        ),
    ]
    for who, url, data in cases:
        client.force_login(who)
        response = client.post(url, data)
        shown = response.content.decode()
        assert response.status_code == 200, url
        assert [name for name in constraint_names() if name in shown] == [], url
        assert not re.search(r"约束|constraint|violates|IntegrityError", shown, re.I), url


def test_the_province_switches_a_platform_off_and_on(client, cast):
    platform = Platform.objects.get(name__contains="华医网")
    client.force_login(cast["province_admin"])
    client.post(reverse("credits:entry_policy"), {"form": "toggle", "platform": platform.pk, "active": "0"})
    platform.refresh_from_db()
    assert not platform.active
    assert enter(client, cast["learner"], issuer="华医网").status_code == 302
    client.force_login(cast["province_admin"])
    assert client.post(reverse("credits:entry_policy"), {"form": "toggle", "platform": "x"}).status_code == 404


@pytest.mark.parametrize("issuer", ["人民卫生电子音像出版社", "中华医学会", "北京协和医院", "中华医学", "华医"])
def test_real_issuers_are_not_mistaken_for_platforms(client, cast, issuer):
    from credits.rules import platform_named

    assert platform_named(issuer) is None


def test_an_advanced_studys_certificate_date_is_not_in_the_future(client, cast):
    response = enter(
        client,
        cast["learner"],
        category="advanced_study",
        activity_number="",
        issuer="浙江大学医学院附属第一医院",
        credits="5",
        hours="0",
        start_date="2026-06-01",
        end_date="2026-06-30",
        certificate_date="2031-01-01",
    )
    assert "不能晚于今天" in errors(response, "certificate_date")
    assert not CreditEntry.objects.exists()


def test_an_import_never_shows_a_database_message(cast, tree):
    from projects.imports import ImportFailed, import_projects

    from .test_project_catalogue import GOOD, HEADERS, sheet

    rows = [
        [*GOOD, "2200"],
        ["2021-03-05-130（国）", "名" * 250, "", "负责人", "", "2021年3月27日-3月28日", "国家级I类4分", "abc"],
    ]
    with pytest.raises(ImportFailed) as failed:
        import_projects(sheet(*rows, headers=[*HEADERS, "项目年份"]), entry=Entry.REMOTE_FILED)
    shown = " ".join(e.reason for e in failed.value.errors)
    assert "1990 至 2100" in shown and "最多 200 个字" in shown
    assert [n for n in constraint_names() if n in shown] == [] and "invalid literal" not in shown
