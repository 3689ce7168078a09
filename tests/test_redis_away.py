"""Redis away, portal up (issue 16, item 3): the key views run in a process whose broker and cache URL
(REDIS_URL) is a local port nobody listens on. The pages that do not need Redis answer normally, login
and its limits work (counted in-process), SMS codes are refused with the reason, a roster approval
commits and says its background work waits, and one reconciler pass sends it once Redis is back."""

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # released on close: nothing listens there


def test_key_views_with_redis_unreachable():
    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CME_REDIS_AWAY": "1",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    if env.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        # Its own test database: the inner run creates and drops it, and must never touch this run's.
        base, _sep, name = env["DATABASE_URL"].rpartition("/")
        env["DATABASE_URL"] = f"{base}/{name.split('?')[0]}_redis_away"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "tests/redis_away/"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "5 passed" in result.stdout, result.stdout[-2000:]
