"""W4: the organiser submits the roster, the unit adjusts with reasons and forwards,
the province returns, then approves, and the credits appear in the learners' ledgers."""

import io
import threading
from datetime import timedelta
from decimal import Decimal as D

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from attendance import services
from attendance.models import Attendance, AttendancePlan, Roster, RosterState
from attendance.tasks import remind_roster_deadlines
from cme_portal.accounts.models import Role
from cme_portal.review.models import Notification
from credits.models import CreditRecord
from projects.models import Session

from .factories import ProjectFactory, learner, staff
from .test_attendance import ANSWERS, DAY1, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(cast, tree):
    """A one-day session held on DAY1: three stayed all day, one left early, one never checked out."""
    project = ProjectFactory(holding_unit=tree["unit_a"], credits=5, name="心衰进展")
    session = Session.objects.create(
        project=project,
        venue="甲市",
        start_date=DAY1,
        end_date=DAY1,
        credits=5,
        hours=9,
        state="approved",
        organiser=cast["organiser"],
        unit=tree["unit_a"],
    )
    plan = AttendancePlan.objects.create(session=session, one_device_one_person=False)
    people = [learner(unit=tree["unit_a"], name=f"学员{n}") for n in range(5)]
    for n, person in enumerate(people):
        services.check_in(session, person, at(DAY1, 8, 20), DAY1)
        if n < 4:
            leave = at(DAY1, 17, 40) if n < 3 else at(DAY1, 11, 0)
            services.check_out(session, person, leave, DAY1, ANSWERS, plan)
    return session, people


def act(client, user, session, action, reason=""):
    client.force_login(user)
    return client.post(reverse("attendance:roster_action", args=[session.pk]), {"action": action, "reason": reason}, follow=True)


def test_the_roster_chain_with_a_return_and_the_award(client, cast, held, django_capture_on_commit_callbacks):
    with time_machine.travel(at(DAY1 + timedelta(days=1), 10)):  # the session is over
        session, people = held
        client.force_login(cast["organiser"])
        page = client.get(reverse("attendance:roster", args=[session.pk]))
        assert page.context["totals"] == {"flagged": 0, "learners": 5, "complete": 4, "meets": 3, "surveys": 4, "selected": 0}

        act(client, cast["organiser"], session, "submit")
        roster = Roster.objects.get()
        assert roster.state == RosterState.SUBMITTED and roster.due_date == DAY1 + timedelta(days=14)
        selected = set(roster.selections.filter(selected=True).values_list("learner_id", flat=True))
        assert selected == {p.pk for p in people[:3]}  # pre-selected: met the hours with both scans

        # The unit admin adds the one who left early, with a reason; without one it is refused.
        client.force_login(cast["unit_admin"])
        url = reverse("attendance:roster_select", args=[session.pk])
        page = client.post(url, {"learner": people[3].pk, "selected": "1", "reason": ""}, follow=True)
        assert "请写明理由" in page.content.decode()
        client.post(url, {"learner": people[3].pk, "selected": "1", "reason": "下午在院内急诊值班，经科室证明"})
        assert roster.selections.get(learner=people[3]).selected

        act(client, cast["unit_admin"], session, "forward")
        act(client, cast["province_admin"], session, "province_return", "请补充第四位学员的值班证明")
        roster.refresh_from_db()
        assert roster.state == RosterState.RETURNED and not CreditRecord.objects.exists()

        with django_capture_on_commit_callbacks(execute=True):
            act(client, cast["organiser"], session, "submit")
            act(client, cast["unit_admin"], session, "forward")
            act(client, cast["province_admin"], session, "approve")
        roster.refresh_from_db()
        assert roster.state == RosterState.APPROVED
        awarded = CreditRecord.objects.filter(session=session)
        assert {r.learner_id for r in awarded} == {p.pk for p in people[:4]}
        assert all(r.credits == D("5") and r.source == "award" for r in awarded)

        client.force_login(people[0])
        ledger = client.get(reverse("credits:my_credits"), {"year": DAY1.year})
        assert "心衰进展" in ledger.content.decode()
        assert Notification.objects.filter(user=cast["organiser"], message__contains="审核通过").exists()


def test_a_roster_cannot_be_submitted_before_the_session_ends(client, cast, held):
    session, _people = held
    with time_machine.travel(at(DAY1, 16)):
        page = act(client, cast["organiser"], session, "submit")
    assert "项目尚未结束" in page.content.decode()
    assert Roster.objects.get().state == RosterState.DRAFT


def test_reminders_find_rosters_nobody_opened_yet(cast, held):
    session, _people = held
    assert not Roster.objects.exists()
    with time_machine.travel(at(DAY1 + timedelta(days=13), 9), tick=False):
        assert remind_roster_deadlines() == 1
    assert Roster.objects.get(session=session).due_date == DAY1 + timedelta(days=14)


def test_roster_export(client, cast, held):
    session, _people = held
    client.force_login(cast["organiser"])
    response = client.get(reverse("attendance:roster_export", args=[session.pk]))
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 6 and rows[0][0] == "姓名"
    assert {row[8] for row in rows[1:]} == {"是", "否"}


@pytest.mark.parametrize("who", ["colleague", "other_unit_admin", "city_admin", "learner"])
def test_roster_pages_refuse_outsiders(client, cast, held, who):
    session, _people = held
    client.force_login(cast[who])
    for name in ("roster", "roster_export", "survey_results"):
        assert client.get(reverse(f"attendance:{name}", args=[session.pk])).status_code == 404, name
    assert client.post(reverse("attendance:roster_action", args=[session.pk]), {"action": "submit"}).status_code == 404
    assert client.post(reverse("attendance:roster_select", args=[session.pk]), {"learner": 1, "selected": "1"}).status_code == 404


@pytest.mark.parametrize(
    "action, state, allowed, refused",
    [
        ("forward", RosterState.SUBMITTED, "unit_admin", ["organiser", "province_admin"]),
        ("approve", RosterState.FORWARDED, "province_admin", ["organiser", "unit_admin"]),
    ],
)
def test_each_roster_step_is_taken_only_by_its_role(client, cast, held, action, state, allowed, refused):
    session, _people = held
    roster = services.roster_for(session)
    Roster.objects.filter(pk=roster.pk).update(state=state)
    for name in refused:
        client.force_login(cast[name])
        assert client.post(reverse("attendance:roster_action", args=[session.pk]), {"action": action}).status_code == 404
    act(client, cast[allowed], session, action)
    roster.refresh_from_db()
    assert roster.state != state


@pytest.mark.parametrize("who", ["colleague", "unit_admin", "province_admin", "learner"])
def test_codes_posters_and_projector_are_the_organisers(client, cast, held, who):
    session, _people = held
    client.force_login(cast[who])
    for name, extra in (("codes", []), ("poster", ["in"]), ("projector", ["out"])):
        assert client.get(reverse(f"attendance:{name}", args=[session.pk, *extra])).status_code == 404, name


def test_the_organiser_gets_posters_and_a_self_refreshing_projector(client, cast, held):
    session, _people = held
    client.force_login(cast["organiser"])
    with time_machine.travel(at(DAY1, 9), tick=False):
        client.force_login(cast["organiser"])
        poster = client.get(reverse("attendance:poster", args=[session.pk, "in"]))
        projector = client.get(reverse("attendance:projector", args=[session.pk, "in"]))
    assert poster["Content-Type"] == "application/pdf" and poster.content.startswith(b"%PDF-")
    page = projector.content.decode()
    assert '<meta http-equiv="refresh"' in page and "<svg" in page


def test_overdue_rosters_are_flagged_and_reminded(client, cast, held):
    session, _people = held
    roster = services.roster_for(session)
    with time_machine.travel(at(DAY1 + timedelta(days=15), 9), tick=False):
        assert roster.overdue
        assert remind_roster_deadlines() == 1
        assert remind_roster_deadlines() == 0  # once a day
        client.force_login(cast["unit_admin"])
        page = client.get(reverse("attendance:roster_queue", args=["unit"]), {"show": "all"}).content.decode()
    assert "已逾期" in page
    assert Notification.objects.filter(user=cast["organiser"], message__contains="已逾期").exists()


def test_survey_results_count_the_answers(client, cast, held):
    session, _people = held
    client.force_login(cast["unit_admin"])
    page = client.get(reverse("attendance:survey_results", args=[session.pk]))
    assert page.context["count"] == 4
    q7 = page.context["results"][6]
    assert dict(q7["rows"])["开阔思路"] == 4 and dict(q7["rows"])["提高操作能力"] == 0
    project_page = client.get(reverse("attendance:project_survey_results", args=[session.project_id]))
    assert project_page.context["count"] == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_learner_checking_in_from_two_connections_gives_one_row(tree):
    organiser = staff(Role.ORGANISER, tree["unit_a"])
    session = Session.objects.create(
        project=ProjectFactory(holding_unit=tree["unit_a"]),
        venue="甲市",
        start_date=DAY1,
        end_date=DAY1,
        credits=5,
        hours=9,
        state="approved",
        organiser=organiser,
        unit=tree["unit_a"],
    )
    person = learner(unit=tree["unit_a"])
    barrier = threading.Barrier(2)
    outcomes = []

    def scan():
        try:
            barrier.wait(timeout=10)
            outcomes.append(services.check_in(session, person, at(DAY1, 9), DAY1)[1])
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == [False, True]
    assert Attendance.objects.filter(session=session, learner=person).count() == 1


def test_a_poster_printed_the_day_before_opens_the_door_on_the_day(client, cast, held):

    from pypdf import PdfReader

    session, _people = held
    with time_machine.travel(at(DAY1 - timedelta(days=1), 15)):
        client.force_login(cast["organiser"])
        poster = client.get(reverse("attendance:poster", args=[session.pk, "in"]), {"day": DAY1.isoformat()})
        assert client.get(reverse("attendance:poster", args=[session.pk, "in"]), {"day": "2020-01-01"}).status_code == 404
    assert poster.status_code == 200
    assert "仅限 2026-12-01 当天使用" in PdfReader(io.BytesIO(poster.content)).pages[0].extract_text()
    code = services.code_for_day(services.plan_for(session), "in", DAY1)
    with time_machine.travel(at(DAY1, 8, 10)):
        assert client.get(reverse("attendance:door", args=[session.pk, "in", code])).status_code == 200


def test_the_province_has_two_weeks_from_the_forward(client, cast, held):
    """Seed 001 §3 (管理用户将于两周内完成审核): due date shown, reminders to the province, overdue flagged."""
    session, _people = held
    with time_machine.travel(at(DAY1 + timedelta(days=1), 10)):
        act(client, cast["organiser"], session, "submit")
    with time_machine.travel(at(DAY1 + timedelta(days=13), 10)):  # the unit forwards on its last day
        act(client, cast["unit_admin"], session, "forward")
        roster = Roster.objects.get()
        assert roster.province_due_date == DAY1 + timedelta(days=27) and not roster.overdue
        client.force_login(cast["province_admin"])
        page = client.get(reverse("attendance:roster", args=[session.pk])).content.decode()
        assert "省级审核截止" in page and (DAY1 + timedelta(days=27)).isoformat() in page
    with time_machine.travel(at(DAY1 + timedelta(days=25), 9), tick=False):
        assert remind_roster_deadlines() == 1
        assert Notification.objects.filter(user=cast["province_admin"], message__contains="省级审核将于").exists()
        assert not Notification.objects.filter(user=cast["organiser"], message__contains="省级审核").exists()
    with time_machine.travel(at(DAY1 + timedelta(days=28), 9), tick=False):
        roster.refresh_from_db()
        assert roster.overdue
        client.force_login(cast["province_admin"])
        queue = client.get(reverse("attendance:roster_queue", args=["province"])).content.decode()
        assert "已逾期" in queue and "省级审核截止" in queue
        assert remind_roster_deadlines() == 1
        assert Notification.objects.filter(user=cast["province_admin"], message__contains="省级审核已逾期").exists()
    act(client, cast["province_admin"], session, "approve")
    roster.refresh_from_db()
    assert roster.state == RosterState.APPROVED and not roster.overdue


def test_a_return_stops_the_provinces_clock(client, cast, held):
    session, _people = held
    with time_machine.travel(at(DAY1 + timedelta(days=1), 10)):
        act(client, cast["organiser"], session, "submit")
        act(client, cast["unit_admin"], session, "forward")
        act(client, cast["province_admin"], session, "province_return", "名单有误")
        roster = Roster.objects.get()
        assert roster.province_due_date is None and roster.current_due_date == roster.due_date


def test_the_roster_is_not_offered_for_submission_before_the_session_ends(client, cast, held):
    """Issue 13: 提交学员名单 was offered while the session was still running (the service refused it afterwards)."""
    session, _people = held
    with time_machine.travel(at(DAY1, 12, 0)):
        client.force_login(cast["organiser"])
        page = client.get(reverse("attendance:roster", args=[session.pk]))
        assert [t.action for t in page.context["actions"]] == []
        assert "后才能提交学员名单" in page.content.decode()
    with time_machine.travel(at(DAY1 + timedelta(days=1), 10)):
        client.force_login(cast["organiser"])
        page = client.get(reverse("attendance:roster", args=[session.pk]))
        assert [t.action for t in page.context["actions"]] == ["submit"]


def test_the_survey_results_page_is_titled_with_the_session(client, cast, held):
    """Issue 13: the navigation's "学分" menu title leaked into the page as 问卷结果 · 学分."""
    session, _people = held
    client.force_login(cast["organiser"])
    page = client.get(reverse("attendance:survey_results", args=[session.pk])).content.decode()
    assert f"<title>问卷结果 · {session}</title>" in page and f"问卷结果 · {session}</h1>" in page
    assert "问卷结果 · 学分" not in page
