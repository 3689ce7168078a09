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
