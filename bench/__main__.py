"""Run every benchmark against PostgreSQL, each in its own process, and print their BENCH lines.

DATABASE_URL may name the server; by default the local one, in a database
`cme_bench` that the run creates and fills itself.
"""

import os
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ["bench.compliance", "bench.checkin", "bench.certificates"]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cme_bench"


def ensure_database(url):
    name = url.rsplit("/", 1)[1].split("?")[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def main():
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    ensure_database(url)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-only-secret", "DEBUG": "0",
           "CELERY_TASK_ALWAYS_EAGER": "1", "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "testserver,127.0.0.1"}
    env.pop("REDIS_URL", None)
    failed = 0
    for module in sys.argv[1:] or BENCHMARKS:
        print(f"# {module}", flush=True)
        failed |= subprocess.call([sys.executable, "-m", module], cwd=ROOT, env=env)
    sys.exit(failed)


if __name__ == "__main__":
    main()
