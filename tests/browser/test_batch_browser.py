"""Issue 13: a province admin selects several credit entries on a phone and approves them at once;
a learner's credit record (学分登记表) downloaded on a phone."""

import pytest
from django.core.management import call_command

from cme_portal.accounts.models import User
from credits.models import CreditEntry

from ..factories import credit_entry
from .conftest import PHONE
from .test_projects_browser import fits, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", verbosity=0)
    return live_server.url


def test_select_several_and_approve_at_360px(browser, demo, screenshot):
    # Two more entries waiting for the province besides the demo's (a learner's own, passed by unit and city).
    person = User.objects.get(mobile="13900000005")
    extra = [credit_entry(person, activity_number=f"2026-03-01-90{n}（国）", activity_name=f"批量审核示例{n}") for n in (1, 2)]
    CreditEntry.objects.filter(pk__in=[e.pk for e in extra]).update(state="city_approved")
    waiting = CreditEntry.objects.filter(state="city_approved").count()
    assert waiting >= 2, "the demo data should leave entries waiting for the province"
    context = browser.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    sign_in(page, demo, "13900000001")  # 周敏, the province
    page.goto(f"{demo}/credits/queue/province/")
    boxes = page.locator('input[name="ids"]')
    assert boxes.count() == waiting
    # "Select all on this page" ticks every row (the small script); unticking one unticks it.
    page.locator("#batch-all").check()
    assert all(boxes.nth(n).is_checked() for n in range(boxes.count()))
    boxes.nth(0).uncheck()
    assert not page.locator("#batch-all").is_checked()
    boxes.nth(2).uncheck()
    boxes.nth(0).check()  # rows 0 and 1 chosen
    box = boxes.nth(0).bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24
    assert fits(page)
    screenshot(page, "batch-decision-selected-phone")
    with page.expect_navigation():
        page.get_by_role("button", name="所选省级审核通过").click()
    assert page.get_by_text("省级审核通过：2 件。").is_visible()
    assert page.locator('input[name="ids"]').count() == waiting - 2
    assert CreditEntry.objects.filter(state="approved").count() >= 2
    assert fits(page)
    screenshot(page, "batch-decision-done-phone")
    context.close()


def test_the_credit_record_page_on_a_phone(browser, demo, screenshot, monkeypatch):
    import shutil
    import subprocess

    import certificates.render

    from .conftest import ARTIFACTS

    drawn = []  # the live server runs in this process: the QR code's address is caught as it is drawn
    original = certificates.render.draw_qr
    monkeypatch.setattr(certificates.render, "draw_qr", lambda page, data, *a: drawn.append(data) or original(page, data, *a))
    context = browser.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    sign_in(page, demo, "13900000005")  # 刘洋
    page.goto(f"{demo}/credits/")
    page.get_by_role("link", name="学分登记表").click()
    page.wait_for_url("**/credits/record/")
    assert fits(page)
    screenshot(page, "credit-record-form-phone")
    page.locator("#id_first").select_option("2022")
    with page.expect_download() as info:
        page.get_by_role("button", name="下载学分登记表").click()
    assert info.value.suggested_filename.startswith("credit-record-2022-")
    # The record itself, as a picture to look at (its first page).
    pdf = ARTIFACTS / "credit-record-phone.pdf"
    info.value.save_as(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf, pdf.with_suffix("")], check=True
        )
    # Anyone scanning its QR code on a phone reads whether the record still matches the portal's.
    (address,) = drawn
    stranger = browser.new_context(**PHONE, locale="zh-CN")
    check = stranger.new_page()
    check.goto(demo + address[address.index("/credits/record/verify/") :])
    assert check.get_by_text("表中学分与平台记录一致").is_visible() and check.get_by_text("刘洋").first.is_visible()
    assert fits(check)
    screenshot(check, "credit-record-verify-phone")
    stranger.close()
    context.close()
