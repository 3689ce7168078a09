"""Run every benchmark against PostgreSQL, each in its own process, and print their BENCH and TARGET lines.

DATABASE_URL may name the server; by default the local one, in a database
`cme_bench` that the run creates and fills itself. The database's name must
start with `cme_bench` (bench/database.py). Each benchmark checks its figures
against DESIGN.md §7 (bench/targets.py); the run ends with a SUMMARY line and
exits non-zero when any benchmark missed a target or failed.
"""

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from bench.database import require_bench_database
from bench.targets import MISSED

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = [
    "bench.compliance",
    "bench.queues",
    "bench.export",
    "bench.checkin",
    "bench.door",
    "bench.certificates",
    "bench.catalogue",
    "bench.pages",
]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cme_bench"


def database_name(url):
    return url.rsplit("/", 1)[1].split("?")[0]


def ensure_database(url):
    name = database_name(url)
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def outcome(code):
    if code == 0:
        return "ok"
    if code == MISSED:
        return "MISSED a target"
    return f"FAILED (exit {code})"


def main():
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    require_bench_database(database_name(url))  # before anything is created or written
    ensure_database(url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-only-secret",
        "DEBUG": "0",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "testserver,127.0.0.1",
    }
    env.pop("REDIS_URL", None)
    results = {}
    for module in sys.argv[1:] or BENCHMARKS:
        print(f"# {module}", flush=True)
        results[module] = subprocess.call([sys.executable, "-m", module], cwd=ROOT, env=env)
    bad = {module: code for module, code in results.items() if code != 0}
    details = ", ".join(f"{module} {outcome(code)}" for module, code in results.items())
    if bad:
        print(f"SUMMARY {len(bad)} of {len(results)} benchmarks missed a target or failed: {details}", flush=True)
        sys.exit(MISSED if set(bad.values()) == {MISSED} else 1)
    print(f"SUMMARY all targets met ({len(results)} benchmarks): {details}", flush=True)


if __name__ == "__main__":
    main()
