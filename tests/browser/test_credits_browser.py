"""The learner's compliance page and the province's compliance chart, in Chromium, on the demo data."""

import pytest
from django.core.management import call_command

from .conftest import DESKTOP, PHONE
from .test_projects_browser import fits, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", verbosity=0)
    return live_server.url


def test_learner_compliance_on_a_phone(browser, demo, screenshot):
    context = browser.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    sign_in(page, demo, "13900000005")  # 刘洋
    page.goto(f"{demo}/credits/")
    assert page.locator("progress.progress-meter").count() >= 3
    assert page.get_by_text("未达标").first.is_visible()
    assert fits(page)
    screenshot(page, "credits-learner-phone")
    context.close()


def test_province_compliance_chart(browser, demo, screenshot):
    context = browser.new_context(**DESKTOP, locale="zh-CN")
    page = context.new_page()
    sign_in(page, demo, "13900000001")  # 周敏
    page.goto(f"{demo}/credits/compliance/")
    page.wait_for_function("window.Chart && Chart.getChart(document.getElementById('compliance-chart'))")
    labels = page.evaluate("Chart.getChart(document.getElementById('compliance-chart')).data.labels")
    assert "浙江大学医学院附属第一医院" in labels
    assert page.locator("tbody tr").count() >= 10
    screenshot(page, "credits-province-compliance")

    context.close()

    # On a phone: every name starts on the axis, the bars get their room, the page no wider than the screen.
    context = browser.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    sign_in(page, demo, "13900000001")
    page.goto(f"{demo}/credits/compliance/")
    page.wait_for_function("window.Chart && Chart.getChart(document.getElementById('compliance-chart'))")
    drawn = page.evaluate(
        """() => { const chart = Chart.getChart(document.getElementById('compliance-chart'));
        const names = chart.options.indexAxis === 'y' ? chart.scales.y : chart.scales.x;
        return {full: chart.data.labels, ticks: names.ticks.map(t => t.label), axis: chart.scales.y.width,
                width: chart.width, height: chart.height, rates: chart.data.datasets[0].data}; }"""
    )
    assert "浙江大学医学院附属第一医院" in drawn["full"] and "浙江大学医学…" in drawn["ticks"]
    assert len(drawn["ticks"]) == len(drawn["full"]) and all(len(tick) <= 7 for tick in drawn["ticks"])
    assert drawn["axis"] < drawn["width"] / 2 and drawn["height"] >= 28 * len(drawn["full"])
    assert drawn["rates"] == sorted(drawn["rates"])  # the lowest first
    assert fits(page)
    screenshot(page, "credits-province-compliance-360")
    context.close()

    context = browser.new_context(**DESKTOP, locale="zh-CN")
    page = context.new_page()
    sign_in(page, demo, "13900000001")
    page.goto(f"{demo}/credits/queue/province/")
    assert page.get_by_text("外科护理质量提升").is_visible()
    screenshot(page, "credits-province-queue")
    context.close()
