"""Nothing lost when a worker dies (issue 16, item 2; DESIGN.md §7): a real Celery worker on a Redis this
test starts itself renders a batch of certificates, is killed with SIGKILL (its whole process group)
in the middle, restarted, and after one reconciler pass every award has exactly one certificate with a
readable PDF. PostgreSQL only: the worker and the test share the test database through committed rows."""

import io
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from pypdf import PdfReader

from certificates.models import Certificate
from cme_portal.accounts.models import Role
from credits.models import CreditRecord
from projects.models import Session

from .factories import ProjectFactory, learner, staff

ROOT = Path(__file__).resolve().parent.parent
LEARNERS = 400


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def database_url():
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def rendered(session):
    return Certificate.objects.filter(record__session=session).exclude(file="").count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_nothing(tree):
    organiser = staff(Role.ORGANISER, tree["unit_a"])
    session = Session.objects.create(
        project=ProjectFactory(holding_unit=tree["unit_a"], level="national", credits=10),
        venue="甲市会议中心",
        start_date=date(2026, 6, 1),
        end_date=date(2026, 6, 3),
        credits=10,
        hours=30,
        state="approved",
        organiser=organiser,
        unit=tree["unit_a"],
    )
    people = [learner(unit=tree["unit_a"], name=f"学员{n}") for n in range(LEARNERS)]
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cme_portal.test_settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONPATH": str(ROOT),
    }
    # PYTEST_XDIST_WORKER stays: the worker uses this process's media folder (test_settings.MEDIA_ROOT).
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    workers = []

    def start_worker():
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "cme_portal", "worker", "-P", "prefork", "-c", "2", "-l", "WARNING",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        workers.append(worker)
        return worker

    def manage(code):
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    try:
        wait_for(lambda: listening(port), 20, "redis-server")
        worker = start_worker()
        ids = ",".join(str(p.pk) for p in people)
        manage(
            "from credits.services import award; from projects.models import Session; from cme_portal.accounts.models import User; "
            f"award(Session.objects.get(pk={session.pk}), list(User.objects.filter(pk__in=[{ids}]).order_by('pk')))"
        )
        assert CreditRecord.objects.filter(session=session).count() == LEARNERS

        wait_for(lambda: rendered(session) >= 20, 180, "the worker to start rendering")
        os.killpg(worker.pid, signal.SIGKILL)  # kill -9 the whole worker: main process and pool children
        worker.wait(timeout=30)
        at_kill = rendered(session)
        assert 0 < at_kill < LEARNERS, at_kill

        start_worker()
        queued = manage("from certificates.reconcile import reconcile; print(reconcile(grace_seconds=0))")
        assert "'certificates': " in queued
        wait_for(lambda: rendered(session) == LEARNERS, 600, "every award to have its certificate")
    finally:
        for process in workers + [redis]:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)

    records = CreditRecord.objects.filter(session=session)
    certificates = Certificate.objects.filter(record__in=records)
    assert certificates.count() == records.count() == LEARNERS  # exactly one each (one-to-one by constraint)
    for certificate in certificates:
        with certificate.file.open("rb") as handle:
            assert len(PdfReader(io.BytesIO(handle.read())).pages) == 1, certificate.number
    print(f"\nkilled with {at_kill} of {LEARNERS} rendered; after restart and one reconciler pass: {LEARNERS}/{LEARNERS}")
