"""One phone, one person (issue 11, W9): device marks and the roster's flags, 一机一人, codes that rotate on
the projector and posters that keep the day's, the desk for people without a phone, the late-arrival grace,
seed 001's check-out confirmation, "不是我", and accounts handed over to the real holder of a number."""

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from attendance import device, services, tokens
from attendance.models import Attendance, AttendancePlan, DeniedScan, DeskScan, DeskStaff, DoorPolicy, Roster
from cme_portal.accounts.models import AccountHandover, User
from cme_portal.review.models import Notification

from .conftest import last_sms_code
from .factories import held_session, learner, resident_id

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
DAY1 = date(2026, 12, 1)
DAY2 = DAY1 + timedelta(days=1)
ANSWERS = {
    "q1": "是",
    "q2": "部分知道",
    "q3": "很大",
    "q4": "很好",
    "q5": "满意",
    "q6": "满意",
    "q7": ["开阔思路", "提高理论水平"],
}


def at(day, hour, minute=0, second=0):
    return datetime.combine(day, time(hour, minute, second), tzinfo=TZ)


@pytest.fixture
def session(cast, tree):
    """Two days, 08:30–17:30: 18 scheduled hours; the projector's code turns every two minutes by default."""
    session = held_session(cast["organiser"], tree["unit_a"], DAY1, DAY2, hours=18)
    # The organiser allowed several people per phone, so the roster shows the flags (一机一人 is tested on its own).
    AttendancePlan.objects.create(session=session, one_device_one_person=False)
    return session


def phone():
    """A phone: its own cookie jar, so its own device mark once it has opened the door page."""
    return Client()


def door_url(session, direction, moment):
    plan = services.plan_for(session)
    return reverse("attendance:door", args=[session.pk, direction, services.current_code(plan, direction, moment)])


def check_in(client, session, person, moment):
    url = door_url(session, "in", moment)
    with time_machine.travel(moment, tick=False):
        client.get(url)
        return client.post(url, {"step": "confirm", "identifier": person.id_number})


def check_out(client, session, person, moment, answers=ANSWERS):
    url = door_url(session, "out", moment)
    with time_machine.travel(moment, tick=False):
        client.get(url)
        return client.post(url, {"step": "survey", "identifier": person.id_number, **answers})


def roster_page(client, user, session):
    with time_machine.travel(at(DAY2 + timedelta(days=1), 10)):
        client.force_login(user)  # sessions last a working day: sign in when the page is read
        return client.get(reverse("attendance:roster", args=[session.pk]))


def flags_of(page, person):
    for row in page.context["rows"]:
        if row["learner_id"] == person.pk:
            return {flag["code"]: flag["evidence"] for flag in row["flags"]}
    raise AssertionError(f"{person} is not on the roster")


# --- device marks and codes ------------------------------------------------------------------------


def test_the_door_gives_each_phone_a_mark_and_every_scan_records_it(session, cast):
    one = phone()
    with time_machine.travel(at(DAY1, 8, 20), tick=False):
        response = one.get(door_url(session, "in", at(DAY1, 8, 20)))
    assert response.status_code == 200
    assert device.COOKIE in response.cookies and response.cookies[device.COOKIE]["max-age"] >= 365 * 24 * 3600
    check_in(one, session, cast["learner"], at(DAY1, 8, 20))
    row = Attendance.objects.get(learner=cast["learner"])
    assert row.in_device == device.read(_request_with(one)) and len(row.in_device) == 16
    assert row.in_ip == "127.0.0.1" and row.in_via == "screen"
    # A mark with a forged signature counts as none: the door sets a new one.
    forged = phone()
    forged.cookies[device.COOKIE] = row.in_device + ":forged"
    assert device.read(_request_with(forged)) == ""
    with time_machine.travel(at(DAY1, 8, 21), tick=False):
        again = forged.get(door_url(session, "in", at(DAY1, 8, 21)))
    assert device.read(_request_with(forged)) not in ("", row.in_device) and device.COOKIE in again.cookies


def _request_with(client):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.COOKIES = {key: morsel.value for key, morsel in client.cookies.items()}
    return request


def test_the_projector_code_turns_every_two_minutes_and_the_poster_keeps_the_day(session, cast):
    plan = services.plan_for(session)
    assert plan.refresh_seconds == 120
    shown = services.current_code(plan, "in", at(DAY1, 8, 20))
    client = phone()
    with time_machine.travel(at(DAY1, 8, 23), tick=False):  # the previous window is still accepted
        assert client.get(reverse("attendance:door", args=[session.pk, "in", shown])).status_code == 200
    with time_machine.travel(at(DAY1, 8, 25), tick=False):  # a photo of the projector, sent on, dies
        refused = client.get(reverse("attendance:door", args=[session.pk, "in", shown]))
    assert refused.status_code == 403 and "已过期" in refused.content.decode()
    poster = services.code_for_day(plan, "in", DAY1)
    with time_machine.travel(at(DAY1, 16, 0), tick=False):
        assert client.get(reverse("attendance:door", args=[session.pk, "in", poster])).status_code == 200


# --- flags -----------------------------------------------------------------------------------------


def test_one_phone_checking_in_several_learners_is_flagged_with_its_evidence(client, session, cast, tree):
    mate, stranger = learner(unit=tree["unit_a"], name="王同科"), learner(unit=tree["unit_a"], name="陈独立")
    shared = phone()
    check_in(shared, session, cast["learner"], at(DAY1, 8, 20, 0))
    check_in(shared, session, mate, at(DAY1, 8, 20, 25))  # seconds later, same phone
    check_in(phone(), session, stranger, at(DAY1, 8, 21))
    page = roster_page(client, cast["organiser"], session)
    mine, theirs = flags_of(page, cast["learner"]), flags_of(page, mate)
    assert set(mine) == {"shared_device", "rapid"} and set(theirs) == {"shared_device", "rapid"}
    assert "王*科" in mine["shared_device"] and "25 秒内" in mine["rapid"] and "127.0.0.1" in mine["rapid"]
    assert flags_of(page, stranger) == {}
    assert page.context["totals"]["flagged"] == 2 and "可疑扫码 2 人" in page.content.decode()
    # The unit admin sees the same evidence where they decide.
    unit_page = roster_page(client, cast["unit_admin"], session)
    assert set(flags_of(unit_page, mate)) == {"shared_device", "rapid"} and "一机多人" in unit_page.content.decode()


def test_scans_minutes_apart_from_one_phone_are_shared_but_not_rapid(client, session, cast, tree):
    mate = learner(unit=tree["unit_a"])
    shared = phone()
    check_in(shared, session, cast["learner"], at(DAY1, 8, 20))
    check_in(shared, session, mate, at(DAY1, 8, 40))
    assert set(flags_of(roster_page(client, cast["organiser"], session), mate)) == {"shared_device"}


def test_check_in_and_check_out_from_different_phones_is_flagged(client, session, cast):
    check_in(phone(), session, cast["learner"], at(DAY1, 8, 20))
    check_out(phone(), session, cast["learner"], at(DAY2, 17, 35))
    flags = flags_of(roster_page(client, cast["organiser"], session), cast["learner"])
    assert set(flags) == {"device_changed"} and "撤离设备" in flags["device_changed"]


def test_the_same_phone_in_and_out_raises_nothing(client, session, cast):
    own = phone()
    check_in(own, session, cast["learner"], at(DAY1, 8, 20))
    check_out(own, session, cast["learner"], at(DAY2, 17, 35))
    assert flags_of(roster_page(client, cast["organiser"], session), cast["learner"]) == {}


def test_a_poster_code_used_outside_the_rooms_hours_is_flagged_and_marked(client, session, cast, tree):
    early, on_time = cast["learner"], learner(unit=tree["unit_a"])
    poster = services.code_for_day(services.plan_for(session), "in", DAY1)
    url = reverse("attendance:door", args=[session.pk, "in", poster])
    # The session's check-in stays open between its two days; the room does not: 22:10 is outside its hours.
    for person, moment in ((early, at(DAY1, 22, 10)), (on_time, at(DAY1, 7, 45))):
        client_phone = phone()
        with time_machine.travel(moment, tick=False):
            client_phone.get(url)
            client_phone.post(url, {"step": "confirm", "identifier": person.id_number})
    page = roster_page(client, cast["organiser"], session)
    assert set(flags_of(page, early)) == {"poster_outside"} and "22:10" in flags_of(page, early)["poster_outside"]
    assert flags_of(page, on_time) == {}
    assert all(row["posters"] == 1 for row in page.context["rows"]) and "海报码" in page.content.decode()


def test_the_unit_admin_takes_a_flagged_learner_out_with_a_reason(client, session, cast, tree):
    mate = learner(unit=tree["unit_a"])
    shared = phone()
    for person in (cast["learner"], mate):
        check_in(shared, session, person, at(DAY1, 8, 20))
        check_out(shared, session, person, at(DAY2, 17, 35))
    with time_machine.travel(at(DAY2 + timedelta(days=1), 10)):
        services.submit_roster(services.roster_for(session), cast["organiser"])
        roster = Roster.objects.get()
        with pytest.raises(Exception) as refused:
            services.change_selection(roster, cast["unit_admin"], mate.pk, False, "")
        assert "理由" in str(refused.value)
        services.change_selection(roster, cast["unit_admin"], mate.pk, False, "代签到：同一手机为两人扫码")
    assert not roster.selections.get(learner=mate).selected


# --- 一机一人 ---------------------------------------------------------------------------------------


def test_one_phone_one_person_refuses_a_second_learner_and_sends_them_to_the_desk(session, cast, tree):
    AttendancePlan.objects.filter(session=session).update(one_device_one_person=True)
    mate = learner(unit=tree["unit_a"])
    shared = phone()
    assert "签到成功" in check_in(shared, session, cast["learner"], at(DAY1, 8, 20)).content.decode()
    assert "无需重复" in check_in(shared, session, cast["learner"], at(DAY1, 8, 21)).content.decode()
    refused = check_in(shared, session, mate, at(DAY1, 8, 22))
    assert refused.status_code == 409 and "一机一人" in refused.content.decode() and "签到台" in refused.content.decode()
    assert not Attendance.objects.filter(learner=mate).exists()
    assert DeniedScan.objects.filter(reason="device_taken", device__gt="").count() == 1
    # Their own phone works; so does check-out on it.
    assert "签到成功" in check_in(phone(), session, mate, at(DAY1, 8, 23)).content.decode()
    refused_out = check_out(shared, session, mate, at(DAY2, 17, 35))
    assert refused_out.status_code == 409 and Attendance.objects.get(learner=mate).checked_out_at is None


def test_without_the_setting_a_second_learner_on_a_phone_is_let_in_and_flagged(client, session, cast, tree):
    mate = learner(unit=tree["unit_a"])
    shared = phone()
    check_in(shared, session, cast["learner"], at(DAY1, 8, 20))
    assert "签到成功" in check_in(shared, session, mate, at(DAY1, 8, 22)).content.decode()
    assert "shared_device" in flags_of(roster_page(client, cast["organiser"], session), mate)


def test_new_plans_are_one_phone_one_person(cast, tree):
    fresh = held_session(cast["organiser"], tree["unit_a"], DAY1)
    assert services.plan_for(fresh).one_device_one_person  # W9: unless the organiser allows more


def test_one_phone_one_person_refuses_a_phone_without_its_mark(session, cast):
    """A script that drops the door's cookie does not slip past 一机一人 on the one-statement fast path."""
    AttendancePlan.objects.filter(session=session).update(one_device_one_person=True)
    from attendance.selectors import forget_door_sessions

    forget_door_sessions()
    bare = phone()
    url = door_url(session, "in", at(DAY1, 8, 20))
    with time_machine.travel(at(DAY1, 8, 20), tick=False):
        refused = bare.post(url, {"step": "confirm", "identifier": cast["learner"].id_number})
    assert refused.status_code == 409 and not Attendance.objects.exists()


def test_a_scan_without_the_phones_mark_is_flagged(client, session, cast):
    bare = phone()
    url = door_url(session, "in", at(DAY1, 8, 20))
    with time_machine.travel(at(DAY1, 8, 20), tick=False):
        assert "签到成功" in bare.post(url, {"step": "confirm", "identifier": cast["learner"].id_number}).content.decode()
    assert set(flags_of(roster_page(client, cast["organiser"], session), cast["learner"])) == {"no_device"}


def test_a_poster_printed_before_this_change_still_works_on_its_day(session, cast):
    """Posters on the walls carried the day-long window's code; they keep working on their day, as poster scans."""
    old_poster = tokens.make_token(session.pk, "in", None, tokens.window_index(at(DAY1, 8, 0), 86400))
    client = phone()
    url = reverse("attendance:door", args=[session.pk, "in", old_poster])
    with time_machine.travel(at(DAY1, 15, 0), tick=False):
        client.get(url)
        client.post(url, {"step": "confirm", "identifier": cast["learner"].id_number})
    assert Attendance.objects.get().in_via == "poster"
    with time_machine.travel(at(DAY2, 9, 0), tick=False):
        assert client.get(url).status_code == 403


# --- not me ----------------------------------------------------------------------------------------


def test_not_me_forgets_the_signed_in_learner_for_the_door(session, cast, tree):
    owner, friend = cast["learner"], learner(unit=tree["unit_a"], name="马借用")
    client = phone()
    url = door_url(session, "in", at(DAY1, 8, 20))
    with time_machine.travel(at(DAY1, 8, 20), tick=False):
        client.force_login(owner)
        assert "确认签到" in client.get(url).content.decode()
        identify = client.get(url + "?not_me=1")
        assert identify.context["form"] is not None and "身份证号码" in identify.content.decode()
        assert "确认签到" not in client.get(url).content.decode()  # the door keeps forgetting on this phone
        confirm = client.post(url, {"step": "identify", "identifier": friend.id_number})
        assert "马*用" in confirm.content.decode()
        client.post(url, {"step": "confirm", "identifier": friend.id_number})
        assert "确认签到" in client.get(url + "?me=1").content.decode()  # and back to the owner on request
    assert list(Attendance.objects.values_list("learner", flat=True)) == [friend.pk]


# --- seed 001's check-out confirmation -------------------------------------------------------------


def test_check_out_confirms_seed_001s_fields_masked(session, cast):
    profile = cast["learner"].profile
    profile.department, profile.unit_location, profile.grassroots, profile.title = "心内科", "甲市", False, "intermediate"
    profile.save()
    check_in(phone(), session, cast["learner"], at(DAY1, 8, 20))
    url = door_url(session, "out", at(DAY2, 17, 35))
    client = phone()
    with time_machine.travel(at(DAY2, 17, 35), tick=False):
        page = client.post(url, {"step": "identify", "identifier": cast["learner"].mobile}).content.decode()
    for label in ("姓名", "性别", "手机号", "单位", "科室", "单位所在地", "是否来自基层", "职称"):
        assert f">{label}</dt>" in page
    shown = page.split('name="identifier"')[0]  # what the page shows; the hidden field carries what was typed
    assert "刘*员" in shown and "刘学员" not in shown and cast["learner"].mobile not in shown
    assert "男" in page and "心内科" in page and "甲市人民医院" in page and ">否<" in page and "中级" in page


# --- late-arrival grace ----------------------------------------------------------------------------


def test_fifteen_minutes_late_still_meets_the_hours_by_the_provinces_grace(client, session, cast, tree):
    late, punctual = cast["learner"], learner(unit=tree["unit_a"])
    for person, arrive in ((late, at(DAY1, 8, 45)), (punctual, at(DAY1, 8, 25))):
        check_in(phone(), session, person, arrive)
        check_out(phone(), session, person, at(DAY2, 17, 35))
    plan = services.plan_for(session)
    assert plan.hours_needed == D("17.5")  # 18 scheduled, 15 minutes a day of grace
    page = roster_page(client, cast["organiser"], session)
    rows = {row["learner_id"]: row for row in page.context["rows"]}
    assert rows[late.pk]["hours"] == D("17.8") and rows[late.pk]["meets"]
    assert "每天宽限 15 分钟" in page.content.decode()
    with time_machine.travel(at(DAY2 + timedelta(days=1), 10)):
        services.submit_roster(services.roster_for(session), cast["organiser"])
    assert Roster.objects.get().selections.get(learner=late).selected


def test_the_grace_holds_each_day_of_a_daily_session(client, cast, tree):
    """One pair a day, two days of 08:30–17:00, fifteen minutes late each morning: 8.25 hours a day still meets."""
    from attendance.models import PairMode

    two_days = held_session(cast["organiser"], tree["unit_a"], DAY1, DAY2)
    plan = AttendancePlan.objects.create(session=two_days, mode=PairMode.DAILY, day_end=time(17, 0), one_device_one_person=False)
    assert plan.hours_needed == D("16.5")
    for day in (DAY1, DAY2):
        services.check_in(two_days, cast["learner"], at(day, 8, 45), day)
        services.check_out(two_days, cast["learner"], at(day, 17, 5), day, ANSWERS, plan)
    [row] = services.roster_rows(two_days, plan)
    assert row["meets"] and row["hours"] == D("16.6")


def test_the_province_and_the_organiser_set_the_grace(client, session, cast):
    client.force_login(cast["province_admin"])
    client.post(reverse("attendance:door_policy"), {"grace_minutes": "0"})
    assert DoorPolicy.current().grace_minutes == 0
    plan = services.plan_for(session)
    assert plan.hours_needed == D("18.0")
    AttendancePlan.objects.filter(session=session).update(grace_minutes=3)
    assert services.plan_for(type(session).objects.get(pk=session.pk)).hours_needed == D("17.9")
    AttendancePlan.objects.filter(session=session).update(required_hours=D("12"))
    assert services.plan_for(type(session).objects.get(pk=session.pk)).hours_needed == D("12")  # required hours win
    refused = client.post(reverse("attendance:door_policy"), {"grace_minutes": "500"})
    assert refused.status_code == 200 and DoorPolicy.current().grace_minutes == 0
    client.force_login(cast["learner"])
    assert client.get(reverse("attendance:door_policy")).status_code == 404


# --- the desk --------------------------------------------------------------------------------------


def desk_post(client, session, text, direction="in", scan_id=None, scanned_at=None):
    body = {"scan_id": str(scan_id or uuid.uuid4()), "direction": direction, "text": text}
    if scanned_at:
        body["scanned_at"] = int(scanned_at.timestamp() * 1000)
    return client.post(reverse("attendance:desk_scan", args=[session.pk]), body, content_type="application/json")


def test_the_organiser_names_desk_staff_who_check_in_with_the_personal_code(client, session, cast, tree):
    helper = learner(unit=tree["unit_a"], name="何帮忙")
    client.force_login(cast["organiser"])
    client.post(reverse("attendance:desk_staff", args=[session.pk]), {"identifier": helper.mobile})
    assert DeskStaff.objects.filter(session=session, user=helper).exists()
    desk = Client()
    with time_machine.travel(at(DAY1, 8, 20), tick=False):
        desk.force_login(helper)
        assert desk.get(reverse("attendance:desk", args=[session.pk])).status_code == 200
        code = tokens.personal_code(cast["learner"].pk, at(DAY1, 8, 19, 30))
        answer = desk_post(desk, session, code).json()
    assert answer["ok"] and answer["name"] == "刘学员" and answer["outcome"] == "done"
    row = Attendance.objects.get(learner=cast["learner"])
    assert row.in_via == "desk" and row.in_by == helper and row.in_device == ""


def test_a_resent_desk_scan_makes_one_row_and_gives_the_first_answer(session, cast):
    desk = Client()
    scan_id = uuid.uuid4()
    with time_machine.travel(at(DAY1, 9, 30), tick=False):
        desk.force_login(cast["organiser"])
        # Made at 08:50 while the network was down, sent at 09:30, then sent again.
        first = desk_post(desk, session, cast["learner"].id_number, scan_id=scan_id, scanned_at=at(DAY1, 8, 50)).json()
        again = desk_post(desk, session, cast["learner"].id_number, scan_id=scan_id, scanned_at=at(DAY1, 8, 50)).json()
    assert first == again and first["outcome"] == "done"
    assert DeskScan.objects.count() == 1 and Attendance.objects.count() == 1
    assert Attendance.objects.get().checked_in_at == at(DAY1, 8, 50)  # the time it was scanned, not sent


def test_the_desk_checks_out_without_a_survey_and_refuses_what_it_should(session, cast, tree):
    desk = Client()
    with time_machine.travel(at(DAY1, 8, 30), tick=False):
        desk.force_login(cast["organiser"])
        assert desk_post(desk, session, cast["learner"].mobile).json()["ok"]
        unknown = desk_post(desk, session, resident_id(77)).json()
        assert unknown["outcome"] == "unknown_learner" and "没有找到该学员" in unknown["message"]
        stale = tokens.personal_code(cast["learner"].pk, at(DAY1, 8, 20))
        assert desk_post(desk, session, stale, direction="out").json()["outcome"] == "unknown_learner"
        bad = desk.post(reverse("attendance:desk_scan", args=[session.pk]), "nonsense", content_type="application/json")
        assert bad.status_code == 400 and "请求有误" in bad.json()["message"]
    with time_machine.travel(at(DAY2, 17, 40), tick=False):
        desk.force_login(cast["organiser"])
        out = desk_post(desk, session, cast["learner"].id_number, direction="out").json()
        no_check_in = desk_post(desk, session, learner(unit=tree["unit_a"]).id_number, direction="out").json()
    assert out["ok"] and no_check_in["outcome"] == "no_check_in"
    row = Attendance.objects.get(learner=cast["learner"])
    assert row.out_via == "desk" and row.out_by == cast["organiser"] and not hasattr(row, "survey")


def test_the_desk_does_not_check_in_its_own_staff_nor_name_strangers(session, cast):
    desk = Client()
    with time_machine.travel(at(DAY1, 8, 30), tick=False):
        desk.force_login(cast["organiser"])
        own = desk_post(desk, session, cast["organiser"].id_number).json()
        assert own["outcome"] == "self" and not own["ok"]
    with time_machine.travel(at(DAY2, 17, 40), tick=False):
        desk.force_login(cast["organiser"])
        early = desk_post(desk, session, cast["learner"].id_number, direction="out").json()
        assert early["outcome"] == "no_check_in" and early["name"] == ""  # a refusal names nobody
    assert not Attendance.objects.exists()


def test_a_desk_scan_entered_long_after_it_claims_is_flagged(client, session, cast):
    desk = Client()
    with time_machine.travel(at(DAY1, 11, 0), tick=False):
        desk.force_login(cast["organiser"])
        assert desk_post(desk, session, cast["learner"].id_number, scanned_at=at(DAY1, 8, 25)).json()["ok"]
    flags = flags_of(roster_page(client, cast["organiser"], session), cast["learner"])
    assert set(flags) == {"desk_late"} and "张立项" in flags["desk_late"] and "11:00" in flags["desk_late"]


def test_a_reused_scan_id_from_another_session_is_not_its_answer(session, cast, tree):
    other = held_session(cast["organiser"], tree["unit_a"], DAY1, DAY2)
    AttendancePlan.objects.create(session=other)
    desk, scan_id = Client(), uuid.uuid4()
    with time_machine.travel(at(DAY1, 8, 30), tick=False):
        desk.force_login(cast["organiser"])
        assert desk_post(desk, session, cast["learner"].id_number, scan_id=scan_id).json()["ok"]
        again = desk_post(desk, other, cast["learner"].id_number, scan_id=scan_id)
    assert again.status_code == 400 and not Attendance.objects.filter(session=other).exists()


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100000,
        '{"scan_id": "x"}',
        '{"scan_id": "%s", "direction": "in", "text": "\u0000"}' % "0b0e7d2c-7f56-4c1e-9a55-7c3f2b8c1d10",
    ],
)
def test_the_desk_answers_bad_bodies_with_a_message(session, cast, body):
    desk = Client()
    with time_machine.travel(at(DAY1, 8, 30), tick=False):
        desk.force_login(cast["organiser"])
        response = desk.post(reverse("attendance:desk_scan", args=[session.pk]), body, content_type="application/json")
    assert response.status_code in (200, 400) and response.json()["message"] and not Attendance.objects.exists()


def test_a_nul_in_the_door_number_is_no_learner(session):
    client = phone()
    url = door_url(session, "in", at(DAY1, 8, 20))
    with time_machine.travel(at(DAY1, 8, 20), tick=False):
        client.get(url)
        for step in ("identify", "confirm"):
            assert client.post(url, {"step": step, "identifier": "3301\x00"}).status_code == 200


def test_a_printed_code_holds_for_a_year_and_a_forged_one_never(session, cast):
    printed = tokens.printed_personal_code(cast["learner"].pk, date(2026, 3, 1))
    assert tokens.read_personal_code(printed, at(DAY1, 9)) == cast["learner"].pk
    assert tokens.read_personal_code(printed, at(date(2027, 3, 5), 9)) is None
    forged = printed[:-1] + ("A" if printed[-1] != "A" else "B")
    assert tokens.read_personal_code(forged, at(DAY1, 9)) is None
    assert (
        tokens.read_personal_code(f"CME1.{cast['other_learner'].pk}.{printed.split('.')[2]}.{printed.split('.')[3]}", at(DAY1, 9))
        is None
    )


def test_only_the_organiser_and_named_staff_use_the_desk(client, session, cast):
    for person in (cast["learner"], cast["unit_admin"], cast["colleague"]):
        client.force_login(person)
        assert client.get(reverse("attendance:desk", args=[session.pk])).status_code == 404
        with time_machine.travel(at(DAY1, 8, 30), tick=False):
            client.force_login(person)
            assert desk_post(client, session, cast["learner"].id_number).status_code == 404
        assert client.post(reverse("attendance:desk_staff", args=[session.pk]), {"identifier": person.mobile}).status_code == 404
    assert not Attendance.objects.exists() and not DeskStaff.objects.exists()
    client.logout()
    assert client.get(reverse("attendance:desk", args=[session.pk])).status_code == 302


def test_my_code_shows_a_readable_code_that_names_me(client, cast):
    import io

    import zxingcpp
    from PIL import Image

    from attendance import posters

    moment = at(DAY1, 9, 0, 30)
    with time_machine.travel(moment, tick=False):
        client.force_login(cast["learner"])
        page = client.get(reverse("attendance:my_code")).content.decode()
    assert 'http-equiv="refresh"' in page
    # The page's SVG is this learner's code of this minute, and that code reads back to them.
    code = tokens.personal_code(cast["learner"].pk, moment)
    assert posters.qr_svg(code) in page
    import qrcode

    buffer = io.BytesIO()
    qrcode.make(code).save(buffer, format="PNG")
    [read] = zxingcpp.read_barcodes(Image.open(io.BytesIO(buffer.getvalue())))
    assert read.text == code and tokens.read_personal_code(read.text, moment) == cast["learner"].pk
    printed = client.get(reverse("attendance:my_code_print"))
    assert printed.status_code == 200 and "纸质签到码" in printed.content.decode()


# --- rate limits ------------------------------------------------------------------------------------


def test_a_hall_behind_one_address_is_not_throttled_but_one_phone_is(session, cast, tree):
    people = [learner(unit=tree["unit_a"]) for _ in range(3)]
    hammer = phone()
    url = door_url(session, "in", at(DAY1, 8, 20))
    with time_machine.travel(at(DAY1, 8, 20), tick=False):
        hammer.get(url)
        answers = [hammer.post(url, {"step": "identify", "identifier": resident_id(500 + n)}).status_code for n in range(31)]
        assert answers[:30] == [200] * 30 and answers[30] == 429
        for person in people:  # other phones at the same address are untouched
            assert "签到成功" in check_in(phone(), session, person, at(DAY1, 8, 20)).content.decode()


def test_forged_codes_record_a_bounded_number_of_refusals(session):
    client = phone()
    for n in range(services.DENIED_RECORDS_PER_ADDRESS_HOUR + 10):
        assert client.get(reverse("attendance:door", args=[session.pk, "in", f"{n:016d}".replace("0", "a")])).status_code == 403
    assert DeniedScan.objects.count() == services.DENIED_RECORDS_PER_ADDRESS_HOUR


# --- accounts handed over to the real holder ------------------------------------------------------


@pytest.fixture
def squatted(tree):
    """Someone registered 王秀英's number at the door with their own (verified) mobile, at her unit."""
    from cme_portal.accounts.models import LearnerProfile, RoleAssignment

    user = User.objects.create_user(resident_id(31), None, name="王秀英", mobile="13700000001", claimed=False)
    LearnerProfile.objects.create(user=user, unit=tree["unit_a"])
    RoleAssignment.objects.create(user=user, role="learner", org=tree["unit_a"])
    return user


def handover_post(client, person, **data):
    return client.post(reverse("accounts:handover"), data)


def test_staff_accounts_and_accounts_of_other_units_go_to_the_province(client, cast, tree):
    from cme_portal.accounts.services import handover_candidate

    stranger = User.objects.create_user(resident_id(41), None, name="外院", mobile="13700000041", claimed=False)
    for target in (cast["organiser"], cast["colleague"], stranger, cast["other_learner"]):
        with pytest.raises(Exception) as refused:
            handover_candidate(cast["unit_admin"], target.id_number)
        assert refused.value.code in ("staff_account", "out_of_scope")
    assert handover_candidate(cast["province_admin"], cast["organiser"].id_number) == cast["organiser"]
    assert handover_candidate(cast["unit_admin"], cast["learner"].id_number) == cast["learner"]


def test_asking_the_door_for_codes_spends_the_limits_before_anything_is_said(session, cast, tree):
    """Whether a mobile is bound is not learnt for free: the per-phone SMS limit counts the refusals too."""
    client = phone()
    url = door_url(session, "in", at(DAY1, 8, 20))
    form = {"step": "register", "send_code": "1", "id_number": resident_id(61), "mobile": cast["learner"].mobile}
    with time_machine.travel(at(DAY1, 8, 20), tick=False):
        client.get(url)
        pages = [client.post(url, form).content.decode() for _ in range(services.DOOR_CODES_PER_DEVICE_HOUR + 1)]
    assert all("已绑定其他账号" in page for page in pages[:-1])
    assert "次数过多" in pages[-1] and "已绑定其他账号" not in pages[-1]


def test_a_script_that_drops_its_cookie_meets_the_new_mark_ceiling(session, monkeypatch):
    from attendance import views

    monkeypatch.setattr(views, "NEW_MARKS_PER_ADDRESS_MINUTE", 5)
    url = door_url(session, "in", at(DAY1, 8, 20))
    with time_machine.travel(at(DAY1, 8, 20), tick=False):
        answers = [phone().get(url).status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]


def test_the_unit_admin_hands_a_squatted_account_to_its_real_holder(client, cast, squatted, django_capture_on_commit_callbacks):
    from cme_portal.accounts import sms

    client.force_login(cast["unit_admin"])
    form = {"id_number": squatted.id_number, "new_mobile": "13900009999", "reason": "本人持身份证到科教科，签到时被他人登记"}
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(reverse("accounts:handover"), {**form, "action": "send_code"})
    assert "验证码已发送至 13900009999" in sent.content.decode()
    code = last_sms_code("13900009999")
    unchecked = client.post(reverse("accounts:handover"), {**form, "sms_code": code, "action": "handover"})
    assert "当面核验" in unchecked.content.decode() and not AccountHandover.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            reverse("accounts:handover"), {**form, "sms_code": code, "document_checked": "on", "action": "handover"}, follow=True
        )
    assert "已将 王秀英 的账号移交本人" in done.content.decode()
    squatted.refresh_from_db()
    assert squatted.mobile == "13900009999" and not squatted.claimed and not squatted.has_usable_password()
    record = AccountHandover.objects.get()
    assert (record.from_mobile, record.to_mobile, record.by) == ("13700000001", "13900009999", cast["unit_admin"])
    assert any(to == "13700000001" and "移交本人" in text for to, text in sms.outbox)  # the old mobile is told
    assert Notification.objects.filter(user=squatted, message__contains="移交本人").exists()
    # The real holder now claims it by registering with the verified mobile.
    from cme_portal.accounts.services import registration_conflict

    assert registration_conflict(squatted.id_number, "13900009999") is None
    assert registration_conflict(squatted.id_number, "13700000001").code == "claim_mobile"


def test_a_hand_over_needs_the_code_from_the_new_mobile(client, cast, squatted, django_capture_on_commit_callbacks):
    client.force_login(cast["unit_admin"])
    form = {"id_number": squatted.id_number, "new_mobile": "13900009999", "reason": "本人到场", "document_checked": "on"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:handover"), {**form, "action": "send_code"})
    code = last_sms_code("13900009999")
    wrong = "000000" if code != "000000" else "111111"
    page = client.post(reverse("accounts:handover"), {**form, "sms_code": wrong, "action": "handover"})
    assert "短信验证码不正确" in page.content.decode()
    squatted.refresh_from_db()
    assert squatted.mobile == "13700000001" and not AccountHandover.objects.exists()


def test_a_claimed_account_of_another_unit_is_not_handed_over_by_this_unit(client, cast):
    client.force_login(cast["unit_admin"])
    other = cast["other_learner"]
    page = client.post(
        reverse("accounts:handover"),
        {"id_number": other.id_number, "new_mobile": "13900009999", "reason": "x", "action": "send_code"},
    )
    assert "请由该单位科教科或省继教办办理移交" in page.content.decode()
    assert not AccountHandover.objects.exists()
    # The province may, and learners may not reach the page at all.
    from cme_portal.accounts.services import handover_candidate

    assert handover_candidate(cast["province_admin"], other.id_number) == other
    client.force_login(cast["learner"])
    assert client.get(reverse("accounts:handover")).status_code == 404


def test_a_desk_is_limited_to_a_scan_a_second_on_average(session, cast, monkeypatch):
    """A script turning numbers into check-ins through a desk meets the desk's limit (DESK_SCANS_PER_MINUTE)."""
    from attendance import desk_views

    monkeypatch.setattr(desk_views, "DESK_SCANS_PER_MINUTE", 2)
    desk = Client()
    with time_machine.travel(at(DAY1, 8, 30), tick=False):
        desk.force_login(cast["organiser"])
        answers = [desk_post(desk, session, resident_id(700 + n)).status_code for n in range(3)]
    assert answers == [200, 200, 429]


def test_a_phone_code_read_by_a_desk_whose_clock_is_a_little_slow_still_works(cast):
    code = tokens.personal_code(cast["learner"].pk, at(DAY1, 9, 1, 10))
    assert tokens.read_personal_code(code, at(DAY1, 9, 0, 50)) == cast["learner"].pk  # the desk 20 s behind
    assert tokens.read_personal_code(code, at(DAY1, 8, 58, 0)) is None  # but not minutes behind
