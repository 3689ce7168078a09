"""Issue 13, item 6: every list page with filters folds them behind a 筛选 button on a phone (the shared
includes/filters.html), so the first result row is on the first screen; on a desktop the filters stay in view.
Screenshots of the first screen at 360 px: test-artifacts/screenshots/filters-*-360.png."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from .conftest import ARTIFACTS, DESKTOP, PHONE
from .test_projects_browser import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# (who logs in: a demo mobile number or None, URL name, screenshot name)
PAGES = [
    (None, "projects:public_search", "public-search"),
    ("13900000004", "projects:my_sessions", "my-sessions"),
    ("13900000001", "certificates:manage", "certificates"),
    ("13900000003", "credits:compliance_report", "compliance-unit"),
    ("13900000001", "credits:compliance_report", "compliance"),
    ("13900000001", "audit:log", "audit"),
    ("13900000001", "projects:discipline_list", "disciplines"),
    ("13900000001", "credits:queue", "queue"),
]
FIRST_RESULT = "main table.table-stack tbody tr, main .list-group .list-group-item"
FIRST_AFTER_FILTERS = """(selector) => {
  const form = document.querySelector("form[data-filters]");
  for (const row of document.querySelectorAll(selector)) {
    const box = row.getBoundingClientRect();
    if (form.compareDocumentPosition(row) & Node.DOCUMENT_POSITION_FOLLOWING && box.height > 0) return box.top + window.scrollY;
  }
  return null;
}"""


def log_in(page, base, mobile):
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_identifier").fill(mobile)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/dashboard/**")


def url_of(name):
    return reverse(name, kwargs={"level": "province"}) if name == "credits:queue" else reverse(name)


def test_list_filters_fold_on_a_phone_and_the_first_result_is_on_the_first_screen(live_server, browser):
    call_command("seed_demo", verbosity=0)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    contexts = {}
    problems = []
    for who, name, shot in PAGES:
        for size, width in ((PHONE, "360"), (DESKTOP, "desktop")):
            key = (who, width)
            if key not in contexts:
                contexts[key] = browser.new_context(**size, locale="zh-CN")
                if who:
                    log_in(contexts[key].new_page(), live_server.url, who)
            page = contexts[key].new_page()
            page.goto(live_server.url + url_of(name))
            page.wait_for_load_state("networkidle")  # nothing still asked of the server when the test ends
            form = page.locator("form[data-filters]")
            if form.count() != 1:
                problems.append(f"{name}: no shared filter form")
                continue
            if width == "360":
                page.screenshot(path=str(ARTIFACTS / f"filters-{shot}-360.png"))
                # The first row of the list the filters govern: the first shown one after them.
                top = page.evaluate(FIRST_AFTER_FILTERS, FIRST_RESULT)
                if form.is_visible():
                    problems.append(f"{name} at 360 px: the filters are not folded")
                if top is None:
                    problems.append(f"{name} at 360 px: no result row to check")
                elif top >= size["viewport"]["height"]:
                    problems.append(f"{name} at 360 px: the first result starts at {top} px")
                page.locator("label[for=filters-open]").click()
                if not form.is_visible():
                    problems.append(f"{name} at 360 px: 筛选 does not open the filters")
                if page.evaluate("document.documentElement.scrollWidth") > 360:
                    problems.append(f"{name} at 360 px: the page overflows when the filters are open")
            elif not form.is_visible() or page.locator("label[for=filters-open]").is_visible():
                problems.append(f"{name} on a desktop: the filters are not simply shown")
            page.close()
    for context in contexts.values():
        context.close()
    assert not problems, "\n".join(problems)


def test_a_filter_in_use_leaves_the_filters_open_on_a_phone(live_server, browser):
    call_command("seed_demo", verbosity=0)
    context = browser.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + reverse("projects:public_search") + "?name=学")
    assert page.locator("form[data-filters]").is_visible()
    page.goto(live_server.url + reverse("projects:public_search") + "?page=1")
    assert not page.locator("form[data-filters]").is_visible()
    context.close()
