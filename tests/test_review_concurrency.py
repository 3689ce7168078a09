"""Two province reviewers press "approve" at the same moment: one succeeds, one is told."""

import threading

import pytest
from django.db import connection

from cme_portal.accounts.models import Role
from cme_portal.errors import DomainError
from cme_portal.review.models import ReviewEvent
from projects import services
from projects.models import HOSTING_WORKFLOW, SessionState

from .factories import session_for, staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_reviewers_at_once_one_wins(tree):
    organiser = staff(Role.ORGANISER, tree["unit_a"])
    unit_admin = staff(Role.UNIT_ADMIN, tree["unit_a"])
    first, second = staff(Role.PROVINCE_ADMIN, tree["province"]), staff(Role.PROVINCE_ADMIN, tree["province"])
    session = session_for(organiser)
    services.submit(session, organiser)
    HOSTING_WORKFLOW.review(session, unit_admin, "forward")

    barrier = threading.Barrier(2)
    outcomes = []

    def decide(reviewer, action, reason):
        try:
            barrier.wait(timeout=10)
            HOSTING_WORKFLOW.review(type(session).objects.get(pk=session.pk), reviewer, action, reason)
            outcomes.append("ok")
        except DomainError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(first, "approve", "")),
        threading.Thread(target=decide, args=(second, "province_return", "材料不全")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["ok", "stale"]
    session.refresh_from_db()
    assert session.state in (SessionState.APPROVED, SessionState.RETURNED)
    decisions = ReviewEvent.objects.filter(object_id=session.pk, from_state=SessionState.FORWARDED)
    assert decisions.count() == 1
