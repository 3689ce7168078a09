"""Issue 13, item 3 on a 360-pixel phone: the help page (anonymous, a learner, a unit admin), the problem report
reaching the unit admin's inbox, and a door refusal showing who to call."""

import pytest

from cme_portal.accounts.models import Organisation, Role

from ..factories import PASSWORD, door_open_today, learner, make_tree, staff
from .test_projects_browser import fits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base, mobile):
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_identifier").fill(mobile)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/dashboard/**")


def test_help_pages_and_a_door_refusal_on_a_phone(live_server, browser, screenshot):
    from .conftest import PHONE

    tree = make_tree()
    Organisation.objects.filter(pk=tree["province"].pk).update(
        contact_phone="0571-87709206",
        office_hours="工作日 8:30-12:00，14:30-17:30",
        office_address="省卫生健康委科教处 5 楼 512 室",
    )
    Organisation.objects.filter(pk=tree["unit_a"].pk).update(
        contact_phone="0571-87108150", office_hours="工作日 8:30-11:30，14:00-17:00", office_address="行政楼 4 楼 科教科 402 室"
    )
    person = learner(unit=tree["unit_a"], name="刘洋", mobile="13900000005")
    admin = staff(Role.UNIT_ADMIN, tree["unit_a"], name="李娜", mobile="13900000003")
    organiser = staff(Role.ORGANISER, tree["unit_a"], mobile="13900000004")
    session = door_open_today(organiser, tree["unit_a"])
    base = live_server.url

    # Anonymous: the learner's guide and the offices, nothing wider than the phone.
    context = browser.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/help/")
    assert page.get_by_role("heading", name="学员指南").is_visible()
    assert page.get_by_text("0571-87709206").first.is_visible()
    assert fits(page)
    screenshot(page, "help-anonymous-360")

    # A door refusal (a forged code): the organising unit's office, with a phone link big enough to tap.
    page.goto(f"{base}/attendance/s/{session.pk}/in/aaaaaaaaaaaaaaaa/")
    assert page.get_by_text("需要帮助？请联系甲市人民医院").is_visible()
    phone_link = page.locator(".help-contact a[href='tel:0571-87108150']")
    assert phone_link.is_visible() and phone_link.bounding_box()["height"] >= 24
    assert fits(page)
    screenshot(page, "door-refusal-contact-360")

    # A refused login: the province's office (nothing names the unit of an account to a stranger).
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_identifier").fill(person.mobile)
    page.locator("#id_password").fill("not-the-password")
    page.locator("main form button[type=submit]").click()
    page.get_by_text("需要帮助？请联系").wait_for()
    assert page.get_by_text("0571-87709206").is_visible() and page.get_by_text("0571-87108150").count() == 0
    assert fits(page)
    screenshot(page, "login-refusal-contact-360")
    context.close()

    # The learner: their own guide and their unit's office first; a problem report with the page prefilled.
    context = browser.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    log_in(page, base, person.mobile)
    page.goto(f"{base}/credits/")
    page.locator("footer").get_by_role("link", name="帮助与联系方式").click()
    page.wait_for_url("**/help/")
    assert page.get_by_text("需要帮助？请联系甲市人民医院").is_visible()
    assert page.locator("h2").first.inner_text() == "学员指南"
    assert fits(page)
    screenshot(page, "help-learner-360")
    page.goto(f"{base}/credits/")
    page.locator("footer").get_by_role("link", name="问题反馈").click()
    page.wait_for_url("**/help/report/")
    assert page.locator("#id_page_url").input_value() == "/credits/"
    page.locator("#id_subject").fill("学分记录里少了一条")
    page.locator("#id_description").fill("上个月参加的省级项目学分没有出现在我的学分里。")
    assert fits(page)
    screenshot(page, "help-report-form-360")
    page.get_by_role("button", name="提交反馈").click()
    page.get_by_text("已收到您的反馈").wait_for()
    context.close()

    # The unit admin: their guide first, and the report in the inbox.
    context = browser.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    log_in(page, base, admin.mobile)
    page.goto(f"{base}/help/")
    assert page.locator("h2").first.inner_text() == "单位科教科指南"
    assert fits(page)
    screenshot(page, "help-unit-admin-360")
    page.goto(f"{base}/notifications/")
    page.get_by_text("刘洋 反馈问题：学分记录里少了一条").click()
    page.get_by_text("上个月参加的省级项目学分没有出现在我的学分里。").wait_for()
    assert fits(page)
    # The answer, written on the phone; the learner is told.
    page.locator("#id_answer").fill("该项目的学分由主办单位在结束后 15 个工作日内上报，请到下月初再查看。")
    page.get_by_role("button", name="提交答复").click()
    page.get_by_text("已答复，刘洋 会在消息通知中看到。").wait_for()
    assert page.get_by_text("请到下月初再查看").is_visible() and page.locator("#id_answer").count() == 0
    assert fits(page)
    screenshot(page, "help-report-answered-360")
    # 问题反馈记录: every report to their unit, as labelled cards on the phone.
    page.get_by_role("link", name="返回问题反馈记录").click()
    page.wait_for_url("**/help/reports/")
    assert page.locator("main tbody tr").count() == 1 and page.get_by_role("link", name="学分记录里少了一条").is_visible()
    assert page.locator("main tbody").get_by_text("已答复").is_visible()
    assert fits(page)
    screenshot(page, "help-reports-360")
    # 工作台 → 联系方式: their own unit only, edited on the phone.
    page.goto(f"{base}/help/contacts/")
    assert page.locator("main tbody tr").count() == 1
    assert fits(page)
    screenshot(page, "help-contacts-360")
    page.get_by_role("link", name="修改").click()
    page.locator("#id_contact_phone").fill("0571-8710 8151")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("甲市人民医院 的联系方式已保存。").wait_for()
    assert page.get_by_text("0571-87108151").is_visible()
    context.close()

    # The help page in English: the guides too.
    context = browser.new_context(**PHONE, locale="en-US", extra_http_headers={"Accept-Language": "en"})
    page = context.new_page()
    page.goto(f"{base}/help/")
    assert page.get_by_role("heading", name="Learner guide").is_visible()
    assert page.get_by_text("Check in and out at the venue").is_visible()
    assert fits(page)
    screenshot(page, "help-anonymous-en-360")
    context.close()
