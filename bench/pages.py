"""Page weights in Chromium (DESIGN.md §7, issue 12 item 7): what a phone downloads, over the wire.

The portal runs as production does (gunicorn, DEBUG off, static files collected with WhiteNoise's compressed
manifest storage: Brotli or gzip, far-future cache headers on hashed names). Debian's Chromium opens each page
in a fresh browser profile (a first visit: empty cache), then opens it again (a repeat visit: the hashed files
come from the cache); the bench adds up the bytes the network layer received for every request of the page
(Chrome DevTools Protocol ``Network.loadingFinished.encodedDataLength``: headers and compressed bodies).

Pages: the check-in door (anonymous, as a phone scanning the poster), a unit admin's entry queue with 20
entries waiting, the province's compliance report, a learner's dashboard.

    BENCH pages door_kb=<n> portal_first_kb=<n> portal_repeat_kb=<n>
    BENCH page name=<page> first_kb=<n> repeat_kb=<n> requests=<n>       (one per page)
    TARGET pages door_kb <= 30, portal_first_kb <= 150, portal_repeat_kb < 20
"""

import os
import signal
import tempfile

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cme_portal.settings")
django.setup()

from django.conf import settings
from django.test import Client

from attendance import services
from bench.checkin import build, free_port
from bench.door import start_server, wait_ready
from bench.targets import check
from cme_portal.accounts.models import Organisation, Role, RoleAssignment, User

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
WAITING = 20


def people(unit):
    """A unit admin with WAITING entries in the queue, a province admin and a learner (signed-in cookies)."""
    from tests.factories import credit_entry

    province = unit.parent
    accounts = {}
    for key, role, org in (
        ("unit", Role.UNIT_ADMIN, unit),
        ("province", Role.PROVINCE_ADMIN, province),
        ("learner", Role.LEARNER, unit),
    ):
        user, created = User.objects.get_or_create(id_number=f"PAGES-{key.upper()}", defaults={"name": f"页面{key}"})
        if created:
            RoleAssignment.objects.create(user=user, role=role, org=org)
        accounts[key] = user
    from credits.models import CreditEntry

    learners = list(User.objects.filter(id_number__startswith="CHECKIN").order_by("id_number")[:WAITING])
    if CreditEntry.objects.filter(learner__in=learners).count() < WAITING:
        for person in learners:
            credit_entry(person)
    cookies = {}
    for key, user in accounts.items():
        client = Client()
        client.force_login(user)
        cookies[key] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return cookies


def weigh(browser, base, url, session_cookie=None):
    """(first-visit bytes, repeat-visit bytes, requests) of ``url`` in a fresh profile."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    if session_cookie:
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_cookie, "url": base}])
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.clearBrowserCache")
    received, requests = [], []
    cdp.on("Network.loadingFinished", lambda event: received.append(event["encodedDataLength"]))
    cdp.on("Network.requestWillBeSent", lambda event: requests.append(event["request"]["url"]))
    response = page.goto(base + url, wait_until="load")
    assert response.status == 200, (url, response.status)
    page.wait_for_timeout(300)
    first, count = sum(received), len(requests)
    received.clear()
    response = page.goto(base + url, wait_until="load")
    page.wait_for_timeout(300)
    repeat = sum(received)
    context.close()
    return first, repeat, count


def main():
    from playwright.sync_api import sync_playwright

    session = build(enrolled=200)
    plan = services.plan_for(session)
    unit = Organisation.objects.get(pk=session.unit_id)
    cookies = people(unit)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    door = f"/attendance/s/{session.pk}/in/{services.current_code(plan, 'in')}/"
    pages = [
        ("door", door, None),
        ("queue", "/credits/queue/unit/", cookies["unit"]),
        ("compliance", "/credits/compliance/", cookies["province"]),
        ("learner", "/accounts/dashboard/learner/", cookies["learner"]),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        processes, _described = start_server("sync", "127.0.0.1", port, tmp)
        try:
            wait_ready(base)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                figures = {}
                for name, url, cookie in pages:
                    first, repeat, count = weigh(browser, base, url, cookie)
                    figures[name] = (first, repeat)
                    print(f"BENCH page name={name} first_kb={first / 1024:.1f} repeat_kb={repeat / 1024:.1f} requests={count}")
                browser.close()
        finally:
            for process in reversed(processes):
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
    portal = [figures[name] for name in ("queue", "compliance", "learner")]
    result = {
        "door_kb": figures["door"][0] / 1024,
        "portal_first_kb": max(first for first, _repeat in portal) / 1024,
        "portal_repeat_kb": max(repeat for _first, repeat in portal) / 1024,
    }
    print("BENCH pages " + " ".join(f"{key}={value:.1f}" for key, value in result.items()), flush=True)
    check("pages", **result)


if __name__ == "__main__":
    main()
