"""The compliance report at the size of a province: 500,000 learners with five years of records.

Builds the data with set-returning SQL (generate_series, INSERT … SELECT; nothing row by row): a
province with ten cities and 1,004 units, 500,000 users with profiles and learner roles, six ledger
rows a learner a year for five years (15,000,000 rows), then the per-learner-per-year totals from the
ledger in one INSERT … SELECT (the ledger's triggers are off during the load, so the totals are built
the way `check_compliance_totals --repair` builds them). The cities are of different sizes so that one
build gives the growth table as subtrees of one province:

    10,000 learners   a city of 20 units (its city admin's page)
    100,000 learners  a city of 200 units (its city admin's page)
    500,000 learners  the province (the province admin's page)

Each page is timed as its admin opens it (Django test client, DEBUG off), median of seven after a
warm-up; the learner's own page (my credits, with the progress bars) median of 21. The machine is shared,
so medians are quoted and the growth ratio (500k over 10k) is printed beside them.

    BENCH compliance report_ms=<median> learners=<n> years=5        (once per size)
    BENCH compliance_city report_ms=<median> learners=<n>
    BENCH compliance_learner progress_ms=<median>
    TARGET compliance … (DESIGN.md §7, bench/targets.py)

BENCH_SIZE=small builds a province of 10,000 learners only (two cities) for a quick run. The data is kept
and reused by the next run of the same size; BENCH_REBUILD=1 builds it again.
"""

import os
import statistics
import time
from datetime import date

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cme_portal.settings")
django.setup()

from django.db import connection, transaction
from django.test import Client

from bench.database import Steps, median_ms, must_build, secondary_indexes, sql
from bench.targets import check
from cme_portal.accounts.models import LearnerProfile, Organisation, OrgKind, Role, RoleAssignment, User
from credits import compliance, totals

YEARS = 5
YEAR = date.today().year
SMALL = os.environ.get("BENCH_SIZE", "").lower() == "small"
# (learners, units) per city; the first two are the growth table's 100k and 10k subtrees.
CITIES = [(5_000, 10), (5_000, 10)] if SMALL else [(100_000, 200), (10_000, 20)] + [(48_750, 98)] * 8
LEARNERS = sum(n for n, _units in CITIES)
ROWS_PER_YEAR = 6


def built():
    """The data of an earlier run of the same size is still there (build once, measure many times)."""
    if User.objects.filter(id_number__startswith="BENCH").count() != LEARNERS:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM credits_learneryeartotal WHERE year = %s", [YEAR])
        return cursor.fetchone()[0] == LEARNERS


def build():
    if not must_build(built):
        return None
    steps = Steps()

    tables = [
        "credits_learneryeartotal",
        "credits_creditrecord",
        "accounts_roleassignment",
        "accounts_learnerprofile",
        "accounts_user",
        "accounts_organisation",
        "credits_requirementrule",
    ]
    sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    with transaction.atomic():
        province = Organisation.objects.create(name="基准省", kind=OrgKind.PROVINCE)
        # Cities and units: one INSERT … SELECT each, paths from the ids as Organisation.save() makes them.
        steps.sql(
            "cities",
            "INSERT INTO accounts_organisation (name, kind, parent_id, code, path, is_grassroots, is_tertiary, contact_phone, "
            "office_hours, office_address) "
            "SELECT '基准市' || c, 'city', %s, '', '', false, false, '', '', '' FROM generate_series(0, %s) c ORDER BY c",
            [province.pk, len(CITIES) - 1],
        )
        sql(
            "UPDATE accounts_organisation SET path = %s || lpad(id::text, 6, '0') || '/' WHERE kind = 'city'",
            [province.path],
        )
        city_ids = list(Organisation.objects.filter(kind=OrgKind.CITY).order_by("pk").values_list("pk", flat=True))
        steps.sql(
            "units",
            "INSERT INTO accounts_organisation (name, kind, parent_id, code, path, is_grassroots, is_tertiary, contact_phone, "
            "office_hours, office_address) "
            "SELECT '基准市' || c.n || '医院' || u, 'unit', c.id, '', '', false, u < 2, '', '', '' "
            "FROM unnest(%s::bigint[], %s::int[]) WITH ORDINALITY AS c(id, units, n), generate_series(0, c.units - 1) u "
            "ORDER BY c.n, u",
            [city_ids, [units for _n, units in CITIES]],
        )
        sql(
            "UPDATE accounts_organisation o SET path = p.path || lpad(o.id::text, 6, '0') || '/' "
            "FROM accounts_organisation p WHERE o.parent_id = p.id AND o.kind = 'unit'"
        )
        # Learner n lives in city c (by the cities' sizes) and in unit (n mod the city's units) of it.
        steps.sql(
            "users",
            "INSERT INTO accounts_user (password, is_superuser, id_type, id_number, name, email, is_active, is_staff, "
            "date_joined, claimed, failed_logins, language) "
            "SELECT '!', false, 'resident_id', 'BENCH' || lpad(n::text, 7, '0'), '学员' || n, '', true, false, now(), true, 0, '' "
            "FROM generate_series(0, %s) n ORDER BY n",
            [LEARNERS - 1],
        )
        starts, start = [], 0
        for n, _units in CITIES:
            starts.append(start)
            start += n
        sql(
            "CREATE TEMP TABLE bench_city ON COMMIT DROP AS "
            "SELECT c.id, c.first, c.size, c.units FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::int[]) "
            "AS c(id, first, size, units)",
            [city_ids, starts, [n for n, _u in CITIES], [u for _n, u in CITIES]],
        )
        sql(
            "CREATE TEMP TABLE bench_unit ON COMMIT DROP AS SELECT parent_id AS city_id, "
            "row_number() OVER (PARTITION BY parent_id ORDER BY id) - 1 AS k, id FROM accounts_organisation WHERE kind = 'unit'"
        )
        steps.sql(
            "profiles",
            "INSERT INTO accounts_learnerprofile (sex, title, position, education, unit_name, department, unit_location, "
            "mailing_address, personnel_number, staff_category, updated_at, user_id, unit_id) "
            "SELECT '', '', '', '', '', '', '', '', '', "
            "CASE WHEN (u.id % 10) < 2 THEN 'senior_tertiary' ELSE 'health_technical' END, now(), u.id, unit.id "
            "FROM accounts_user u "
            "JOIN bench_city c ON substr(u.id_number, 6)::int >= c.first AND substr(u.id_number, 6)::int < c.first + c.size "
            "JOIN bench_unit unit ON unit.city_id = c.id AND unit.k = (substr(u.id_number, 6)::int - c.first) % c.units "
            "WHERE u.id_number LIKE 'BENCH%'",
        )
        steps.sql(
            "roles",
            "INSERT INTO accounts_roleassignment (role, created_at, org_id, user_id) "
            "SELECT 'learner', now(), unit_id, user_id FROM accounts_learnerprofile",
        )
    # The ledger: six rows a learner a year (one national Class I, one provincial Class I, four Class II),
    # credits from 1 to 6 by a hash of (learner, year, row) so verdicts vary. FK checks and the totals
    # trigger are off for the load (session_replication_role); the ledger's secondary indexes are dropped
    # and built again after it (one sorted build each instead of 15 million insertions); then the totals
    # are built from the ledger in one statement, as `check_compliance_totals --repair` builds them.
    ledger_indexes = secondary_indexes("credits_creditrecord")
    with transaction.atomic():
        sql("SET LOCAL session_replication_role = replica")
        for name, _definition in ledger_indexes:
            sql(f'DROP INDEX "{name}"')
        steps.sql(
            "ledger",
            "INSERT INTO credits_creditrecord (learner_id, year, credit_class, level, category, credits, hours, source, "
            "activity_number, activity_key, activity_name, issuer, months, status, revision, note, created_at) "
            "SELECT p.user_id, y, CASE WHEN k < 2 THEN 'I' ELSE 'II' END, "
            "CASE WHEN k = 0 THEN 'national' ELSE 'provincial' END, CASE WHEN k = 0 THEN 'national_i' ELSE 'provincial_i' END, "
            "1 + ((p.user_id * 7 + y * 13 + k * 31 + (p.user_id / 7) * 3) %% 6), 3, 'own', '', 'B' || y || '-' || k, "
            "'基准活动', '', 0, 'effective', 0, '', now() "
            "FROM accounts_learnerprofile p, generate_series(%s, %s) y, generate_series(0, %s) k ORDER BY p.user_id, y, k",
            [YEAR - YEARS + 1, YEAR, ROWS_PER_YEAR - 1],
        )
        started = time.perf_counter()
        sql("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in ledger_indexes:
            sql(definition)
        steps["ledger indexes"] = (len(ledger_indexes), time.perf_counter() - started)
    totals_indexes = secondary_indexes(totals.TABLE)
    with transaction.atomic():
        sql("SET LOCAL session_replication_role = replica")
        sql("SET LOCAL work_mem = '256MB'")
        for name, _definition in totals_indexes:
            sql(f'DROP INDEX "{name}"')
        started = time.perf_counter()
        rows = totals.rebuild()
        steps["totals"] = (rows, time.perf_counter() - started)
        started = time.perf_counter()
        sql("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in totals_indexes:
            sql(definition)
        steps["totals indexes"] = (len(totals_indexes), time.perf_counter() - started)
    admin = User.objects.create_user("PROVINCE-BENCH", "bench-pass", name="省管理员")
    RoleAssignment.objects.create(user=admin, role=Role.PROVINCE_ADMIN, org=province)
    for n, city in enumerate(city_ids[:2]):
        user = User.objects.create_user(f"CITY-BENCH-{n}", "bench-pass", name=f"市管理员{n}")
        RoleAssignment.objects.create(user=user, role=Role.CITY_ADMIN, org_id=city)
    started = time.perf_counter()
    sql("VACUUM ANALYZE credits_learneryeartotal")
    sql("VACUUM ANALYZE accounts_learnerprofile")
    sql("ANALYZE")
    steps["analyze"] = (0, time.perf_counter() - started)
    return steps.report()


def as_admin(id_number):
    client = Client()
    client.force_login(User.objects.get(id_number=id_number))
    return client


def measure():
    url = f"/credits/compliance/?year={YEAR}"
    figures = {}
    if not SMALL:
        for n, city_admin in ((1, "CITY-BENCH-1"), (0, "CITY-BENCH-0")):
            size = CITIES[n][0]
            figures[size] = median_ms(as_admin(city_admin), url, expect=f"共 {size} 人")
    province = as_admin("PROVINCE-BENCH")
    figures[LEARNERS] = median_ms(province, url, expect=f"共 {LEARNERS} 人")
    extra = {
        "last page": median_ms(province, f"{url}&page={LEARNERS // 50}"),
        "not compliant, senior staff, page 100": median_ms(
            province, f"{url}&compliant=no&staff_category=senior_tertiary&page=100"
        ),
        "one document number": median_ms(province, f"{url}&q=BENCH0123456"),
    }
    # The learner's own progress: the rule and the year's totals row, as the my-credits page gets them;
    # and the whole page (session, menus, the year's ledger rows, entries) beside it.
    person = User.objects.get(id_number="BENCH0000042")
    timings = []
    for _ in range(22):
        started = time.perf_counter()
        profile = LearnerProfile.objects.select_related("unit").get(user=person)
        rules = compliance.rules_for(compliance.province_of(profile.unit), YEAR)
        compliance.learner_progress(person, YEAR, rules[profile.staff_category])
        timings.append((time.perf_counter() - started) * 1000)
    progress = statistics.median(timings[1:])
    learner = Client()
    learner.force_login(person)
    page = median_ms(learner, f"/credits/?year={YEAR}", times=21)
    return figures, extra, progress, page


if __name__ == "__main__":
    seconds = build()
    fresh = seconds is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM credits_creditrecord")
        rows = cursor.fetchone()[0]
    how = f"data built in {seconds:.1f} s" if fresh else "built by an earlier run"
    print(f"# data: {LEARNERS} learners, {rows} ledger rows, {len(CITIES)} cities ({how})", flush=True)
    figures, extra, progress, page = measure()
    for learners in sorted(figures):
        print(f"BENCH compliance report_ms={figures[learners]:.0f} learners={learners} years={YEARS}", flush=True)
    city = CITIES[0][0] if not SMALL else None
    if city:
        print(f"BENCH compliance_city report_ms={figures[city]:.0f} learners={city}", flush=True)
    print(f"BENCH compliance_learner progress_ms={progress:.1f} page_ms={page:.0f}", flush=True)
    for name, ms in extra.items():
        print(f"# province page, {name}: {ms:.0f} ms (median)", flush=True)
    smallest = min(figures)
    print(
        f"# growth: {LEARNERS // smallest}x the learners, {figures[LEARNERS] / figures[smallest]:.1f}x the time "
        f"(medians; the machine is shared, ratios within one run are what to compare)",
        flush=True,
    )
    measured = {"report_ms": figures[LEARNERS], "progress_ms": progress}
    if city:
        measured["city_ms"] = figures[city]
    if fresh:
        measured["build_s"] = seconds
    check("compliance", **measured)
