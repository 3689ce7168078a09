import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache

from cme_portal.accounts import sms

pytest_plugins = ["tests.fixtures.people", "tests.fixtures.certificates"]


# The suite's calendar: the factories hold sessions on 2026-12-01 and enter credits of 2026, and the rules
# refuse hosting applications that start in the past and credits dated in the future. Every test runs on a
# clock that starts here and ticks, so the suite means the same on any day it is run; a test that needs
# another moment travels there itself (time_machine nests).
SUITE_NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _suite_clock():
    with time_machine.travel(SUITE_NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def _clean_slate():
    """Rate-limit counters and sent SMS do not leak from one test into the next."""
    cache.clear()
    sms.outbox.clear()
    from attendance.selectors import forget_door_sessions
    from attendance.views import forget_blank_pages

    forget_door_sessions()
    forget_blank_pages()
    yield
    sms.outbox.clear()


@pytest.fixture
def outbox():
    return sms.outbox


def last_sms_code(mobile):
    """The six-digit code of the last SMS sent to ``mobile``."""
    import re

    for to, message in reversed(sms.outbox):
        if to == mobile:
            return re.search(r"\d{6}", message).group(0)
    raise AssertionError(f"no SMS was sent to {mobile}")


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests are skipped on SQLite, with the reason shown."""
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (CI does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def forget_rate_limits():
    """time_machine moves Python's clock, not Redis's: a test that travels forward
    in time clears the counters whose windows would have ended by then."""
    cache.clear()


@pytest.fixture(autouse=True)
def _sqlite_flush_ledger_first(request):
    """After a transactional test (live server, transaction=True) Django flushes SQLite table by table in an
    order that changes from one process to the next. When credits_learneryeartotal goes before
    credits_creditrecord, the ledger's delete trigger writes the removed rows back into the totals for learners
    already deleted, and the flush fails (FOREIGN KEY constraint failed), leaving data for every later test.
    Emptying the ledger first, in the same transaction as the rest, keeps the flush in a working order."""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker and marker.kwargs.get("transaction")) or {"live_server", "transactional_db"} & set(
        request.fixturenames
    )
    if not transactional:
        return
    from django.core.management.color import no_style
    from django.core.management.sql import sql_flush
    from django.db import connection, transaction

    if connection.vendor != "sqlite":
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM credits_creditrecord")
        for statement in sql_flush(no_style(), connection):
            cursor.execute(statement)
