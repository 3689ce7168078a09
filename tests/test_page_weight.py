"""Light pages (DESIGN.md §7): what a phone downloads, measured through the real static pipeline.

collectstatic with WhiteNoise's compressed manifest storage, then every page and the files it links are
fetched as a browser asks for them (Accept-Encoding: br, gzip): the door's pages at most 30 KB on a first
visit, portal pages at most 150 KB on a first visit and under 20 KB on a repeat one (the hashed files are
cached for a year, so only the page itself comes again).
"""

import re
import sys
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from attendance import services
from attendance.models import AttendancePlan
from cme_portal.accounts.models import Role

from .factories import held_session, learner

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
DOOR_KB, PORTAL_FIRST_KB, PORTAL_REPEAT_KB = 30, 150, 20
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')
CSS_URL = re.compile(r'url\("?([^")]+)"?\)')


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, django_db_blocker):
    root = tmp_path_factory.mktemp("staticfiles")
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "cme_portal.staticstorage.CachedUrlStaticFilesStorage"},  # as in production
    }
    with override_settings(STATIC_ROOT=root, STORAGES=storages, DEBUG=False, WHITENOISE_AUTOREFRESH=False):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield root


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def wire(response):
    return len(body(response))


def weigh(client, url):
    """(bytes of the page, bytes of the files it links, every linked file's Cache-Control)."""
    page = client.get(url, headers={"accept-encoding": "br, gzip"})
    assert page.status_code == 200, (url, page.status_code)
    html = page.content
    if page.get("Content-Encoding") == "gzip":
        import gzip

        html = gzip.decompress(html)
    assets, seen, caching = 0, set(), {}
    queue = ASSET.findall(html.decode())
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        asset = client.get(path, headers={"accept-encoding": "br, gzip"})
        assert asset.status_code == 200, path
        content = body(asset)
        assets += len(content)
        caching[path] = asset.get("Cache-Control", "")
        if path.endswith(".css"):
            if asset.get("Content-Encoding") == "br":
                import brotli

                content = brotli.decompress(content)
            base = path.rsplit("/", 1)[0]
            queue += [f"{base}/{ref}" for ref in CSS_URL.findall(content.decode()) if not ref.startswith(("data:", "/"))]
    return wire(page), assets, caching


def report(name, **figures):
    print(f"PAGE {name} " + " ".join(f"{k}={v / 1024:.1f}KB" for k, v in figures.items()), file=sys.stderr)


def test_the_door_weighs_at_most_30_kb(pipeline, cast, tree):
    session = held_session(cast["organiser"], tree["unit_a"], date(2026, 12, 1))
    plan = AttendancePlan.objects.create(session=session)
    moment = datetime.combine(date(2026, 12, 1), time(8, 20), tzinfo=TZ)
    with time_machine.travel(moment, tick=False):
        url = reverse("attendance:door", args=[session.pk, "in", services.current_code(plan, "in", moment)])
        client = Client()
        identify, assets, caching = weigh(client, url)
        report("door", page=identify, assets=assets)
        assert identify + assets <= DOOR_KB * 1024
        assert all("immutable" in value and "max-age=315360000" in value for value in caching.values()), caching
        # The first-timer's form, the largest door page, too.
        form = client.post(url, {"step": "identify", "identifier": "330106199001011234"}, headers={"accept-encoding": "gzip"})
        assert form.get("Content-Encoding") == "gzip" and len(form.content) + assets <= DOOR_KB * 1024


@pytest.mark.parametrize(
    "url, role", [("/credits/queue/province/", Role.PROVINCE_ADMIN), ("/credits/compliance/", Role.PROVINCE_ADMIN)]
)
def test_portal_pages_are_light_first_and_repeat(pipeline, cast, url, role):
    client = Client()
    client.force_login(cast["province_admin"])
    first_page, assets, caching = weigh(client, url)
    report(url, first=first_page + assets, repeat=first_page)
    assert first_page + assets <= PORTAL_FIRST_KB * 1024
    assert first_page <= PORTAL_REPEAT_KB * 1024  # a repeat visit downloads the page alone
    assert all("immutable" in value for value in caching.values()), caching


def test_every_icon_used_is_in_the_subset():
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "scripts"))
    import subset_icons

    css = (subset_icons.OUT / "icons.css").read_text()
    missing = sorted(name for name in subset_icons.used_icons() if name in subset_icons.glyphs() and f".bi-{name}::" not in css)
    assert not missing, f"run scripts/subset_icons.py: icons used but not in the subset: {missing}"


def test_a_learner_page_too(pipeline, tree):
    person = learner(unit=tree["unit_a"])
    client = Client()
    client.force_login(person)
    first_page, assets, _caching = weigh(client, reverse("accounts:dashboard_role", args=["learner"]))
    assert first_page + assets <= PORTAL_FIRST_KB * 1024 and first_page <= PORTAL_REPEAT_KB * 1024
