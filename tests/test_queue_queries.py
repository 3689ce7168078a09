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
