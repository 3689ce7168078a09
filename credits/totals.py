"""Per-learner-per-year totals of the ledger (LearnerYearTotal), kept by the database itself.

The ledger (CreditRecord) is append-only and written from many places (awards, approved entries,
corrections, platform imports, bulk inserts, raw SQL). Rather than trusting each of them, a trigger on
the ledger adds every inserted row to the totals in the same transaction (and takes a deleted or updated
row back out, so even a hand-made repair in SQL keeps them right); a trigger on the learner's profile
copies unit and staff category onto the totals. PostgreSQL gets plpgsql functions, SQLite the same
arithmetic as plain triggers (with rounding to 0.1, so floating point never moves a verdict).

``expected_sql`` is the same sums recomputed from the ledger in one GROUP BY: ``rebuild`` (the bench,
the migration's backfill, the repair) writes it, ``differences`` compares it with what is stored.
"""

from django.db import connection, transaction

NATIONAL = "('national', 'oop_national')"
WINDOW = 5  # the national-project rule counts five years: a credit of year Y counts in Y … Y+4
TABLE = "credits_learneryeartotal"
COLUMNS = "learner_id, year, c1, c2, national5, advanced, unit_id, staff_category"
PROFILE_UNIT = "(SELECT unit_id FROM accounts_learnerprofile WHERE user_id = {learner})"
PROFILE_CATEGORY = "COALESCE((SELECT staff_category FROM accounts_learnerprofile WHERE user_id = {learner}), '')"

# --- PostgreSQL ------------------------------------------------------------------------------------

PG_INSTALL = f"""
CREATE OR REPLACE FUNCTION credits_totals_apply(
    p_learner bigint, p_year integer, p_class text, p_level text, p_category text, p_credits numeric,
    p_months integer, p_sign integer
) RETURNS void LANGUAGE sql AS $$
    INSERT INTO {TABLE} ({COLUMNS})
    SELECT p_learner, y,
        CASE WHEN y = p_year AND p_class = 'I' THEN p_sign * p_credits ELSE 0 END,
        CASE WHEN y = p_year AND p_class = 'II' THEN p_sign * p_credits ELSE 0 END,
        CASE WHEN p_level IN {NATIONAL} THEN p_sign * p_credits ELSE 0 END,
        CASE WHEN y = p_year AND p_category = 'advanced_study' THEN p_sign * p_months ELSE 0 END,
        {PROFILE_UNIT.format(learner="p_learner")},
        {PROFILE_CATEGORY.format(learner="p_learner")}
    FROM generate_series(p_year, p_year + CASE WHEN p_level IN {NATIONAL} THEN {WINDOW - 1} ELSE 0 END) AS y
    ON CONFLICT (learner_id, year) DO UPDATE SET
        c1 = {TABLE}.c1 + EXCLUDED.c1,
        c2 = {TABLE}.c2 + EXCLUDED.c2,
        national5 = {TABLE}.national5 + EXCLUDED.national5,
        advanced = {TABLE}.advanced + EXCLUDED.advanced
$$;

CREATE OR REPLACE FUNCTION credits_ledger_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM credits_totals_apply(OLD.learner_id, OLD.year, OLD.credit_class, OLD.level, OLD.category,
                                     OLD.credits, OLD.months, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM credits_totals_apply(NEW.learner_id, NEW.year, NEW.credit_class, NEW.level, NEW.category,
                                     NEW.credits, NEW.months, 1);
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS credits_ledger_totals ON credits_creditrecord;
CREATE TRIGGER credits_ledger_totals AFTER INSERT OR UPDATE OR DELETE ON credits_creditrecord
    FOR EACH ROW EXECUTE FUNCTION credits_ledger_totals();

CREATE OR REPLACE FUNCTION credits_profile_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        IF TG_OP = 'DELETE' OR OLD.user_id <> NEW.user_id THEN
            UPDATE {TABLE} SET unit_id = NULL, staff_category = '' WHERE learner_id = OLD.user_id;
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE {TABLE} SET unit_id = NEW.unit_id, staff_category = NEW.staff_category
        WHERE learner_id = NEW.user_id
          AND (unit_id IS DISTINCT FROM NEW.unit_id OR staff_category IS DISTINCT FROM NEW.staff_category);
    END IF;
    RETURN NULL;
END $$;

-- TRUNCATE fires no row trigger: emptying the ledger empties the totals with it.
CREATE OR REPLACE FUNCTION credits_ledger_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {TABLE};
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS credits_ledger_truncated ON credits_creditrecord;
CREATE TRIGGER credits_ledger_truncated AFTER TRUNCATE ON credits_creditrecord
    FOR EACH STATEMENT EXECUTE FUNCTION credits_ledger_truncated();

DROP TRIGGER IF EXISTS credits_profile_totals ON accounts_learnerprofile;
CREATE TRIGGER credits_profile_totals AFTER INSERT OR DELETE OR UPDATE OF unit_id, staff_category, user_id
    ON accounts_learnerprofile FOR EACH ROW EXECUTE FUNCTION credits_profile_totals();
"""

PG_REMOVE = """
DROP TRIGGER IF EXISTS credits_ledger_totals ON credits_creditrecord;
DROP TRIGGER IF EXISTS credits_profile_totals ON accounts_learnerprofile;
DROP TRIGGER IF EXISTS credits_ledger_truncated ON credits_creditrecord;
DROP FUNCTION IF EXISTS credits_ledger_truncated();
DROP FUNCTION IF EXISTS credits_ledger_totals();
DROP FUNCTION IF EXISTS credits_profile_totals();
DROP FUNCTION IF EXISTS credits_totals_apply(bigint, integer, text, text, text, numeric, integer, integer);
"""


# --- SQLite (no functions, no generate_series in triggers: one upsert per year of the window) -------


def _sqlite_upserts(row, sign):
    statements = []
    for k in range(WINDOW):
        same_year = k == 0

        def part(condition, value, same_year=same_year):
            return f"CASE WHEN {condition} THEN {sign} * {row}.{value} ELSE 0 END" if same_year else "0"

        statements.append(
            f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {row}.learner_id, {row}.year + {k}, "
            f"{part(f'{row}.credit_class = ' + repr('I'), 'credits')}, "
            f"{part(f'{row}.credit_class = ' + repr('II'), 'credits')}, "
            f"CASE WHEN {row}.level IN {NATIONAL} THEN {sign} * {row}.credits ELSE 0 END, "
            f"{part(f'{row}.category = ' + repr('advanced_study'), 'months')}, "
            f"{PROFILE_UNIT.format(learner=f'{row}.learner_id')}, {PROFILE_CATEGORY.format(learner=f'{row}.learner_id')} "
            f"WHERE {'1' if same_year else f'{row}.level IN {NATIONAL}'} "
            f"ON CONFLICT (learner_id, year) DO UPDATE SET c1 = ROUND(c1 + excluded.c1, 1), "
            f"c2 = ROUND(c2 + excluded.c2, 1), national5 = ROUND(national5 + excluded.national5, 1), "
            f"advanced = advanced + excluded.advanced;"
        )
    return "\n".join(statements)


SQLITE_INSTALL = [
    "DROP TRIGGER IF EXISTS credits_ledger_totals_insert",
    "DROP TRIGGER IF EXISTS credits_ledger_totals_delete",
    "DROP TRIGGER IF EXISTS credits_ledger_totals_update",
    "DROP TRIGGER IF EXISTS credits_profile_totals_insert",
    "DROP TRIGGER IF EXISTS credits_profile_totals_update",
    "DROP TRIGGER IF EXISTS credits_profile_totals_delete",
    f"CREATE TRIGGER credits_ledger_totals_insert AFTER INSERT ON credits_creditrecord BEGIN\n{_sqlite_upserts('NEW', 1)}\nEND",
    f"CREATE TRIGGER credits_ledger_totals_delete AFTER DELETE ON credits_creditrecord BEGIN\n{_sqlite_upserts('OLD', -1)}\nEND",
    f"CREATE TRIGGER credits_ledger_totals_update AFTER UPDATE ON credits_creditrecord BEGIN\n"
    f"{_sqlite_upserts('OLD', -1)}\n{_sqlite_upserts('NEW', 1)}\nEND",
    f"CREATE TRIGGER credits_profile_totals_insert AFTER INSERT ON accounts_learnerprofile BEGIN\n"
    f"UPDATE {TABLE} SET unit_id = NEW.unit_id, staff_category = NEW.staff_category WHERE learner_id = NEW.user_id;\nEND",
    f"CREATE TRIGGER credits_profile_totals_update AFTER UPDATE OF unit_id, staff_category, user_id ON accounts_learnerprofile "
    f"BEGIN\nUPDATE {TABLE} SET unit_id = NULL, staff_category = '' WHERE learner_id = OLD.user_id;\n"
    f"UPDATE {TABLE} SET unit_id = NEW.unit_id, staff_category = NEW.staff_category WHERE learner_id = NEW.user_id;\nEND",
    f"CREATE TRIGGER credits_profile_totals_delete AFTER DELETE ON accounts_learnerprofile BEGIN\n"
    f"UPDATE {TABLE} SET unit_id = NULL, staff_category = '' WHERE learner_id = OLD.user_id;\nEND",
]

SQLITE_REMOVE = [statement for statement in SQLITE_INSTALL if statement.startswith("DROP")]


def install(schema_editor=None):
    """Create the triggers (idempotent). Called by the migration."""
    conn = schema_editor.connection if schema_editor else connection
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(PG_INSTALL)
        elif conn.vendor == "sqlite":
            for statement in SQLITE_INSTALL:
                cursor.execute(statement)
        else:  # pragma: no cover
            raise NotImplementedError(f"ledger totals triggers for {conn.vendor}")


def remove(schema_editor=None):
    conn = schema_editor.connection if schema_editor else connection
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(PG_REMOVE)
        else:
            for statement in SQLITE_REMOVE:
                cursor.execute(statement)


# --- recomputation from the ledger ------------------------------------------------------------------

OFFSETS = " UNION ALL ".join(f"SELECT {k} AS k" for k in range(WINDOW))

# Every (learner, year) the ledger gives sums for, with the profile's unit and category; the same rows
# the triggers keep (a row the triggers made whose sums came back to zero may be absent here: absent
# and zero mean the same to every report).
EXPECTED_SQL = f"""
WITH per_year AS (
    SELECT learner_id, year,
        SUM(CASE WHEN credit_class = 'I' THEN credits ELSE 0 END) AS c1,
        SUM(CASE WHEN credit_class = 'II' THEN credits ELSE 0 END) AS c2,
        SUM(CASE WHEN level IN {NATIONAL} THEN credits ELSE 0 END) AS national,
        SUM(CASE WHEN category = 'advanced_study' THEN months ELSE 0 END) AS advanced,
        MAX(CASE WHEN level IN {NATIONAL} THEN 1 ELSE 0 END) AS has_national
    FROM credits_creditrecord GROUP BY learner_id, year
), spread AS (
    SELECT learner_id, year + k AS year,
        ROUND(SUM(CASE WHEN k = 0 THEN c1 ELSE 0 END), 1) AS c1,
        ROUND(SUM(CASE WHEN k = 0 THEN c2 ELSE 0 END), 1) AS c2,
        ROUND(SUM(national), 1) AS national5,
        SUM(CASE WHEN k = 0 THEN advanced ELSE 0 END) AS advanced
    FROM per_year CROSS JOIN ({OFFSETS}) offsets
    WHERE k = 0 OR has_national = 1
    GROUP BY learner_id, year + k
)
SELECT spread.learner_id, spread.year, spread.c1, spread.c2, spread.national5, spread.advanced,
    profile.unit_id, COALESCE(profile.staff_category, '') AS staff_category
FROM spread LEFT JOIN accounts_learnerprofile profile ON profile.user_id = spread.learner_id
"""


def rebuild():
    """Replace every stored total with the recomputation from the ledger (the ledger is locked meanwhile
    on PostgreSQL, so no award slips between the two)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("LOCK TABLE credits_creditrecord IN SHARE MODE")
        cursor.execute(f"DELETE FROM {TABLE}")
        # In year order, as the triggers write them in life (a year's rows arrive during that year): one
        # year's totals lie together on disk.
        cursor.execute(f"INSERT INTO {TABLE} ({COLUMNS}) SELECT * FROM ({EXPECTED_SQL}) expected ORDER BY year, learner_id")
        return cursor.rowcount


DIFFERENCES_SQL = f"""
SELECT COALESCE(t.learner_id, e.learner_id), COALESCE(t.year, e.year),
    t.c1, t.c2, t.national5, t.advanced, t.unit_id, t.staff_category,
    e.c1, e.c2, e.national5, e.advanced, p.unit_id, COALESCE(p.staff_category, '')
FROM {TABLE} t
FULL OUTER JOIN ({EXPECTED_SQL}) e ON e.learner_id = t.learner_id AND e.year = t.year
LEFT JOIN accounts_learnerprofile p ON p.user_id = COALESCE(t.learner_id, e.learner_id)
WHERE ROUND(COALESCE(t.c1, 0), 1) <> ROUND(COALESCE(e.c1, 0), 1)
   OR ROUND(COALESCE(t.c2, 0), 1) <> ROUND(COALESCE(e.c2, 0), 1)
   OR ROUND(COALESCE(t.national5, 0), 1) <> ROUND(COALESCE(e.national5, 0), 1)
   OR COALESCE(t.advanced, 0) <> COALESCE(e.advanced, 0)
   OR (t.learner_id IS NOT NULL AND (t.unit_id IS DISTINCT FROM p.unit_id
       OR t.staff_category IS DISTINCT FROM COALESCE(p.staff_category, '')))
ORDER BY 1, 2
"""

NAMES = ("c1", "c2", "national5", "advanced", "unit_id", "staff_category")


def differences(limit=None):
    """(learner_id, year, stored, expected) for every (learner, year) whose stored sums, unit or category
    differ from the ledger's sums and the profile's unit and category (one query, done by the database).
    ``stored`` and ``expected`` are dicts of the six columns; None where the row is absent."""
    sql = DIFFERENCES_SQL + (f" LIMIT {int(limit)}" if limit else "")
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    found = []
    for row in rows:
        stored = None if row[2] is None else dict(zip(NAMES, row[2:8], strict=True))
        expected = dict(zip(NAMES, row[8:14], strict=True))
        found.append((row[0], row[1], stored, expected))
    return found
