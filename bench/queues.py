"""Queues and lists at size (issue 12, item 3): 1,000,000 credit entries, 10,000 waiting for the province.

Builds its own province (队列基准省: five cities, 200 units, 100,000 learners) beside whatever the other
benchmarks built, with set-returning SQL (generate_series, INSERT … SELECT; nothing row by row):
1,000,000 credit entries spread over the learners, of which 10,000 wait for the province
(city_approved), 5,000 for the cities, 5,000 for the units, the rest approved or closed; an early
review of 5 candidates (their entries come first in every queue, so a first page has both parts); 100,000 notifications for the
province admin (20,000 unread) and 200,000 audit-log rows. The entries' secondary indexes are dropped
for the load and built again after it.

Each page is timed as its viewer opens it (Django test client, DEBUG off, PostgreSQL), median of seven
after a warm-up. The growth table is the province admin's entry queue with 10,000 waiting and with 10
(the other 9,990 moved to approved, vacuumed as autovacuum would, then moved back):

    BENCH queue page_ms=<median> waiting=<n> entries=<n>          (once per size: 10, 10000)
    BENCH lists max_page_ms=<n> pages=<n>                       (every other list page timed, slowest)
    TARGET queues … (DESIGN.md §7: every queue page under 200 ms with 1,000,000 entries)

BENCH_SIZE=small builds 100,000 entries (10,000 learners; still 10,000 waiting) for a quick run. The
data is kept and reused by the next run of the same size; BENCH_REBUILD=1 builds it again.
BENCH_EXPLAIN=1 prints EXPLAIN ANALYZE of every query of the province queue page that takes over 1 ms.
"""

import os
import time
from datetime import date, timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cme_portal.settings")
django.setup()

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.database import Steps, median_ms, must_build, secondary_indexes, sql
from bench.targets import check
from cme_portal.accounts.models import Organisation, OrgKind, Role, RoleAssignment, User
from credits.models import CreditEntry

SMALL = os.environ.get("BENCH_SIZE", "").lower() == "small"
ENTRIES = 100_000 if SMALL else 1_000_000
LEARNERS = ENTRIES // 10
CITIES, UNITS_PER_CITY = 5, 40
WAITING = 10_000  # city_approved: the province admin's queue
# The other states, as consecutive ranges of a permutation of the entries (so each is spread over units and time).
STATES = [("city_approved", WAITING), ("unit_approved", 5_000), ("submitted", 5_000), ("returned", 2_000), ("withdrawn", 1_000)]
NOTIFICATIONS, UNREAD, AUDIT_ROWS = 100_000, 20_000, 200_000
MARK = "队列基准活动"
PROVINCE = "队列基准省"
YEAR = date.today().year


def built():
    """The data of an earlier run of the same size is still there (build once, measure many times)."""
    return (
        CreditEntry.objects.filter(activity_name=MARK).count() == ENTRIES
        and CreditEntry.objects.filter(activity_name=MARK, state="city_approved").count() == WAITING
        and User.objects.filter(id_number__startswith="QBENCH").count() == LEARNERS
    )


def clear():
    """Remove an earlier build of this benchmark (its own rows only: the other benchmarks' data stays)."""
    province = Organisation.objects.filter(name=PROVINCE, kind=OrgKind.PROVINCE).first()
    users = "SELECT id FROM accounts_user WHERE id_number LIKE 'QBENCH%%' OR id_number LIKE 'Q-%%'"
    sql(f"DELETE FROM review_notification WHERE user_id IN ({users})")
    sql(f"DELETE FROM auditlog_logentry WHERE cid = 'qbench' OR actor_id IN ({users})")
    sql(
        "DELETE FROM credits_earlyreviewrequest_candidates WHERE earlyreviewrequest_id IN "
        "(SELECT id FROM credits_earlyreviewrequest WHERE reason = %s)",
        [MARK],
    )
    sql("DELETE FROM credits_earlyreviewrequest WHERE reason = %s", [MARK])
    sql(f"DELETE FROM credits_creditentry WHERE learner_id IN ({users})")
    sql(f"DELETE FROM accounts_learnerprofile WHERE user_id IN ({users})")
    sql(f"DELETE FROM accounts_roleassignment WHERE user_id IN ({users})")
    sql(f"DELETE FROM accounts_user WHERE id IN ({users})")
    if province is not None:
        # What the pages made on their first visit (the year's rules, the entry policy …) goes with the province.
        for table in ("credits_requirementrule", "credits_creditpolicy", "credits_entrydeadline"):
            sql(f"DELETE FROM {table} WHERE province_id = %s", [province.pk])
        sql("DELETE FROM accounts_organisation WHERE path LIKE %s", [province.path + "%"])


def build():
    if not must_build(built):
        return None
    steps = Steps()

    with transaction.atomic():
        clear()
        sql("DROP TABLE IF EXISTS qbench_learner")
        province = Organisation.objects.create(name=PROVINCE, kind=OrgKind.PROVINCE)
        steps.sql(
            "cities",
            "INSERT INTO accounts_organisation (name, kind, parent_id, code, path, is_grassroots, is_tertiary, contact_phone, "
            "office_hours, office_address) "
            "SELECT '队列基准市' || c, 'city', %s, '', '', false, false, '', '', '' FROM generate_series(0, %s) c ORDER BY c",
            [province.pk, CITIES - 1],
        )
        sql(
            "UPDATE accounts_organisation SET path = %s || lpad(id::text, 6, '0') || '/' WHERE parent_id = %s",
            [province.path, province.pk],
        )
        steps.sql(
            "units",
            "INSERT INTO accounts_organisation (name, kind, parent_id, code, path, is_grassroots, is_tertiary, contact_phone, "
            "office_hours, office_address) "
            "SELECT c.name || '医院' || u, 'unit', c.id, '', '', false, false, '', '', '' "
            "FROM accounts_organisation c, generate_series(0, %s) u WHERE c.parent_id = %s ORDER BY c.id, u",
            [UNITS_PER_CITY - 1, province.pk],
        )
        sql(
            "UPDATE accounts_organisation o SET path = p.path || lpad(o.id::text, 6, '0') || '/' "
            "FROM accounts_organisation p WHERE o.parent_id = p.id AND p.parent_id = %s",
            [province.pk],
        )
        sql(
            "CREATE TEMP TABLE qbench_unit ON COMMIT DROP AS SELECT row_number() OVER (ORDER BY o.id) - 1 AS k, o.id "
            "FROM accounts_organisation o JOIN accounts_organisation c ON o.parent_id = c.id WHERE c.parent_id = %s",
            [province.pk],
        )
        units = CITIES * UNITS_PER_CITY
        steps.sql(
            "users",
            "INSERT INTO accounts_user (password, is_superuser, id_type, id_number, name, email, is_active, is_staff, "
            "date_joined, claimed, failed_logins, language) "
            "SELECT '!', false, 'resident_id', 'QBENCH' || lpad(n::text, 7, '0'), '队列学员' || n, '', true, false, now(), "
            "true, 0, '' FROM generate_series(0, %s) n ORDER BY n",
            [LEARNERS - 1],
        )
        # Learner n is in unit n mod 200; qbench_learner numbers them for the entries.
        sql(
            "CREATE TEMP TABLE qbench_learner AS SELECT substr(u.id_number, 7)::int AS n, u.id, unit.id AS unit_id "
            "FROM accounts_user u JOIN qbench_unit unit ON unit.k = substr(u.id_number, 7)::int %% %s "
            "WHERE u.id_number LIKE 'QBENCH%%'",
            [units],
        )
        sql("CREATE INDEX ON qbench_learner (n)")
        steps.sql(
            "profiles",
            "INSERT INTO accounts_learnerprofile (sex, title, position, education, unit_name, department, unit_location, "
            "mailing_address, personnel_number, staff_category, updated_at, user_id, unit_id) "
            "SELECT '', '', '', '', '', '', '', '', '', 'health_technical', now(), id, unit_id FROM qbench_learner",
        )
        steps.sql(
            "roles",
            "INSERT INTO accounts_roleassignment (role, created_at, org_id, user_id) "
            "SELECT 'learner', now(), unit_id, id FROM qbench_learner",
        )
        admin = User.objects.create_user("Q-PROVINCE", "bench-pass", name="队列省管理员")
        RoleAssignment.objects.create(user=admin, role=Role.PROVINCE_ADMIN, org=province)
        city = Organisation.objects.filter(parent=province).order_by("pk").first()
        unit = Organisation.objects.filter(parent=city).order_by("pk").first()
        city_admin = User.objects.create_user("Q-CITY", "bench-pass", name="队列市管理员")
        RoleAssignment.objects.create(user=city_admin, role=Role.CITY_ADMIN, org=city)
        unit_admin = User.objects.create_user("Q-UNIT", "bench-pass", name="队列单位管理员")
        RoleAssignment.objects.create(user=unit_admin, role=Role.UNIT_ADMIN, org=unit)

    # The entries: entry n belongs to learner n mod LEARNERS; its state by where (n * 7919) mod ENTRIES falls
    # (a permutation, so every state is spread over units and time); state_changed_at over the last year.
    bounds, start = [], 0
    for state, size in STATES:
        bounds.append(f"WHEN p < {start + size} THEN '{state}'")
        start += size
    state_case = f"CASE {' '.join(bounds)} ELSE 'approved' END"
    entry_indexes = secondary_indexes("credits_creditentry")
    with transaction.atomic():
        sql("SET LOCAL session_replication_role = replica")
        for name, _definition in entry_indexes:
            sql(f'DROP INDEX "{name}"')
        steps.sql(
            "entries",
            "INSERT INTO credits_creditentry (source, category, activity_name, activity_number, activity_key, issuer, "
            "level, credit_class, start_date, end_date, year, credits, hours, lecturer, evidence, evidence_pages, state, "
            "state_changed_at, public_id, created_at, entered_by_id, learner_id, unit_id, annual_assessment_passed, "
            "evidence_items, final_assessment_passed, mode, personnel_number) "
            f"SELECT 'own', 'provincial_i', %s, 'QB-' || e.n, 'QB-' || e.n, '基准学会', 'provincial', 'I', "
            "%s::date - (e.n %% 300), %s::date - (e.n %% 300), %s, 1 + e.n %% 5, 6, false, '', 1, "
            f"{state_case}, now() - ((e.n * 37) %% 525600) * interval '1 minute', gen_random_uuid(), "
            "now() - ((e.n * 37) %% 525600) * interval '1 minute' - interval '1 day', l.id, l.id, l.unit_id, false, "
            "'[]'::jsonb, false, 'offline', '' "
            "FROM (SELECT n, (n::bigint * 7919) %% %s AS p FROM generate_series(0, %s) n) e "
            "JOIN qbench_learner l ON l.n = e.n %% %s ORDER BY e.n",
            [MARK, date(YEAR, 11, 30), date(YEAR, 11, 30), YEAR, ENTRIES, ENTRIES - 1, LEARNERS],
        )
        started = time.perf_counter()
        sql("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in entry_indexes:
            sql(definition)
        steps["entry indexes"] = (len(entry_indexes), time.perf_counter() - started)
        # Five promotion candidates under early review: their entries come first (a page of both parts).
        request_id = sql_one(
            "INSERT INTO credits_earlyreviewrequest (reason, deadline, created_at, requested_by_id, unit_id, title) "
            "VALUES (%s, %s, now(), %s, %s, '副高') RETURNING id",
            [MARK, date.today() + timedelta(days=60), unit_admin.pk, unit.pk],
        )
        steps.sql(
            "early review",
            "INSERT INTO credits_earlyreviewrequest_candidates (earlyreviewrequest_id, user_id) "
            "SELECT %s, id FROM qbench_learner WHERE n %% %s = 0 ORDER BY n LIMIT 5",
            [request_id, units],
        )
        steps.sql(
            "notifications",
            "INSERT INTO review_notification (message, link, created_at, read_at, user_id, event_id, key, kind, template, params) "
            "SELECT '学分录入“队列基准活动”待省级审核', '/credits/entries/' || n || '/', now() - n * interval '1 minute', "
            "CASE WHEN n < %s THEN NULL ELSE now() END, %s, NULL, '', '', '', '{}'::jsonb FROM generate_series(0, %s) n",
            [UNREAD, admin.pk, NOTIFICATIONS - 1],
        )
        steps.sql(
            "audit log",
            "INSERT INTO auditlog_logentry (object_pk, object_id, object_repr, action, changes, timestamp, actor_id, "
            "content_type_id, additional_data, cid, changes_text) "
            "SELECT n::text, n, '队列基准活动（队列学员' || n || '）', 1, '{\"state\": [\"submitted\", \"unit_approved\"]}'::jsonb, "
            "now() - n * interval '10 seconds', %s, %s, NULL, 'qbench', '' FROM generate_series(0, %s) n",
            [admin.pk, ContentType.objects.get_for_model(CreditEntry).pk, AUDIT_ROWS - 1],
        )
    sql("DROP TABLE qbench_learner")
    started = time.perf_counter()
    sql("VACUUM ANALYZE credits_creditentry")
    sql("ANALYZE")
    steps["analyze"] = (0, time.perf_counter() - started)
    return steps.report()


def sql_one(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()[0]


def as_user(id_number):
    client = Client()
    client.force_login(User.objects.get(id_number=id_number))
    return client


QUEUE = "/credits/queue/province/"


def explain(client):
    """EXPLAIN ANALYZE of each query of the province queue page over 1 ms (BENCH_EXPLAIN=1)."""
    with CaptureQueriesContext(connection) as captured:
        client.get(QUEUE)
    for query in captured.captured_queries:
        if float(query["time"]) * 1000 < 1:
            continue
        print(f"# query ({float(query['time']) * 1000:.1f} ms): {query['sql'][:300]}", flush=True)
        for (line,) in connection.cursor().execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}").fetchall():
            print(f"#   {line}", flush=True)


def measure():
    province = as_user("Q-PROVINCE")
    growth = {WAITING: median_ms(province, QUEUE, expect=f"待处理 {WAITING} 件")}
    if os.environ.get("BENCH_EXPLAIN"):
        explain(province)
    # 10 waiting: the other 9,990 approved, committed and vacuumed (as autovacuum would), measured, then put back.
    kept = sql_one(
        "SELECT array_agg(id) FROM (SELECT id FROM credits_creditentry WHERE state = 'city_approved' "
        "AND activity_name = %s ORDER BY id LIMIT 10) s",
        [MARK],
    )
    moved = sql_one(
        "WITH moved AS (UPDATE credits_creditentry SET state = 'approved' WHERE state = 'city_approved' "
        "AND activity_name = %s AND NOT id = ANY(%s) RETURNING id) SELECT array_agg(id) FROM moved",
        [MARK, kept],
    )
    try:
        sql("VACUUM ANALYZE credits_creditentry")
        growth[10] = median_ms(province, QUEUE, expect="待处理 10 件")
    finally:
        sql("UPDATE credits_creditentry SET state = 'city_approved' WHERE id = ANY(%s)", [moved])
        sql("VACUUM ANALYZE credits_creditentry")
    city, unit, learner = as_user("Q-CITY"), as_user("Q-UNIT"), as_user(f"QBENCH{42:07d}")
    lists = {
        f"province queue, all approved (~{ENTRIES - sum(n for _s, n in STATES):,})": (province, f"{QUEUE}?state=approved"),
        "province queue, page 400": (province, f"{QUEUE}?page=400"),
        "province queue, a year": (province, f"{QUEUE}?year={YEAR}"),
        "province queue, one document number": (province, f"{QUEUE}?q=QBENCH0012345"),
        "city queue": (city, "/credits/queue/city/"),
        "unit queue": (unit, "/credits/queue/unit/"),
        "unit queue, all approved": (unit, "/credits/queue/unit/?state=approved"),
        "correction queue": (province, "/credits/corrections/queue/province/"),
        "roster queue": (province, "/attendance/rosters/province/"),
        "hosting queue": (province, "/projects/queue/province/"),
        "inbox (100,000 notifications)": (province, "/notifications/"),
        "audit log": (province, "/audit/"),
        "learner's credits and entries": (learner, f"/credits/?year={YEAR}"),
        "public project search": (Client(), "/projects/"),
    }
    timed = {name: median_ms(client, url) for name, (client, url) in lists.items()}
    return growth, timed


if __name__ == "__main__":
    seconds = build()
    how = f"data built in {seconds:.1f} s" if seconds is not None else "built by an earlier run"
    entries = CreditEntry.objects.filter(activity_name=MARK).count()
    print(f"# data: {entries} credit entries, {LEARNERS} learners, {WAITING} waiting for the province ({how})", flush=True)
    growth, timed = measure()
    for waiting in sorted(growth):
        print(f"BENCH queue page_ms={growth[waiting]:.0f} waiting={waiting} entries={entries}", flush=True)
    for name, ms in timed.items():
        print(f"# {name}: {ms:.0f} ms (median)", flush=True)
    print(f"BENCH lists max_page_ms={max(timed.values()):.0f} pages={len(timed)}", flush=True)
    floor = timed["hosting queue"]
    print(
        f"# floor: the province admin's empty hosting queue (session, menus, badges, no rows) {floor:.0f} ms in this run; "
        f"the entry queue is {growth[WAITING] / floor:.1f}x it with 10,000 waiting",
        flush=True,
    )
    print(
        f"# growth: {WAITING // 10}x the waiting entries, {growth[WAITING] / growth[10]:.1f}x the time "
        "(medians; the machine is shared, ratios within one run are what to compare)",
        flush=True,
    )
    check("queues", page_ms=max(growth.values()), max_page_ms=max(timed.values()))
