"""The benchmarks' database: they truncate and fill it, so it must be one made for them.

Every benchmark goes through ``prepare()`` before it writes anything (migrate,
TRUNCATE, bulk inserts); `python -m bench` checks the name before it creates
the database. Both use ``require_bench_database``.
"""

import sys

PREFIX = "cme_bench"


def require_bench_database(name):
    """Exit with status 2 and a clear message unless the database ``name`` starts with ``cme_bench``."""
    if not str(name or "").startswith(PREFIX):
        print(
            f"bench: refusing to use the database {str(name)!r}: the benchmarks truncate and fill their database, "
            f"so its name must start with {PREFIX!r}. Point BENCH_DATABASE_URL (DATABASE_URL when running one "
            f"benchmark module directly) at one, e.g. "
            f"postgres://postgres@127.0.0.1:5432/{PREFIX}. Nothing was touched.",
            file=sys.stderr,
            flush=True,
        )
        sys.exit(2)


def prepare():
    """Refuse a database that is not a bench database, then migrate it. Call before any write."""
    from django.core.management import call_command
    from django.db import connection

    require_bench_database(connection.settings_dict["NAME"])
    call_command("migrate", verbosity=0)


def sql(statement, params=None):
    """Run one statement on the benchmark's connection; return its row count."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def secondary_indexes(table):
    """(name, CREATE INDEX …) of the table's indexes that back no constraint: dropped for a bulk load and
    built again after it (one sorted build each instead of millions of insertions)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [table],
        )
        return cursor.fetchall()


def median_ms(client, url, times=7, expect=None):
    """The median time of ``times`` GETs of ``url`` through the Django test client, after one warm-up
    (which must answer 200 and, with ``expect``, show that text)."""
    import statistics
    import time

    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    if expect:
        assert expect in response.content.decode(), f"{url}: {expect!r} not on the page"
    timings = []
    for _ in range(times):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


class Steps(dict):
    """A data build's timed steps, {name: (rows, seconds)}; ``report()`` prints them and returns the total."""

    def sql(self, name, statement, params=None):
        import time

        started = time.perf_counter()
        self[name] = (sql(statement, params), time.perf_counter() - started)

    def report(self):
        for name, (rows, seconds) in self.items():
            print(f"# build {name}: {rows} rows in {seconds:.1f} s", flush=True)
        return sum(seconds for _rows, seconds in self.values())


def must_build(built):
    """Migrate the bench database (any other is refused) and collect static files (DEBUG is off, as in
    production); then whether to build: not when ``built()`` finds an earlier run's data of the same size,
    unless BENCH_REBUILD is set."""
    import os

    from django.core.management import call_command

    prepare()
    call_command("collectstatic", verbosity=0, interactive=False)
    return not built() or bool(os.environ.get("BENCH_REBUILD"))
