"""Issue 13, item 2 (WCAG 2.2 AA): every page a learner, organiser or reviewer reaches from the portal's own links,
at 360 px and at desktop width, on the demo data. The pages are checked by axe-core through the suite's hook
(tests/browser/axe.py): this test's job is to open them all. Each role walks the links of its navigation, its
dashboard and the pages they lead to, one address per URL pattern, two links deep."""

import re
from collections import deque
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import Error as PlaywrightError

from .axe import pattern_of
from .conftest import DESKTOP, PHONE
from .test_projects_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": DESKTOP, "phone": PHONE}
ROLES = {
    "learner": "13900000005",  # 刘洋
    "organiser": "13900000004",  # 张伟
    "unit": "13900000003",  # 李娜
    "city": "13900000002",  # 陈刚
    "province": "13900000001",  # 周敏
}
PUBLIC = [
    "/",
    "/accounts/login/",
    "/accounts/register/",
    "/accounts/password-reset/",
    "/projects/",
    "/certificates/?by=document",
    "/certificates/?by=project",
    "/certificates/verify/",
]
# Not pages of the portal (the Django admin, the API's machine interface) or not pages at all (files, exports).
LEAVE_OUT = re.compile(r"^/(admin|api/v1|static|media|captcha|i18n)/|download|export|/file/|\.(pdf|xlsx|zip|csv|png)$|/pdf/")
LINKS = """() => [...document.querySelectorAll('nav a[href], main a[href]')]
  .map((a) => a.href).filter((href) => href.startsWith(location.origin))"""
DEPTH = 2


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", verbosity=0)
    return live_server.url


def visit(page, url):
    try:
        response = page.goto(url)
    except PlaywrightError:  # a link that starts a download
        return None
    if response is None or "text/html" not in (response.headers.get("content-type") or ""):
        return None
    return response


def walk(page, base, starts):
    """Open every page reachable from ``starts`` within DEPTH links, one per URL pattern; return the patterns."""
    seen, queue = set(), deque((start, 0) for start in starts)
    while queue:
        url, depth = queue.popleft()
        parts = urlsplit(url if "://" in url else base + url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        pattern = pattern_of(parts.path) + ("?" + parts.query if parts.path == "/certificates/" else "")
        if pattern in seen or LEAVE_OUT.search(parts.path):
            continue
        seen.add(pattern)
        if visit(page, base + path) is None or depth >= DEPTH:
            continue
        queue.extend((href.split("#")[0], depth + 1) for href in page.evaluate(LINKS))
    return seen


@pytest.mark.parametrize("size", SIZES)
def test_every_page_a_person_reaches(browser, demo, size):
    context = browser.new_context(**SIZES[size], locale="zh-CN")
    page = context.new_page()
    reached = walk(page, demo, PUBLIC)
    for mobile in ROLES.values():
        context.clear_cookies()
        sign_in(page, demo, mobile)
        reached |= walk(page, demo, [page.url])
    context.close()
    # The walk must really go round the portal: the learner's, the organiser's and the reviewers' pages.
    for expected in ("/credits/", "/projects/mine/", "/credits/queue/<slug:level>/", "/attendance/my-code/"):
        assert expected in reached, sorted(reached)
    assert len(reached) >= 40, sorted(reached)
