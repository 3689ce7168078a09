"""Issue 13 (WCAG 2.2, 2.5.8): at 360 px the links a person taps on their own are at least 24 px tall:
忘记密码？, the roster's 导出 Excel, the project numbers in the organiser's list (they were 19–21 px)."""

import pytest
from django.core.management import call_command

from attendance.models import Roster

from .conftest import PHONE
from .test_projects_browser import DEMO_PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def heights(page, selector):
    return page.locator(selector).evaluate_all("(links) => links.map((a) => a.getBoundingClientRect().height)")


def test_standalone_links_are_big_enough_to_tap(live_server, browser):
    call_command("seed_demo", verbosity=0)
    context = browser.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    assert min(heights(page, "a[href$='/password-reset/']")) >= 24
    page.locator("#id_identifier").fill("13900000004")
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/dashboard/**")
    page.goto(f"{live_server.url}/projects/mine/")
    found = heights(page, "main table td > a")
    assert found and min(found) >= 24
    roster = Roster.objects.filter(organiser__mobile="13900000004").first()
    page.goto(f"{live_server.url}/attendance/sessions/{roster.session_id}/roster/")
    assert min(heights(page, "a[href*='/roster/export/']")) >= 24
    context.close()


def test_tap_targets_on_the_pages_people_use_most(live_server, browser):
    """WCAG 2.5.8 at 360 px: the captcha's buttons, the tabs of the certificate query, the learner's links."""
    call_command("seed_demo", verbosity=0)
    context = browser.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/certificates/?by=document")
    for selector in ("[data-captcha-tools] button", ".nav-tabs a", "main form button"):
        found = heights(page, selector)
        assert found and min(found) >= 24, selector
    sign_in(page, live_server.url, "13900000005")  # 刘洋
    page.goto(f"{live_server.url}/credits/")
    found = heights(page, "main a")
    assert found and min(found) >= 24
    context.close()
