"""The province's certificate template editor in Chromium, on the demo data: the live preview is the renderer's PNG."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from certificates.models import Certificate, CertificateTemplate

from .conftest import DESKTOP
from .test_projects_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", verbosity=0)
    return live_server.url


def test_the_template_editor_previews_live_and_saves(browser, demo, screenshot):
    # The demo province has its own sealed version, and its certificates were re-issued with it.
    sealed = CertificateTemplate.objects.get(province__name="浙江省")
    assert sealed.seal and not Certificate.objects.filter(status="issued").exclude(template=sealed).exists()
    context = browser.new_context(**DESKTOP, locale="zh-CN")
    page = context.new_page()
    sign_in(page, demo, "13900000001")  # 周敏, province admin
    page.goto(f"{demo}/certificates/template/")
    preview = page.locator("#template-preview")
    expect(preview).to_have_attribute("src", re.compile(r"^data:image/png;base64,"), timeout=20_000)
    first = preview.get_attribute("src")
    page.fill("#id_title", "继续医学教育学分证明")
    expect(preview).not_to_have_attribute("src", first, timeout=20_000)
    expect(preview).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    screenshot(page, "certificates-template-editor")
    page.get_by_role("button", name="保存为新版本").click()
    page.wait_for_url(f"{demo}/certificates/template/")
    assert CertificateTemplate.objects.get(province__name="浙江省", version=2).title == "继续医学教育学分证明"
    context.close()
