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
