"""W3 at the door with a frozen clock: codes, windows, scans, the survey, hours."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal as D
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from attendance import services, tokens
from attendance.models import Attendance, AttendancePlan, DeniedScan, PairMode, SurveyResponse
from cme_portal.accounts.models import Role, User
from projects.models import Session

from .conftest import last_sms_code
from .factories import ProjectFactory, learner, resident_id, staff

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
DAY1 = date(2026, 12, 1)
LAST = DAY1 + timedelta(days=1)  # the fixture's session runs two days


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


@pytest.fixture
def session(tree):
    organiser = staff(Role.ORGANISER, tree["unit_a"])
    project = ProjectFactory(holding_unit=tree["unit_a"], name="心血管进展学习班")
    session = Session.objects.create(
        project=project,
        venue="甲市会议中心",
        start_date=DAY1,
        end_date=DAY1 + timedelta(days=1),
        credits=5,
        hours=16,
        state="approved",
        organiser=organiser,
        unit=tree["unit_a"],
    )
    # Ten-minute codes, 08:30–17:30; one test client plays many phones here (一机一人 has its own tests).
    AttendancePlan.objects.create(session=session, refresh_seconds=600, one_device_one_person=False)
    return session


def door(session, direction, moment):
    plan = services.plan_for(session)
    return reverse("attendance:door", args=[session.pk, direction, services.current_code(plan, direction, moment)])


ANSWERS = {
    "q1": "是",
    "q2": "部分知道",
    "q3": "很大",
    "q4": "很好",
    "q5": "满意",
    "q6": "满意",
    "q7": ["开阔思路", "提高理论水平"],
}


# --- codes -------------------------------------------------------------------------------


def test_codes_rotate_and_the_previous_window_still_works(session):
    plan = services.plan_for(session)
    first = services.current_code(plan, "in", at(DAY1, 9, 0))
    assert services.current_code(plan, "in", at(DAY1, 9, 9)) == first
    second = services.current_code(plan, "in", at(DAY1, 9, 10))
    assert second != first
    no_day = lambda moment: None  # noqa: E731  (session mode: codes do not depend on the day)
    assert tokens.token_matches(first, session.pk, "in", no_day, 600, at(DAY1, 9, 15))  # previous window
    assert not tokens.token_matches(first, session.pk, "in", no_day, 600, at(DAY1, 9, 20))  # two windows on
    assert services.current_code(plan, "out", at(DAY1, 9, 0)) != first  # each direction its own code


def test_a_forged_code_is_refused_and_recorded(client, session):
    with time_machine.travel(at(DAY1, 9), tick=False):
        response = client.get(reverse("attendance:door", args=[session.pk, "in", "aaaaaaaaaaaaaaaa"]))
    assert response.status_code == 403 and "二维码无效" in response.content.decode()
    assert DeniedScan.objects.get().reason == "forged"
    assert not Attendance.objects.exists()


def test_an_expired_code_says_so(client, session):
    url = door(session, "in", at(DAY1, 9, 0))
    with time_machine.travel(at(DAY1, 9, 25), tick=False):
        response = client.get(url)
    assert response.status_code == 403 and "已过期" in response.content.decode()
    assert DeniedScan.objects.get().reason == "expired"


@pytest.mark.parametrize(
    "moment, ok",
    [
        (at(DAY1, 7, 29), False),  # before the window opens (an hour before 08:30)
        (at(DAY1, 7, 30), True),  # the edge: opens
        (at(DAY1 + timedelta(days=1), 17, 30), True),  # the last minute of the session
        (at(DAY1 + timedelta(days=1), 17, 31), False),  # check-in is closed
    ],
)
def test_check_in_window_edges(client, session, moment, ok):
    with time_machine.travel(moment, tick=False):
        response = client.get(door(session, "in", moment))
    assert (response.status_code == 200) is ok
    if not ok:
        assert "不在签到时间内" in response.content.decode()
        assert DeniedScan.objects.get().reason == "outside_window"


def test_a_session_not_approved_has_no_door(client, session):
    Session.objects.filter(pk=session.pk).update(state="forwarded")
    with time_machine.travel(at(DAY1, 9), tick=False):
        response = client.get(door(session, "in", at(DAY1, 9)))
    assert response.status_code == 403 and "尚未获准举办" in response.content.decode()


# --- check-in ------------------------------------------------------------------------------


def test_a_known_learner_confirms_masked_details_and_a_repeat_changes_nothing(client, session, tree):
    person = learner(unit=tree["unit_a"], name="王秀英", mobile="13912345678")
    with time_machine.travel(at(DAY1, 8, 50), tick=False):
        url = door(session, "in", at(DAY1, 8, 50))
        page = client.post(url, {"step": "identify", "identifier": person.id_number.lower()}).content.decode()
        assert "王*英" in page and "139****5678" in page and "13912345678" not in page
        done = client.post(url, {"step": "confirm", "identifier": person.id_number})
        assert "签到成功" in done.content.decode()
    with time_machine.travel(at(DAY1, 9, 30), tick=False):
        again = client.post(door(session, "in", at(DAY1, 9, 30)), {"step": "confirm", "identifier": person.id_number})
    assert "您已签到，无需重复扫码" in again.content.decode()
    attendance = Attendance.objects.get()
    assert attendance.checked_in_at == at(DAY1, 8, 50)


def door_registration(tree, number, **changes):
    return {
        "step": "register",
        "id_type": "resident_id",
        "id_number": number,
        "name": "新学员",
        "mobile": "13700001111",
        "unit": tree["unit_a"].pk,
        "department": "心内科",
        "unit_location": "甲市",
        "grassroots": "0",
        "title": "junior",
        "position": "staff",
        "education": "bachelor",
        **changes,
    }


def test_a_new_learner_fills_the_seed_form_and_gets_a_claimable_account(
    client, session, tree, django_capture_on_commit_callbacks
):
    number = resident_id(7, birth=date(1990, 6, 15))
    with time_machine.travel(at(DAY1, 8, 45), tick=False):
        url = door(session, "in", at(DAY1, 8, 45))
        form = client.post(url, {"step": "identify", "identifier": number})
        assert "首次签到" in form.content.decode()
        # The mobile typed is confirmed by SMS before anything is written.
        with django_capture_on_commit_callbacks(execute=True):
            sent = client.post(url, door_registration(tree, number, send_code="1"))
        assert "验证码已发送至 137****1111" in sent.content.decode() and "新学员" in sent.content.decode()
        assert not User.objects.filter(id_number=number).exists()
        response = client.post(url, door_registration(tree, number, sms_code=last_sms_code("13700001111")))
    assert "签到成功" in response.content.decode() and "您的信息注册成功" in response.content.decode()
    user = User.objects.get(id_number=number)
    assert not user.claimed and not user.has_usable_password()
    assert user.profile.sex == "M" and user.profile.birth_date == date(1990, 6, 15) and user.has_role(Role.LEARNER)
    assert Attendance.objects.filter(learner=user).exists()


def test_a_wrong_sms_code_at_the_door_writes_nothing(client, session, tree, django_capture_on_commit_callbacks):
    number = resident_id(9, birth=date(1990, 6, 15))
    with time_machine.travel(at(DAY1, 8, 45), tick=False):
        url = door(session, "in", at(DAY1, 8, 45))
        client.get(url)  # the door page gives the phone its mark
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url, door_registration(tree, number, send_code="1"))
        code = last_sms_code("13700001111")
        wrong = "000000" if code != "000000" else "111111"
        response = client.post(url, door_registration(tree, number, sms_code=wrong))
    page = response.content.decode()
    assert "短信验证码不正确" in page and "新学员" in page  # refused, and the form kept what was typed
    assert not User.objects.filter(id_number=number).exists() and not Attendance.objects.exists()


def test_the_door_form_keeps_input_and_refuses_a_taken_mobile(client, session, tree):
    learner(unit=tree["unit_a"], mobile="13700001111")
    number = resident_id(8, birth=date(1990, 6, 15))
    with time_machine.travel(at(DAY1, 8, 45), tick=False):
        client.get(door(session, "in", at(DAY1, 8, 45)))  # the door page gives the phone its mark
        response = client.post(door(session, "in", at(DAY1, 8, 45)), door_registration(tree, number, send_code="1"))
    page = response.content.decode()
    assert "已绑定其他账号" in page and "新学员" in page and "心内科" in page
    assert not Attendance.objects.exists()
    from cme_portal.accounts.models import SmsCode

    assert not SmsCode.objects.exists()  # no code goes to a mobile another account holds


def test_a_signed_in_learner_is_prefilled(client, session, tree):
    person = learner(unit=tree["unit_a"], name="张三丰")
    with time_machine.travel(at(DAY1, 9), tick=False):
        client.force_login(person)
        page = client.get(door(session, "in", at(DAY1, 9))).content.decode()
    assert "张*丰" in page and "确认签到" in page


# --- check-out -----------------------------------------------------------------------------


def checked_in(session, person, moment):
    plan = services.plan_for(session)
    return services.check_in(session, person, moment, services.scan_day(plan, moment))[0]


def test_check_out_with_the_survey(client, session, tree):
    person = learner(unit=tree["unit_a"], mobile="13912345678")
    checked_in(session, person, at(DAY1, 8, 40))
    moment = at(DAY1 + timedelta(days=1), 17, 50)
    with time_machine.travel(moment, tick=False):
        url = door(session, "out", moment)
        survey = client.post(url, {"step": "identify", "identifier": "13912345678"}).content.decode()
        assert "调查问卷" in survey and "选两项" in survey
        done = client.post(url, {"step": "survey", "identifier": person.id_number, **ANSWERS})
    assert "撤离成功" in done.content.decode()
    attendance = Attendance.objects.get()
    # 08:40 → 17:30 on day one (clipped from 08:30 start to 17:30 end = 8.8 h) + 08:30 → 17:30 on day two (9 h).
    assert attendance.hours == D("17.8")
    assert SurveyResponse.objects.get().answers["q7"] == ["开阔思路", "提高理论水平"]


@pytest.mark.parametrize(
    "q7, ok", [(["开阔思路"], False), (["开阔思路", "提高理论水平", "提高操作能力"], False), (["开阔思路", "提高理论水平"], True)]
)
def test_choose_two_is_enforced(client, session, tree, q7, ok):
    person = learner(unit=tree["unit_a"])
    checked_in(session, person, at(DAY1, 9))
    moment = at(LAST, 17)
    with time_machine.travel(moment, tick=False):
        response = client.post(
            door(session, "out", moment), {"step": "survey", "identifier": person.id_number, **ANSWERS, "q7": q7}
        )
    assert ("撤离成功" in response.content.decode()) is ok
    if not ok:
        assert "第 7 题请选择 2 项" in response.content.decode()
        assert Attendance.objects.get().checked_out_at is None


def test_every_question_must_be_answered(client, session, tree):
    person = learner(unit=tree["unit_a"])
    checked_in(session, person, at(DAY1, 9))
    with time_machine.travel(at(LAST, 17), tick=False):
        answers = {k: v for k, v in ANSWERS.items() if k != "q3"}
        response = client.post(door(session, "out", at(LAST, 17)), {"step": "survey", "identifier": person.id_number, **answers})
    assert "第 3 题请选择 1 项" in response.content.decode()


def test_check_out_without_check_in_is_refused_and_recorded(client, session, tree):
    person = learner(unit=tree["unit_a"], mobile="13912345678")
    with time_machine.travel(at(LAST, 17), tick=False):
        response = client.post(door(session, "out", at(LAST, 17)), {"step": "identify", "identifier": "13912345678"})
    assert response.status_code == 409 and "请先扫描签到二维码" in response.content.decode()
    assert DeniedScan.objects.get().reason == "no_check_in"
    assert not Attendance.objects.filter(learner=person).exists()


def test_a_repeated_check_out_changes_nothing(client, session, tree):
    person = learner(unit=tree["unit_a"])
    checked_in(session, person, at(DAY1, 9))
    with time_machine.travel(at(LAST, 17), tick=False):
        url = door(session, "out", at(LAST, 17))
        client.post(url, {"step": "survey", "identifier": person.id_number, **ANSWERS})
    with time_machine.travel(at(LAST, 18), tick=False):
        again = client.post(door(session, "out", at(LAST, 18)), {"step": "identify", "identifier": person.id_number})
    assert "您已撤离" in again.content.decode()
    assert Attendance.objects.get().checked_out_at == at(LAST, 17)
    assert SurveyResponse.objects.count() == 1


def test_daily_mode_needs_a_pair_each_day_with_codes_per_day(session, tree):
    AttendancePlan.objects.filter(session=session).update(mode=PairMode.DAILY)
    session = Session.objects.get(pk=session.pk)
    plan = services.plan_for(session)
    day2 = DAY1 + timedelta(days=1)
    code_day1 = services.current_code(plan, "in", at(DAY1, 9))
    # The same clock time on the next day gives another code: a day-one poster does not open day two.
    assert services.current_code(plan, "in", at(day2, 9)) != code_day1
    person = learner(unit=tree["unit_a"])
    for day in (DAY1, day2):
        checked_in(session, person, at(day, 8, 30))
        services.check_out(session, person, at(day, 12, 30), day, ANSWERS, plan)
    rows = {a.day: a.hours for a in Attendance.objects.filter(learner=person)}
    assert rows == {DAY1: D("4.0"), day2: D("4.0")}
    row = services.roster_rows(session, plan)[0]
    assert (row["days"], row["complete"], row["hours"], row["meets"]) == (2, 2, D("8.0"), False)  # 18 h scheduled


def test_hours_are_clipped_to_the_schedule(session):
    plan = services.plan_for(session)
    assert services.attended_hours(plan, at(DAY1, 6, 0), at(DAY1, 20, 0)) == D("9.0")
    assert services.attended_hours(plan, at(DAY1, 12, 0), at(DAY1, 13, 30)) == D("1.5")
    assert plan.scheduled_hours == D("18.0")


def test_a_mobile_typed_at_the_door_never_brings_back_the_document_number(client, session, tree):
    person = learner(unit=tree["unit_a"], name="王秀英", mobile="13912345678")
    checked_in(session, person, at(DAY1, 9))
    with time_machine.travel(at(DAY1, 9), tick=False):
        page = client.post(door(session, "in", at(DAY1, 9)), {"step": "identify", "identifier": "13912345678"}).content.decode()
    assert person.id_number not in page and "王*英" in page
    with time_machine.travel(at(LAST, 17), tick=False):
        page = client.post(door(session, "out", at(LAST, 17)), {"step": "identify", "identifier": "13912345678"}).content.decode()
    assert person.id_number not in page and "调查问卷" in page
    with time_machine.travel(at(LAST, 17), tick=False):
        done = client.post(door(session, "out", at(LAST, 17)), {"step": "survey", "identifier": "13912345678", **ANSWERS})
    assert "撤离成功" in done.content.decode()


def test_in_session_mode_check_out_opens_on_the_last_day(client, session, tree):
    person = learner(unit=tree["unit_a"])
    checked_in(session, person, at(DAY1, 9))
    with time_machine.travel(at(DAY1, 17, 40), tick=False):
        early = client.post(door(session, "out", at(DAY1, 17, 40)), {"step": "identify", "identifier": person.id_number})
    assert early.status_code == 403 and "不在撤离时间内" in early.content.decode()
    assert Attendance.objects.get().checked_out_at is None


def test_daily_mode_yesterdays_code_is_expired_not_forged(client, session):
    AttendancePlan.objects.filter(session=session).update(mode=PairMode.DAILY, refresh_seconds=86400)
    plan = services.plan_for(Session.objects.get(pk=session.pk))
    yesterdays = services.current_code(plan, "in", at(DAY1, 9))
    two_days_on = at(DAY1 + timedelta(days=2), 9)
    # The session's third day does not exist; move the session one day on so day two is in it.
    Session.objects.filter(pk=session.pk).update(end_date=DAY1 + timedelta(days=2))
    with time_machine.travel(at(DAY1 + timedelta(days=1), 9), tick=False):
        # Yesterday's window is the previous one: still accepted, with yesterday's day.
        assert client.get(reverse("attendance:door", args=[session.pk, "in", yesterdays])).status_code == 200
    from attendance.selectors import forget_door_sessions

    forget_door_sessions()
    with time_machine.travel(two_days_on, tick=False):
        response = client.get(reverse("attendance:door", args=[session.pk, "in", yesterdays]))
    assert response.status_code == 403 and "已过期" in response.content.decode()


def test_a_poster_printed_in_advance_carries_the_days_code(client, session):
    """The projector's code turns every few minutes; a printed poster keeps its day's code, that day only,
    and the scans it lets in are marked as poster scans for the roster."""
    plan = services.plan_for(session)
    printed = services.code_for_day(plan, "in", DAY1)
    assert printed != services.current_code(plan, "in", at(DAY1, 7, 45))
    person = learner(unit=session.unit)
    url = reverse("attendance:door", args=[session.pk, "in", printed])
    with time_machine.travel(at(DAY1, 16, 50), tick=False):  # hours after any projector code of the morning
        assert client.get(url).status_code == 200
        client.post(url, {"step": "confirm", "identifier": person.id_number})
    assert Attendance.objects.get(learner=person).in_via == "poster"
    with time_machine.travel(at(LAST, 9), tick=False):
        response = client.get(url)
    assert response.status_code == 403 and "已过期" in response.content.decode()


@pytest.mark.parametrize("token", ["不是二维码", "aaaa", "AAAAAAAAAAAAAAAAAAAA"])
def test_malformed_codes_are_refused_as_forged(client, session, token):
    with time_machine.travel(at(DAY1, 9), tick=False):
        response = client.get(f"/attendance/s/{session.pk}/in/{token}/")
    assert response.status_code == 403 and "二维码无效" in response.content.decode()


def test_a_refused_registration_keeps_every_answer_in_its_control(client, session, tree):
    """The door's registration form is drawn by hand (attendance.forms.DrawnField), not by crispy-forms: what was
    typed, picked and ticked comes back, each control labelled, the refused ones marked for screen readers."""
    number = resident_id(8, birth=date(1991, 3, 2))
    with time_machine.travel(at(DAY1, 8, 45), tick=False):
        url = door(session, "in", at(DAY1, 8, 45))
        page = client.post(url, door_registration(tree, number, name="", grassroots="1", title="senior")).content.decode()
    assert f'name="id_number" class="textinput form-control" id="id_id_number" maxlength="32" value="{number}" required' in page
    assert f'<option value="{tree["unit_a"].pk}" selected>' in page and '<option value="senior" selected>' in page
    assert '<option value="resident_id" selected>' in page and 'value="1" id="id_grassroots_0" required checked>' in page
    assert 'value="0" id="id_grassroots_1" required>' in page  # only the answer given is ticked
    assert 'class="textinput form-control is-invalid" aria-describedby="id_name_error" aria-invalid="true" id="id_name"' in page
    assert '<div id="id_name_error" class="invalid-feedback"><p id="error_1_id_name"><strong>' in page
    assert 'value="内科"' not in page and 'value="心内科"' in page
    for control in ("id_type", "id_number", "name", "age", "mobile", "sms_code", "unit", "unit_name", "department"):
        assert f'<label for="id_{control}"' in page and f'id="id_{control}"' in page
    assert '<legend class="form-label fs-6 requiredField">' in page  # the radio groups are fieldsets with a legend


def test_the_door_finds_a_learner_with_what_it_shows_in_one_query(session, tree, django_assert_num_queries):
    person = learner(unit=tree["unit_a"], name="王秀英", mobile="13912345678")
    bare = User.objects.create_user(resident_id(9), name="李无档")
    with django_assert_num_queries(1):
        by_mobile = services.find_learner("13912345678")
        shown = services.masked(by_mobile)  # profile and unit came with it
    with django_assert_num_queries(1):
        by_number = services.find_learner(person.id_number.lower())
    assert by_mobile.pk == by_number.pk == person.pk
    assert shown["name"] == "王*英" and shown["unit"] == tree["unit_a"].name
    with django_assert_num_queries(1):
        found = services.find_learner(bare.id_number)
        assert services.masked(found)["unit"] == "" and found.name == "李无档"
    assert services.find_learner("13900000000") is None
    with django_assert_num_queries(1):
        assert found.date_joined == bare.date_joined  # what it did not read is loaded when asked for, never wrong


def test_the_door_unit_list_is_kept_a_minute_and_the_unit_picked_is_still_checked(client, session, tree, monkeypatch):
    from attendance import selectors
    from cme_portal.accounts.models import Organisation, OrgKind

    number = resident_id(10, birth=date(1992, 4, 5))
    with time_machine.travel(at(DAY1, 8, 45), tick=False):
        url = door(session, "in", at(DAY1, 8, 45))
        first = client.post(url, {"step": "identify", "identifier": number}).content.decode()
        opened = Organisation.objects.create(name="新开医院", parent=tree["city_a"], kind=OrgKind.UNIT)
        again = client.post(url, {"step": "identify", "identifier": number}).content.decode()
        assert tree["unit_a"].name in first and "新开医院" not in again  # the list as read a moment ago
        refused = client.post(url, door_registration(tree, number, unit="999999", sms_code="123456")).content.decode()
        assert 'id="id_unit_error"' in refused  # a unit that is not one is refused, whatever the list showed
        clock = selectors.time.monotonic
        monkeypatch.setattr(selectors, "time", SimpleNamespace(monotonic=lambda: clock() + 61))  # a minute on
        later = client.post(url, {"step": "identify", "identifier": number}).content.decode()
    assert f'<option value="{opened.pk}">' in later


def test_the_first_page_is_drawn_once_and_each_phone_gets_its_own_token(session, tree):
    """Every phone opens the same empty form: it is drawn once (attendance.views.Door.render_blank) and each
    phone's CSRF token put in; the token works, and a renamed project shows its new name at once."""
    import re

    from django.test import Client

    person = learner(unit=tree["unit_a"], name="王秀英")
    token_in = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    with time_machine.travel(at(DAY1, 8, 50), tick=False):
        url = door(session, "in", at(DAY1, 8, 50))
        phones = [Client(enforce_csrf_checks=True) for _ in range(2)]
        pages = [phone.get(url).content.decode() for phone in phones]
        tokens = [token_in.search(page).group(1) for page in pages]
        assert tokens[0] != tokens[1] and "door-csrf-token-slot" not in pages[0]
        assert token_in.sub("", pages[0]) == token_in.sub("", pages[1]) and "心血管进展学习班" in pages[0]
        answer = phones[1].post(url, {"step": "identify", "identifier": person.id_number, "csrfmiddlewaretoken": tokens[1]})
        assert answer.status_code == 200 and "王*英" in answer.content.decode()
        assert phones[0].post(url, {"step": "identify", "identifier": person.id_number}).status_code == 403  # no token
        session.project.name = "心血管进展学习班（第二版）"
        session.project.save(update_fields=["name"])
        from attendance.selectors import forget_door_sessions

        forget_door_sessions()  # the door reads the session again within five seconds
        assert "心血管进展学习班（第二版）" in Client().get(url).content.decode()


def test_the_units_are_grouped_under_their_city_at_the_door_and_on_registration(client, session, tree):
    """A province's thousand units read as a few dozen headings on a phone's picker: one <optgroup> per city or
    district, each unit once, under its own heading; the same on the registration page."""
    import re

    from cme_portal.accounts.models import Organisation, OrgKind

    later = Organisation.objects.create(name="甲市第二医院", parent=tree["city_a"], kind=OrgKind.UNIT)  # after the district
    number = resident_id(11, birth=date(1993, 5, 6))
    with time_machine.travel(at(DAY1, 8, 45), tick=False):
        door_page = client.post(door(session, "in", at(DAY1, 8, 45)), {"step": "identify", "identifier": number})
    register_page = client.get(reverse("accounts:register"))
    for page in (door_page.content.decode(), register_page.content.decode()):
        unit_select = re.search(r'<select name="unit".*?</select>', page, re.S).group(0)
        groups = {
            label: re.findall(r'<option value="(\d+)"', body)
            for label, body in re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', unit_select, re.S)
        }
        assert groups == {
            "甲市": [str(tree["unit_a"].pk), str(later.pk)],
            "甲市东区": [str(tree["unit_a2"].pk)],
            "乙市": [str(tree["unit_b"].pk)],
        }
        assert ">甲市人民医院</option>" in unit_select  # the heading says the city; the option, the unit
