"""The doors open: 3,000 learners check in through the real endpoint under gunicorn and PostgreSQL.

100 concurrent asyncio clients (aiohttp) post the one-tap check-in of the
door page, each learner once and each from its own phone (its own signed
device mark, as the door page sets it); then, against the same server in the
same run, the same clients read a one-row view (/healthz/db/), the floor.
Then 300 first-timers go through their whole flow, each on its own phone:
open the door, identify, ask for the SMS code, register with it (the bench's
server shows the code on the page, as `make run` does). Loops are bounded by
the learner lists and a deadline; traffic goes to 127.0.0.1 only.

    BENCH checkin ratio=<checkin rps / floor rps> rps=<n> floor_rps=<n> p50_ms=<n> p99_ms=<n>
          errors=<n> rows_ok=<1|0> clients=100 first_timers_per_s=<n> first_timer_p99_ms=<n>
          first_timer_errors=<n> first_timers=300
    TARGET checkin ratio=<n> >= 0.5 ok|MISSED, p99_ms < 250, errors == 0, rows_ok == 1    (DESIGN.md §7)
"""

import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import time as clock
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cme_portal.settings")
django.setup()

import aiohttp
from django.core.management import call_command
from django.utils import timezone

from attendance import device, services
from attendance.models import Attendance, AttendancePlan
from bench.database import prepare
from bench.targets import check
from cme_portal.accounts.models import (
    LearnerProfile,
    Organisation,
    OrgKind,
    Role,
    RoleAssignment,
    SmsCode,
    User,
)
from projects.models import Project, Session

LEARNERS = 3000
FIRST_TIMERS = 300
CLIENTS = 100
DEADLINE_S = 300
ROOT = Path(__file__).resolve().parent.parent


def build(enrolled=LEARNERS):
    """An approved session open all day today, and ``enrolled`` registered learners (3,000 by default)."""
    prepare()  # refuses any database but a bench one, then migrates
    call_command("collectstatic", verbosity=0, interactive=False)
    province, _ = Organisation.objects.get_or_create(name="签到基准省", parent=None, defaults={"kind": OrgKind.PROVINCE})
    unit, _ = Organisation.objects.get_or_create(name="签到基准医院", parent=province, defaults={"kind": OrgKind.UNIT})
    organiser, created = User.objects.get_or_create(id_number="ORGANISER-BENCH", defaults={"name": "立项用户"})
    if created:
        RoleAssignment.objects.create(user=organiser, role=Role.ORGANISER, org=unit)
    project, _ = Project.objects.get_or_create(
        number_key="BENCH-CHECKIN",
        defaults={
            "number": "BENCH-CHECKIN",
            "name": "签到压力测试项目",
            "level": "provincial",
            "leader": "负责人",
            "year": 2026,
            "credits": 5,
            "holding_unit": unit,
        },
    )
    today = timezone.localdate()
    session, _ = Session.objects.update_or_create(
        project=project,
        sequence=1,
        defaults={
            "venue": "基准会场",
            "start_date": today,
            "end_date": today,
            "credits": 5,
            "hours": 8,
            "state": "approved",
            "organiser": organiser,
            "unit": unit,
        },
    )
    AttendancePlan.objects.update_or_create(session=session, defaults={"day_start": clock(0, 0), "day_end": clock(23, 59)})
    Attendance.objects.filter(session=session).delete()
    User.objects.filter(id_number__in=first_timer_numbers()).delete()
    # Earlier runs' SMS codes (a bench database only): a number gets a few a day, and each run asks one a first-timer.
    SmsCode.objects.all().delete()
    existing = set(User.objects.filter(id_number__startswith="CHECKIN").values_list("id_number", flat=True))
    new = [
        User(id_number=f"CHECKIN{n:05d}", name=f"学员{n}", mobile=f"150{n:08d}", password="!")
        for n in range(enrolled)
        if f"CHECKIN{n:05d}" not in existing
    ]
    users = User.objects.bulk_create(new, batch_size=1000)
    LearnerProfile.objects.bulk_create([LearnerProfile(user=u, unit=unit) for u in users], batch_size=1000)
    RoleAssignment.objects.bulk_create([RoleAssignment(user=u, role=Role.LEARNER, org=unit) for u in users], batch_size=1000)
    # The tables a run writes start as a day's door finds them: without the rows the earlier runs deleted (dead
    # tuples of the same learners and day, which every check-in's uniqueness check would step over: ten runs
    # left 30,000 dead rows under 3,000 live ones and doubled the database's share of a check-in).
    from bench.database import sql

    for model in (Attendance, User, LearnerProfile, RoleAssignment, SmsCode):
        sql(f"VACUUM ANALYZE {model._meta.db_table}")
    return session


def first_timer_numbers():
    """Valid resident ID numbers nobody holds yet (杭州市西湖区, born on distinct days of 1990)."""
    from datetime import date, timedelta

    from stdnum.cn import ric

    numbers = []
    for n in range(FIRST_TIMERS):
        body = f"330106{(date(1990, 1, 1) + timedelta(days=n)).strftime('%Y%m%d')}{n % 1000:03d}"
        numbers.append(body + ric.calc_check_digit(body + "0"))  # stdnum ignores the last character
    return numbers


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port):
    """gunicorn as docker-compose runs it; BENCH_WORKERS / BENCH_THREADS override the defaults."""
    workers = int(os.environ.get("BENCH_WORKERS", 3 * (os.cpu_count() or 2)))
    threads = int(os.environ.get("BENCH_THREADS", "1"))
    # SMS_SHOW_CODE_IN_PAGE: the first-timers read their code off the page, as under `make run`.
    env = {
        **os.environ,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_COOKIES": "0",
        "LOG_LEVEL": "WARNING",
        "SMS_SHOW_CODE_IN_PAGE": "1",
        "SMS_BACKEND": "cme_portal.accounts.sms.LocmemBackend",
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "cme_portal.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--backlog",
        "2048",
        "--log-level",
        "warning",
    ]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True), f"{workers} workers × {threads} threads"


async def wait_ready(base):
    async with aiohttp.ClientSession() as client:
        for _ in range(200):
            try:
                async with client.get(f"{base}/healthz/db/") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


async def run_clients(make_request, items):
    """CLIENTS workers share ``items``; returns (elapsed seconds, latencies in ms, errors)."""
    queue = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    latencies, errors = [], 0
    deadline = time.monotonic() + DEADLINE_S

    async def worker(client):
        nonlocal errors
        while not queue.empty() and time.monotonic() < deadline:
            item = queue.get_nowait()
            start = time.perf_counter()
            try:
                ok = await make_request(client, item)
            except (TimeoutError, aiohttp.ClientError):
                ok = False
            latencies.append((time.perf_counter() - start) * 1000)
            errors += 0 if ok else 1

    connector = aiohttp.TCPConnector(limit=CLIENTS)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(CLIENTS)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies, errors


async def load(base, door_url, ids, unit_pk):
    # One GET gives the CSRF cookie the posts carry, as a phone's first page view does.
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client,
        client.get(door_url) as response,
    ):
        assert response.status == 200, response.status
        token = response.cookies["csrftoken"].value

    # Each learner's own phone: the device mark the door page would have set on it.
    marks = {identifier: device.signed(f"{n:016x}") for n, identifier in enumerate(ids)}

    async def check_in(client, identifier):
        data = {"step": "confirm", "identifier": identifier, "csrfmiddlewaretoken": token}
        cookie = f"csrftoken={token}; {device.COOKIE}={marks[identifier]}"
        async with client.post(door_url, data=data, headers={"Cookie": cookie}) as response:
            body = await response.text()
            return response.status == 200 and "签到成功" in body

    async def floor(client, _n):
        async with client.get(f"{base}/healthz/db/") as response:
            await response.read()
            return response.status == 200

    async def warm(client, _n):
        async with client.get(door_url) as response:
            await response.read()
            return response.status == 200

    # Every worker loads its templates and catalogues before the doors open.
    await run_clients(warm, range(CLIENTS * 2))
    checkin = await run_clients(check_in, ids)
    floor_run = await run_clients(floor, range(len(ids)))
    first_timers = await run_clients(first_timer_flow(door_url, unit_pk), list(enumerate(first_timer_numbers())))
    return checkin, floor_run, first_timers


CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CODE_RE = re.compile(r"验证码为 (\d{6})")


def first_timer_flow(door_url, unit_pk):
    """A first-timer on their own phone: open the door, identify, ask for the code, register with it."""

    async def flow(_shared_client, item):
        n, number = item
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as phone:
            async with phone.get(door_url) as response:
                page = await response.text()
            token = CSRF_RE.search(page).group(1)
            async with phone.post(door_url, data={"step": "identify", "identifier": number, "csrfmiddlewaretoken": token}) as r:
                if "首次签到" not in await r.text():
                    return False
            mobile = f"17{n:09d}"
            form = {
                "step": "register",
                "csrfmiddlewaretoken": token,
                "id_type": "resident_id",
                "id_number": number,
                "name": "新学员",
                "mobile": mobile,
                "unit": str(unit_pk),
                "department": "内科",
                "unit_location": "杭州",
                "grassroots": "0",
                "title": "junior",
            }
            async with phone.post(door_url, data={**form, "send_code": "1"}) as r:
                code = CODE_RE.search(await r.text())
            if not code:
                return False
            async with phone.post(door_url, data={**form, "sms_code": code.group(1)}) as r:
                return r.status == 200 and "签到成功" in await r.text()

    return flow


def main():
    session = build()
    plan = services.plan_for(session)
    ids = list(
        User.objects.filter(id_number__startswith="CHECKIN").order_by("id_number").values_list("id_number", flat=True)[:LEARNERS]
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    door_url = f"{base}/attendance/s/{session.pk}/in/{services.current_code(plan, 'in')}/"
    server, workers = start_server(port)
    try:
        asyncio.run(wait_ready(base))
        (elapsed, latencies, errors), (floor_elapsed, _floor_lat, floor_errors), (ft_elapsed, ft_latencies, ft_errors) = (
            asyncio.run(load(base, door_url, ids, session.unit_id))
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    rows = Attendance.objects.filter(session=session)
    expected = len(ids) + FIRST_TIMERS
    rows_ok = int(rows.count() == expected == rows.values("learner").distinct().count())
    first_timers_per_s = (FIRST_TIMERS - ft_errors) / ft_elapsed
    ft_p99 = statistics.quantiles(ft_latencies, n=100)[98]
    rps = len(latencies) / elapsed
    floor_rps = len(ids) / floor_elapsed
    quantiles = statistics.quantiles(latencies, n=100)
    ratio, p99_ms = rps / floor_rps, quantiles[98]
    print(f"# {len(ids)} learners, gunicorn {workers}, floor errors {floor_errors}")
    print(
        f"BENCH checkin ratio={ratio:.2f} rps={rps:.0f} floor_rps={floor_rps:.0f} "
        f"p50_ms={statistics.median(latencies):.0f} p99_ms={p99_ms:.0f} errors={errors} rows_ok={rows_ok} "
        f"clients={CLIENTS} first_timers_per_s={first_timers_per_s:.1f} first_timer_p99_ms={ft_p99:.0f} "
        f"first_timer_errors={ft_errors} first_timers={FIRST_TIMERS}",
        flush=True,
    )
    check("checkin", ratio=ratio, p99_ms=p99_ms, errors=errors + ft_errors, rows_ok=rows_ok)


if __name__ == "__main__":
    main()
