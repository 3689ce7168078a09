"""Queue and list pages run the same number of queries with 5 and with 50 rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects.models import HOSTING_WORKFLOW, Session

from .factories import ProjectFactory, session_for

pytestmark = pytest.mark.django_db


def fill(cast, tree, count, state):
    for _ in range(count):
        session = session_for(cast["organiser"], ProjectFactory(holding_unit=tree["unit_a"]), materials=False)
        if state != "draft":
            # Uploads do not matter to a list page: put the application straight into the queue.
            Session.objects.filter(pk=session.pk).update(state="submitted")
        if state == "forwarded":
            HOSTING_WORKFLOW.review(session, cast["unit_admin"], "forward")


def queries_for(client, user, url, rows):
    """The number of queries ``url`` takes, having checked it shows ``rows`` rows (a queue showing nothing proves nothing)."""
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["page_obj"].object_list) == rows
    return len(captured)


@pytest.mark.parametrize(
    "page, who, state",
    [
        (reverse("projects:queue", args=["unit"]), "unit_admin", "submitted"),
        (reverse("projects:queue", args=["province"]), "province_admin", "forwarded"),
        (reverse("projects:my_sessions"), "organiser", "draft"),
        (reverse("projects:public_search"), "organiser", "draft"),
    ],
)
def test_same_queries_for_5_and_50_rows(client, cast, tree, page, who, state):
    fill(cast, tree, 5, state)
    five = queries_for(client, cast[who], page, rows=5)
    fill(cast, tree, 45, state)
    fifty = queries_for(client, cast[who], page, rows=20)  # a page of 20 out of 50
    assert fifty == five, f"{page}: {five} queries with 5 rows, {fifty} with 50"


def test_certificate_query_pages_take_the_same_queries_for_5_and_15_certificates(
    client, cast, tree, django_capture_on_commit_callbacks
):
    """Seed 000's 项目列表 (issue 17): its columns come with the certificates, not one query per row."""
    from datetime import date, timedelta

    from credits.services import award

    from .factories import held_session, learner

    person = learner(unit=tree["unit_a"], name="王秀英")

    def give(count, offset):
        for n in range(count):
            with django_capture_on_commit_callbacks(execute=True):
                day = date(2026, 3, 1) + timedelta(days=offset + n)
                award(held_session(cast["organiser"], tree["unit_a"], day), [person])

    def count_page():
        data = {"by": "document", "id_number": person.id_number, "name": person.name, "captcha_0": "x", "captcha_1": "PASSED"}
        client.post(reverse("certificates:query") + "?by=document", data)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("certificates:query"), {"by": "document", "page": 1})
        return len(captured), len(response.context["results"])

    give(5, 0)
    five, rows = count_page()
    assert rows == 5
    give(10, 5)
    fifteen, rows = count_page()
    assert rows == 10
    assert fifteen == five, f"{five} queries with 5 certificates, {fifteen} with 15"


def test_roster_and_correction_queues_with_their_batch_forms_take_the_same_queries_for_5_and_25_rows(client, cast, tree):
    """Issue 13: the batch checkboxes and the page's row list add no query per row."""
    from datetime import date, timedelta

    from attendance.models import Roster
    from attendance.services import roster_for
    from credits.services import request_correction

    from .factories import held_session, learner, ledger_row

    def fill(count, offset):
        for n in range(count):
            session = held_session(cast["organiser"], tree["unit_a"], date(2026, 1, 1) + timedelta(days=offset + n))
            Roster.objects.filter(pk=roster_for(session).pk).update(state="forwarded")
            person = learner(unit=tree["unit_a"], name=f"更正{offset + n}")
            request_correction(ledger_row(person, activity_name=f"讲座{offset + n}"), person, kind="cancel", reason="重复")

    fill(5, 0)
    rosters = reverse("attendance:roster_queue", args=["province"])
    corrections = reverse("credits:correction_queue", args=["province"])
    five = [queries_for(client, cast["province_admin"], url, rows=5) for url in (rosters, corrections)]
    assert client.get(rosters).content.decode().count('name="ids"') == 5
    fill(20, 5)
    twenty_five = [queries_for(client, cast["province_admin"], url, rows=20) for url in (rosters, corrections)]
    assert twenty_five == five


# --- Queues at size (issue 12, item 3): bounded counts, pages without an exact total, pinned queries ---------


def copies_of(entry, count, *, state="submitted", start=0):
    """``count`` more entries like ``entry`` (bulk, distinct activity numbers), oldest change first: a queue's
    rows without entering each one through the service."""
    import uuid
    from datetime import timedelta

    from credits.models import CreditEntry

    rows = []
    for n in range(start, start + count):
        copy = CreditEntry.objects.get(pk=entry.pk)
        copy.pk = None
        copy.public_id = uuid.uuid4()
        copy.activity_number = copy.activity_key = f"COPY-{n}"
        copy.state = state
        copy.state_changed_at = entry.state_changed_at + timedelta(minutes=n + 1)
        rows.append(copy)
    return CreditEntry.objects.bulk_create(rows)


@pytest.fixture
def unit_queue(cast):
    """The unit admin's credit queue, with one entry entered through the service (the rest are its copies)."""
    from .factories import credit_entry

    return {"url": reverse("credits:queue", args=["unit"]), "first": credit_entry(cast["learner"])}


def count_queries(captured):
    return [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]


def test_a_queue_past_the_bound_says_n_plus_and_counts_no_further(client, cast, settings, unit_queue):
    """Search engines' count: past LIST_COUNT_BOUND the page says "共 15+ 条" and no COUNT reads more than 16 rows."""
    settings.LIST_COUNT_BOUND = 15
    copies_of(unit_queue["first"], 24)  # 25 waiting
    client.force_login(cast["unit_admin"])
    with CaptureQueriesContext(connection) as captured:
        page = client.get(unit_queue["url"], {"per_page": 10})
    html = page.content.decode()
    assert "1-10 共 15+ 条" in html
    assert "待处理 15+ 件" in html  # the queue's own badge
    assert 'badge rounded-pill text-bg-warning">15+<' in html  # the navigation's
    assert page.context["page_obj"].paginator.exact is False
    counts = count_queries(captured)
    # Two counts, each reading at most 16 rows: the navigation's, which the unfiltered queue reuses (the same
    # rows; no third count of them), and the size of its first part (early-review candidates) to page after it.
    assert len(counts) == 2 and all("LIMIT 16" in sql for sql in counts), counts
    # A filter in use is counted by the paginator itself, bounded the same way.
    with CaptureQueriesContext(connection) as captured:
        html = client.get(unit_queue["url"], {"per_page": 10, "year": 2026}).content.decode()
    assert "1-10 共 15+ 条" in html
    counts = count_queries(captured)
    # The navigation's, then the queue's two parts (early-review candidates, the rest).
    assert len(counts) == 3 and all("LIMIT 16" in sql for sql in counts), counts


def test_under_the_bound_the_count_is_exact(client, cast, settings, unit_queue):
    settings.LIST_COUNT_BOUND = 15
    copies_of(unit_queue["first"], 14)  # 15 waiting: exactly the bound
    client.force_login(cast["unit_admin"])
    html = client.get(unit_queue["url"], {"per_page": 10}).content.decode()
    assert "1-10 共15条" in html and "共2页" in html and "15+" not in html
    assert "»" in html  # the last page is known


def test_pages_past_the_bound_work_by_next_and_previous(client, cast, settings, unit_queue):
    """25 rows counted to 15: page links reach only page 2 (what the count saw), "next" goes on to page 3."""
    settings.LIST_COUNT_BOUND = 15
    copies = copies_of(unit_queue["first"], 24)
    order = [unit_queue["first"].pk] + [row.pk for row in copies]
    client.force_login(cast["unit_admin"])

    def page(number):
        response = client.get(unit_queue["url"], {"per_page": 10, "page": number})
        return response.context["page_obj"], response.content.decode()

    first, html = page(1)
    assert [e.pk for e in first] == order[:10]
    assert "page=2" in html and "page=3" not in html and "»" not in html
    assert "…2" in html  # the last page the count has seen
    with CaptureQueriesContext(connection) as captured:
        second, html = page(2)
    assert [e.pk for e in second] == order[10:20]
    # The skipped rows are walked for their keys only; the page's look-ups run for its own rows.
    (rows,) = [q["sql"] for q in captured.captured_queries if '"catalogue_name"' in q["sql"] and "OFFSET" in q["sql"]]
    assert rows.index("OFFSET") > rows.index('."id" IN (SELECT'), rows
    assert second.has_next() and "page=3" in html  # past the bound, read not computed
    assert "11-20 共 15+ 条" in html and "第 2 页" in html
    third, html = page(3)
    assert [e.pk for e in third] == order[20:]
    assert not third.has_next() and third.has_previous() and third.end_index() == 25
    assert "下一页" not in html and "上一页" in html
    beyond, _html = page(9)  # past the end: the last page the count has seen, as Django's get_page does
    assert beyond.number == 2
    assert page("x")[0].number == 1
    with CaptureQueriesContext(connection) as captured:
        deep, _html = page(2 * 10 + 1)  # past ten times the counted range: the last counted page, no walk there
    assert deep.number == 2 and not any("OFFSET 200" in q["sql"] for q in captured.captured_queries)


def test_early_review_candidates_come_first_across_pages(client, cast, tree, unit_queue):
    """The queue pages through two parts (candidates, then the rest, each by the index's order): the order is
    the same as one sort by (early, state_changed_at) would give, across the page boundary."""
    from datetime import date, timedelta

    from credits.models import CreditPolicy, EarlyReviewRequest

    from .factories import credit_entry, learner

    copies_of(unit_queue["first"], 14)
    candidate = learner(unit=tree["unit_a"], name="钱晋升")
    early = credit_entry(candidate, activity_number="2026-03-01-009（国）")
    early_copies = copies_of(early, 11, start=100)
    CreditPolicy.objects.create(province=tree["province"], earliest_year=2022, early_review_deadline=date.today())
    request = EarlyReviewRequest.objects.create(
        unit=tree["unit_a"], requested_by=cast["unit_admin"], deadline=date.today() + timedelta(days=3)
    )
    request.candidates.add(candidate)
    client.force_login(cast["unit_admin"])
    with CaptureQueriesContext(connection) as captured:
        pages = [client.get(unit_queue["url"], {"per_page": 10, "page": n}).context["page_obj"] for n in (1, 2, 3)]
    # Each part in the index's order (entry_queue_order): no query sorts every row by the early flag.
    orders = {
        q["sql"].rsplit("ORDER BY", 1)[1]
        for q in captured.captured_queries
        if "credits_creditentry" in q["sql"].split("FROM", 1)[0] and "ORDER BY" in q["sql"]
    }
    assert orders and all(
        o.strip().startswith('"credits_creditentry"."state_changed_at" ASC, "credits_creditentry"."id" ASC') for o in orders
    ), orders
    shown = [entry.pk for page in pages for entry in page]
    assert shown[:12] == [early.pk] + [row.pk for row in early_copies]
    assert all(entry.early for entry in pages[0]) and pages[1][1].early and not pages[1][2].early
    assert len(shown) == len(set(shown)) == 27
    assert pages[0].paginator.count == 27


QUEUE_PAGES = {
    # page: (viewer, the state its rows wait in, queries for the page)
    "credits:queue unit": ("unit_admin", "submitted", 6),
    "credits:queue city": ("city_admin", "unit_approved", 6),
    "credits:queue province": ("province_admin", "city_approved", 6),
}


@pytest.mark.parametrize("page", QUEUE_PAGES)
def test_credit_queues_take_pinned_queries_for_5_and_30_rows_past_the_bound(client, cast, settings, unit_queue, page):
    """The same queries with 5 rows (counted exactly) and 30 (past the bound: the page reads a row more)."""
    name, level = page.split()
    who, state, pinned = QUEUE_PAGES[page]
    settings.LIST_COUNT_BOUND = 20
    first = unit_queue["first"]
    type(first).objects.filter(pk=first.pk).update(state=state)
    copies_of(first, 4, state=state)
    five = queries_for(client, cast[who], reverse(name, args=[level]), rows=5)
    copies_of(first, 25, state=state, start=10)
    thirty = queries_for(client, cast[who], reverse(name, args=[level]), rows=20)
    assert (five, thirty) == (pinned, pinned)
