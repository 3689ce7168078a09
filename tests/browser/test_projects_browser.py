"""The public project query and the three queues, in Chromium, on the demo data, at desktop and phone widths."""

import pytest
from django.core.management import call_command

from cme_portal.accounts.demo import DEMO_PASSWORD

from .conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", verbosity=0)
    return live_server.url


def sign_in(page, base, mobile):
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_identifier").fill(mobile)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/dashboard/**")


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def open_filters(page):
    """On a phone the filters fold behind 筛选 (issue 13, item 6): open them."""
    toggle = page.locator("label[for=filters-open]")
    if toggle.is_visible():
        toggle.click()


@pytest.mark.parametrize("size", SIZES)
def test_public_project_query(browser, demo, screenshot, size):
    context = browser.new_context(**SIZES[size], locale="zh-CN")
    page = context.new_page()
    page.goto(f"{demo}/projects/")
    open_filters(page)
    page.locator("#id_number").fill("2021-14-05-929（国）")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**number=**")
    assert page.get_by_text("优质护理中人文与专业并进的探索与实践").is_visible()
    assert page.locator("tbody tr").count() == 1
    assert fits(page)
    screenshot(page, f"projects-public-query-{size}")
    context.close()


@pytest.mark.parametrize("size", SIZES)
def test_organiser_and_both_queues(browser, demo, screenshot, size):
    context = browser.new_context(**SIZES[size], locale="zh-CN")
    page = context.new_page()

    sign_in(page, demo, "13900000004")  # organiser
    page.goto(f"{demo}/projects/mine/")
    assert page.locator("tbody .badge", has_text="退回修改").is_visible()
    assert fits(page)
    screenshot(page, f"projects-organiser-list-{size}")
    context.clear_cookies()

    sign_in(page, demo, "13900000003")  # unit admin: one application waits
    page.goto(f"{demo}/projects/queue/unit/")
    assert page.get_by_text("待处理 1 件").is_visible()
    screenshot(page, f"projects-unit-queue-{size}")
    page.get_by_role("button", name="确认并上报", exact=True).click()
    assert page.get_by_text("确认并上报。").first.is_visible()
    assert page.get_by_text("待处理 0 件").is_visible()
    context.clear_cookies()

    sign_in(page, demo, "13900000001")  # province admin: two now wait
    page.goto(f"{demo}/projects/queue/province/")
    assert page.get_by_text("待处理 2 件").is_visible()
    screenshot(page, f"projects-province-queue-{size}")
    page.locator("summary", has_text="退回修改").first.click()
    page.locator("textarea[name=reason]").first.fill("日程与通知的日期不一致，请核对")
    page.get_by_role("button", name="确认退回修改").first.click()
    assert page.get_by_text("待处理 1 件").is_visible()
    screenshot(page, f"projects-province-queue-after-{size}")
    context.close()
