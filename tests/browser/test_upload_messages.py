"""Issue 13: with JavaScript on, the upload's message was lost (the progress bar's request followed the redirect,
which showed the message there, then the page loaded again without it). A 360 px phone, the demo's draft."""

import pytest
from django.core.management import call_command

from projects.models import Session, SessionState

from ..factories import pdf_bytes
from .conftest import PHONE
from .test_projects_browser import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_messages_show_with_javascript_on(live_server, browser, tmp_path, screenshot):
    call_command("seed_demo", verbosity=0)
    draft = Session.objects.filter(organiser__mobile="13900000004", state=SessionState.DRAFT).first()
    fake = tmp_path / "fake.pdf"
    fake.write_text("这不是 PDF，只是改了名字的文本文件")
    real = tmp_path / "notice.pdf"
    real.write_bytes(pdf_bytes("notice"))
    context = browser.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_identifier").fill("13900000004")
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/dashboard/**")
    page.goto(f"{live_server.url}/projects/sessions/{draft.pk}/")

    page.locator("form[data-upload-progress] select").select_option("notice")
    page.locator("form[data-upload-progress] input[type=file]").set_input_files(str(fake))
    page.get_by_role("button", name="开始上传").click()
    page.locator(".alert-danger, .alert-error").first.wait_for()
    assert "PDF" in page.locator(".alert-danger, .alert-error").first.inner_text()
    screenshot(page, "upload-refused-360")

    page.locator("form[data-upload-progress] select").select_option("notice")
    page.locator("form[data-upload-progress] input[type=file]").set_input_files(str(real))
    page.get_by_role("button", name="开始上传").click()
    page.get_by_text("“notice.pdf”已上传").wait_for()
    screenshot(page, "upload-done-360")
    context.close()
