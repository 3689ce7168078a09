"""Issue 17 in Chromium, on the demo data: the seeds' tables as their users know them, at desktop and phone widths."""

import pytest
from django.core.management import call_command

from cme_portal.accounts.models import User

from .conftest import DESKTOP, PHONE
from .test_projects_browser import fits, open_filters, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", verbosity=0)
    return live_server.url


def header_texts(page):
    return [text.strip() for text in page.locator("thead th").all_inner_texts()]


@pytest.mark.parametrize("size", SIZES)
def test_seed_000_certificate_query_project_list(browser, demo, screenshot, size):
    context = browser.new_context(**SIZES[size], locale="zh-CN")
    page = context.new_page()
    page.goto(f"{demo}/certificates/?by=document")
    person = User.objects.get(mobile="13900000005")  # 刘洋: the demo awarded him a session's credits
    page.locator("#id_id_number").fill(person.id_number)
    page.locator("#id_name").fill("刘洋")
    page.locator("#id_captcha_1").fill("PASSED")
    page.get_by_role("button", name="检索").click()
    page.get_by_role("heading", name="项目列表").wait_for()
    if size == "desktop":
        assert header_texts(page) == [
            "项目编号",
            "项目名称",
            "期数",
            "获取时间",
            "申办单位",
            "获取年",
            "学分类型",
            "举办地",
            "操作",
        ]
    assert page.locator(".certificate-results tbody tr").count() >= 1
    assert page.locator(".pagination-bar", has_text="共").is_visible()
    assert page.locator("select[name=per_page]").is_visible()
    assert fits(page)
    screenshot(page, f"seed-000-certificate-query-{size}")
    context.close()


@pytest.mark.parametrize("size", SIZES)
def test_seed_001_organiser_list_and_province_list(browser, demo, screenshot, size):
    context = browser.new_context(**SIZES[size], locale="zh-CN")
    page = context.new_page()
    sign_in(page, demo, "13900000004")  # 张伟, organiser
    page.goto(f"{demo}/projects/mine/")
    open_filters(page)
    for label in ("项目年份", "项目级别", "项目名称", "项目负责人"):
        assert page.get_by_label(label, exact=True).is_visible()
    # The returned application shows the province's reason on its row, and the row offers 资料上传.
    assert page.locator(".review-reason", has_text="退回修改").first.is_visible()
    assert page.get_by_role("link", name="资料上传").first.is_visible()
    assert page.get_by_role("link", name="二维码").first.is_visible()
    page.get_by_label("项目级别", exact=True).select_option("national")
    page.get_by_role("button", name="搜索").click()
    page.wait_for_url("**level=national**")
    assert page.locator("tbody tr").count() == 1
    assert fits(page)
    screenshot(page, f"seed-001-organiser-list-{size}")
    context.clear_cookies()

    sign_in(page, demo, "13900000001")  # 周敏, province admin
    page.goto(f"{demo}/projects/queue/province/")
    if size == "desktop":
        headers = header_texts(page)
        for label in ("负责人", "单位", "查看", "审核", "审核理由"):
            assert label in headers
    assert page.locator(".review-reason").first.is_visible()
    assert fits(page)
    screenshot(page, f"seed-001-province-list-{size}")
    context.close()


def test_the_activity_form_shows_what_the_category_asks(browser, demo, screenshot):
    context = browser.new_context(**DESKTOP, locale="zh-CN")
    page = context.new_page()
    sign_in(page, demo, "13900000005")  # 刘洋
    page.goto(f"{demo}/credits/entries/new/")
    category = page.locator("#id_category")
    assert not page.locator("#div_id_residency_years").is_visible() and not page.locator("#div_id_mode").is_visible()
    category.select_option("residency")
    assert page.locator("#div_id_residency_years").is_visible() and page.locator("#div_id_training_year").is_visible()
    assert not page.locator("#div_id_mode").is_visible()
    category.select_option("out_of_province")
    assert (
        page.get_by_text("线下", exact=True).is_visible() and page.get_by_text("单位同意外出学习审批单", exact=True).is_visible()
    )
    assert not page.locator("#div_id_residency_years").is_visible()
    assert page.get_by_label("人员编号").is_visible()
    screenshot(page, "seed-004-entry-form-out-of-province")
    context.close()
