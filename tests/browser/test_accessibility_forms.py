"""Issue 13, item 2 (WCAG 2.2 AA) in Chromium: a rejected form is announced and leads to its fields; the captcha
has a text question for those who cannot see the picture."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from cme_portal.accounts.models import User

from .conftest import DESKTOP, PHONE

SIZES = {"phone": PHONE, "desktop": DESKTOP}
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rejected_form_is_announced_and_points_to_its_fields(live_server, browser, screenshot):
    context = browser.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/register/")
    page.locator("#id_name").fill("王秀英")
    page.get_by_role("button", name="注册", exact=True).click()
    summary = page.get_by_role("alert").filter(has_text="提交未成功")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # a screen reader starts from it
    # Each problem is a link to its field; the field says it is invalid and which message describes it.
    link = summary.get_by_role("link", name="证件号（用户名）")
    assert link.get_attribute("href") == "#id_id_number"
    field = page.locator("#id_id_number")
    assert field.get_attribute("aria-invalid") == "true"
    message = page.locator(f"#{field.get_attribute('aria-describedby').split()[-1]}")
    expect(message).to_be_visible()
    expect(message).to_contain_text("必填")
    assert page.locator("#id_name").get_attribute("aria-invalid") is None  # what was right is not marked
    link.click()
    expect(field).to_be_focused()
    screenshot(page, "a11y-register-errors-360")
    context.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_captcha_has_a_text_question(live_server, browser, screenshot, size):
    call_command("seed_demo", verbosity=0)
    person = User.objects.get(mobile="13900000005")  # 刘洋: the demo awarded him a session's credits
    context = browser.new_context(**SIZES[size], locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/certificates/?by=document")
    answer = page.get_by_label("验证码")  # the answer box has its label
    picture = page.locator("img.captcha")
    first = picture.get_attribute("src")
    page.get_by_role("button", name="换一张").click()
    expect(picture).not_to_have_attribute("src", first)
    page.get_by_role("button", name="看不清？换成文字题").click()
    question = page.locator(".captcha-question")
    expect(question).to_have_text(re.compile(r"^\d 加 \d 等于多少？"))
    expect(picture).to_be_hidden()
    expect(answer).to_be_focused()
    assert question.get_attribute("id") in answer.get_attribute("aria-describedby").split()
    expect(page.get_by_role("status").filter(has_text="等于多少")).to_have_count(1)  # read out as it changes
    screenshot(page, f"a11y-captcha-text-{size}")

    # A wrong answer: the page comes back with the text question still (a new one), and says what went wrong.
    page.locator("#id_id_number").fill(person.id_number)
    page.locator("#id_name").fill("刘洋")
    answer.fill("99")
    page.get_by_role("button", name="检索").click()
    expect(page.get_by_role("alert").filter(has_text="验证码")).to_be_visible()
    expect(question).to_be_visible()
    assert answer.get_attribute("aria-invalid") == "true"
    a, b = map(int, re.match(r"(\d) 加 (\d)", question.inner_text()).groups())
    answer.fill(str(a + b))
    page.get_by_role("button", name="检索").click()
    page.get_by_role("heading", name="项目列表").wait_for()
    context.close()
