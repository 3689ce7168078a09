"""W3 on a 360-pixel phone: open the scanned code, check in as a new learner, check out with the survey."""

from datetime import date

import pytest

from attendance import services
from attendance.models import Attendance, SurveyResponse
from cme_portal.accounts.models import Role

from ..conftest import last_sms_code
from ..factories import door_open_today, make_tree, resident_id, staff
from .test_projects_browser import fits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_check_in_and_out_on_a_phone(live_server, phone, screenshot):
    tree = make_tree()
    organiser = staff(Role.ORGANISER, tree["unit_a"])
    session = door_open_today(organiser, tree["unit_a"])  # open all day: the test does not depend on the hour
    plan = session.attendance_plan
    page = phone

    page.goto(f"{live_server.url}/attendance/s/{session.pk}/in/{services.current_code(plan, 'in')}/")
    screenshot(page, "door-checkin-identify")
    number = resident_id(31, birth=date(1988, 3, 9))
    page.locator("#id_identifier").fill(number)
    page.get_by_role("button", name="下一步").click()
    page.get_by_text("首次签到").wait_for()
    page.locator("#id_name").fill("李新")
    page.locator("#id_mobile").fill("13755556666")
    page.locator("#id_unit").select_option(str(tree["unit_a"].pk))
    page.locator("#id_department").fill("心内科")
    page.locator("#id_unit_location").fill("甲市")
    page.get_by_label("否").first.check()
    page.locator("#id_title").select_option("junior")
    # The mobile typed is confirmed by SMS; the form comes back as typed.
    page.get_by_role("button", name="获取验证码").click()
    page.get_by_text("验证码已发送至 137****6666").wait_for()
    assert page.locator("#id_name").input_value() == "李新" and page.locator("#id_department").input_value() == "心内科"
    page.locator("#id_sms_code").fill(last_sms_code("13755556666"))
    assert fits(page)
    screenshot(page, "door-checkin-form")
    page.get_by_role("button", name="提交信息并签到").click()
    page.get_by_text("签到成功").wait_for()
    screenshot(page, "door-checkin-done")

    page.goto(f"{live_server.url}/attendance/s/{session.pk}/out/{services.current_code(plan, 'out')}/")
    page.locator("#id_identifier").fill("13755556666")
    page.get_by_role("button", name="下一步").click()
    page.get_by_text("请先完成下面的调查问卷").wait_for()
    assert page.locator("dd", has_text="李*").is_visible()  # masked: the name is partly hidden
    for key, option in (("q1", "是"), ("q2", "部分知道"), ("q3", "很大"), ("q4", "很好"), ("q5", "满意"), ("q6", "满意")):
        page.locator(f"input[name={key}][value='{option}']").check()
    page.locator("input[name=q7][value='开阔思路']").check()
    page.get_by_role("button", name="提交问卷并确认撤离").click()
    assert page.get_by_text("第 7 题请选择 2 项").is_visible()  # choose two, and the page kept the other answers
    assert page.locator("input[name=q1][value='是']").is_checked()
    page.locator("input[name=q7][value='开阔思路']").check()
    page.locator("input[name=q7][value='提高操作能力']").check()
    screenshot(page, "door-checkout-survey")
    page.get_by_role("button", name="提交问卷并确认撤离").click()
    page.get_by_text("撤离成功，感谢参加！").wait_for()
    assert fits(page)
    screenshot(page, "door-checkout-done")

    attendance = Attendance.objects.get(learner__id_number=number)
    assert attendance.checked_out_at and SurveyResponse.objects.get(attendance=attendance).answers["q7"] == [
        "开阔思路",
        "提高操作能力",
    ]
