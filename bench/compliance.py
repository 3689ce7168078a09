"""The province compliance report over 10,000 learners with five years of records.

Builds the data with bulk inserts (100 units under 10 cities, 100 learners
each, six ledger rows a year for five years), then times the report page as
the province admin opens it, median of seven after a warm-up.

    BENCH compliance report_ms=<median> learners=10000 years=5
    TARGET compliance report_ms=<median> < 1000 ok|MISSED    (DESIGN.md §7, bench/targets.py)
"""

import os
import random
import statistics
import time
from datetime import date
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cme_portal.settings")
django.setup()

from django.core.management import call_command
from django.db import connection
from django.test import Client

from bench.database import prepare
from bench.targets import check
from cme_portal.accounts.models import (
    LearnerProfile,
    Organisation,
    OrgKind,
    Role,
    RoleAssignment,
    StaffCategory,
    User,
)
from credits.models import CreditRecord

LEARNERS = 10_000
YEARS = 5
CITIES = 10
UNITS_PER_CITY = 10
YEAR = date.today().year


def build():
    prepare()  # refuses any database but a bench one, then migrates
    call_command("collectstatic", verbosity=0, interactive=False)  # DEBUG is off, as in production
    if User.objects.filter(id_number__startswith="BENCH").count() == LEARNERS:
        return  # already built by an earlier run
    with connection.cursor() as cursor:
        tables = [
            "credits_creditrecord",
            "accounts_roleassignment",
            "accounts_learnerprofile",
            "accounts_user",
            "accounts_organisation",
            "credits_requirementrule",
        ]
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    rng = random.Random(2026)
    province = Organisation.objects.create(name="基准省", kind=OrgKind.PROVINCE)
    units = []
    for c in range(CITIES):
        city = Organisation.objects.create(name=f"基准市{c}", kind=OrgKind.CITY, parent=province)
        for u in range(UNITS_PER_CITY):
            units.append(Organisation.objects.create(name=f"基准市{c}医院{u}", kind=OrgKind.UNIT, parent=city, is_tertiary=u < 2))
    users = User.objects.bulk_create(
        [User(id_number=f"BENCH{n:06d}", name=f"学员{n}", password="!") for n in range(LEARNERS)], batch_size=5000
    )
    LearnerProfile.objects.bulk_create(
        [
            LearnerProfile(
                user=user,
                unit=units[n % len(units)],
                staff_category=StaffCategory.SENIOR_TERTIARY if n % 10 < 2 else StaffCategory.HEALTH_TECHNICAL,
            )
            for n, user in enumerate(users)
        ],
        batch_size=5000,
    )
    records = []
    for user in users:
        for year in range(YEAR - YEARS + 1, YEAR + 1):
            for k in range(6):
                cls = "I" if k < 2 else "II"
                records.append(
                    CreditRecord(
                        learner=user,
                        year=year,
                        credit_class=cls,
                        level="national" if k == 0 else "provincial",
                        category="national_i" if k == 0 else "provincial_i",
                        credits=Decimal(rng.choice([1, 2, 3, 4, 5, 6])),
                        source="own",
                        activity_name="基准活动",
                        activity_key=f"B{year}-{k}",
                    )
                )
        if len(records) >= 20_000:
            CreditRecord.objects.bulk_create(records, batch_size=5000)
            records = []
    CreditRecord.objects.bulk_create(records, batch_size=5000)
    admin = User.objects.create_user("PROVINCE-BENCH", "bench-pass", name="省管理员")
    RoleAssignment.objects.create(user=admin, role=Role.PROVINCE_ADMIN, org=province)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure():
    client = Client()
    client.force_login(User.objects.get(id_number="PROVINCE-BENCH"))
    url = f"/credits/compliance/?year={YEAR}"
    response = client.get(url)  # warm-up; also creates the year's rules
    assert response.status_code == 200, response.status_code
    assert f"共 {LEARNERS} 人" in response.content.decode(), "the report does not cover every learner"
    timings = []
    for _ in range(7):
        start = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


if __name__ == "__main__":
    started = time.perf_counter()
    build()
    built = time.perf_counter() - started
    median = measure()
    learners = LearnerProfile.objects.filter(user__id_number__startswith="BENCH").count()
    rows = CreditRecord.objects.count()
    print(f"# data: {learners} learners, {rows} ledger rows (built in {built:.1f} s)")
    print(f"BENCH compliance report_ms={median:.0f} learners={learners} years={YEARS}", flush=True)
    check("compliance", report_ms=median)
