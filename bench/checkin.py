"""The doors open: 3,000 learners check in through the real endpoint under gunicorn and PostgreSQL.

100 concurrent asyncio clients (aiohttp) post the one-tap check-in of the
door page, each learner once; then, against the same server in the same run,
the same clients read a one-row view (/healthz/db/), the floor. Loops are
bounded by the learner list and a deadline; traffic goes to 127.0.0.1 only.

    BENCH checkin ratio=<checkin rps / floor rps> rps=<n> floor_rps=<n> p50_ms=<n> p99_ms=<n>
          errors=<n> rows_ok=<1|0> clients=100
    TARGET checkin ratio=<n> >= 0.5 ok|MISSED, p99_ms < 250, errors == 0, rows_ok == 1    (DESIGN.md §7)
"""

import asyncio
import os
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

from attendance import services
from attendance.models import Attendance, AttendancePlan
from bench.database import prepare
from bench.targets import check
from cme_portal.accounts.models import (
    LearnerProfile,
    Organisation,
    OrgKind,
    Role,
    RoleAssignment,
    User,
)
from projects.models import Project, Session

LEARNERS = 3000
CLIENTS = 100
DEADLINE_S = 300
ROOT = Path(__file__).resolve().parent.parent


def build():
    """An approved session open all day today, and 3,000 registered learners."""
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
    existing = set(User.objects.filter(id_number__startswith="CHECKIN").values_list("id_number", flat=True))
    new = [
        User(id_number=f"CHECKIN{n:05d}", name=f"学员{n}", mobile=f"150{n:08d}", password="!")
        for n in range(LEARNERS)
        if f"CHECKIN{n:05d}" not in existing
    ]
    users = User.objects.bulk_create(new, batch_size=1000)
    LearnerProfile.objects.bulk_create([LearnerProfile(user=u, unit=unit) for u in users], batch_size=1000)
    RoleAssignment.objects.bulk_create([RoleAssignment(user=u, role=Role.LEARNER, org=unit) for u in users], batch_size=1000)
    return session


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port):
    """gunicorn as docker-compose runs it; BENCH_WORKERS / BENCH_THREADS override the defaults."""
    workers = int(os.environ.get("BENCH_WORKERS", 3 * (os.cpu_count() or 2)))
    threads = int(os.environ.get("BENCH_THREADS", "1"))
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1", "SECURE_COOKIES": "0", "LOG_LEVEL": "WARNING"}
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


async def load(base, door_url, ids):
    # One GET gives the CSRF cookie the posts carry, as a phone's first page view does.
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client,
        client.get(door_url) as response,
    ):
        assert response.status == 200, response.status
        token = response.cookies["csrftoken"].value

    async def check_in(client, identifier):
        data = {"step": "confirm", "identifier": identifier, "csrfmiddlewaretoken": token}
        async with client.post(door_url, data=data, headers={"Cookie": f"csrftoken={token}"}) as response:
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
    return checkin, floor_run


def main():
    session = build()
    plan = services.plan_for(session)
    ids = list(User.objects.filter(id_number__startswith="CHECKIN").order_by("id_number").values_list("id_number", flat=True))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    door_url = f"{base}/attendance/s/{session.pk}/in/{services.current_code(plan, 'in')}/"
    server, workers = start_server(port)
    try:
        asyncio.run(wait_ready(base))
        (elapsed, latencies, errors), (floor_elapsed, _floor_lat, floor_errors) = asyncio.run(load(base, door_url, ids))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    rows = Attendance.objects.filter(session=session)
    rows_ok = int(rows.count() == len(ids) == rows.values("learner").distinct().count())
    rps = len(latencies) / elapsed
    floor_rps = len(ids) / floor_elapsed
    quantiles = statistics.quantiles(latencies, n=100)
    ratio, p99_ms = rps / floor_rps, quantiles[98]
    print(f"# {len(ids)} learners, gunicorn {workers}, floor errors {floor_errors}")
    print(
        f"BENCH checkin ratio={ratio:.2f} rps={rps:.0f} floor_rps={floor_rps:.0f} "
        f"p50_ms={statistics.median(latencies):.0f} p99_ms={p99_ms:.0f} errors={errors} rows_ok={rows_ok} "
        f"clients={CLIENTS}",
        flush=True,
    )
    check("checkin", ratio=ratio, p99_ms=p99_ms, errors=errors, rows_ok=rows_ok)


if __name__ == "__main__":
    main()
