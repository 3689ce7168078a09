"""The navigation counts every queue a person holds in one query, once per request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cme_portal.accounts.models import Role, RoleAssignment
from projects import services as project_services

from .factories import credit_entry, session_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_roles(cast, tree):
    """甲市人民医院's science office head, who is also the city's and the province's reviewer."""
    person = cast["unit_admin"]
    RoleAssignment.objects.create(user=person, role=Role.CITY_ADMIN, org=tree["city_a"])
    RoleAssignment.objects.create(user=person, role=Role.PROVINCE_ADMIN, org=tree["province"])
    return person


def test_a_person_with_three_roles_loads_the_inbox_in_at_most_8_queries(
    client, cast, three_roles, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        session = session_for(cast["organiser"])
        project_services.submit(session, cast["organiser"])
        credit_entry(cast["learner"])
    unread = three_roles.notifications.filter(read_at__isnull=True).count()
    assert unread >= 1  # the application and the entry wait for this person
    client.force_login(three_roles)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("review:inbox"))
    assert response.status_code == 200
    assert len(captured) <= 8, "\n".join(q["sql"][:160] for q in captured.captured_queries)
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    # The paginator counts the inbox; every navigation count is in one other query.
    assert len(counts) <= 2, counts
    nav = {
        (item["label"], item.get("role")): item.get("count")
        for item in response.context["project_nav"] + response.context["credit_nav"] + response.context["attendance_nav"]
    }
    assert nav[("举办申请确认", Role.UNIT_ADMIN)] == 1
    assert nav[("举办申请审批", Role.PROVINCE_ADMIN)] == 0
    assert nav[("学分审核", Role.UNIT_ADMIN)] == 1
    assert nav[("学分审核", Role.CITY_ADMIN)] == 0
    assert nav[("学员名单确认", Role.UNIT_ADMIN)] == 0
    assert response.context["unread_notifications"] == unread


def test_counts_follow_scope_and_state(client, cast, three_roles):
    """The same one query still counts only what waits for each level, in each role's subtree."""
    mine = credit_entry(cast["learner"])
    credit_entry(cast["other_learner"], activity_number="2026-03-01-002（国）")  # 乙市: the province's only
    client.force_login(three_roles)
    page = client.get(reverse("review:inbox"))
    credit = {item["role"]: item["count"] for item in page.context["credit_nav"] if item.get("role")}
    assert credit == {Role.UNIT_ADMIN: 1, Role.CITY_ADMIN: 0, Role.PROVINCE_ADMIN: 0}
    from credits.models import CREDIT_ENTRY_WORKFLOW

    CREDIT_ENTRY_WORKFLOW.review(mine, three_roles, "unit_approve")
    page = client.get(reverse("review:inbox"))
    credit = {item["role"]: item["count"] for item in page.context["credit_nav"] if item.get("role")}
    assert credit == {Role.UNIT_ADMIN: 0, Role.CITY_ADMIN: 1, Role.PROVINCE_ADMIN: 0}


def test_badges_count_only_up_to_the_bound_and_say_n_plus(client, cast, settings):
    """Issue 12: a badge reads at most LIST_COUNT_BOUND + 1 rows and shows "3+" past it, in the same one query."""
    from cme_portal.review.models import Notification

    from .test_queue_queries import copies_of

    settings.LIST_COUNT_BOUND = 3
    copies_of(credit_entry(cast["learner"]), 4)  # 5 entries wait for the unit admin
    Notification.objects.bulk_create(Notification(user=cast["unit_admin"], message=f"通知{n}") for n in range(5))
    client.force_login(cast["unit_admin"])
    with CaptureQueriesContext(connection) as captured:
        html = client.get(reverse("review:inbox")).content.decode()
    assert 'text-bg-danger">3+<' in html  # unread, beside the bell
    assert 'text-bg-warning">3+<' in html  # 学分审核 and its menu
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 2 and all("LIMIT 4" in sql for sql in counts), counts
    assert "1-5 共 3+ 条" not in html and "共 3+ 条" in html  # the inbox's own count, bounded too
    settings.LIST_COUNT_BOUND = 5
    html = client.get(reverse("credits:queue", args=["unit"])).content.decode()
    assert "待处理 5 件" in html and "5+" not in html


@pytest.mark.parametrize("size", [2, 12])
def test_list_pages_take_pinned_queries_under_and_past_the_bound(client, cast, settings, size):
    """The inbox, the audit log and the learner's credits page: the same queries for 2 rows and for 12 past a
    bound of 5 (a page reads one row more instead of counting), pinned."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from cme_portal.review.models import Notification

    settings.LIST_COUNT_BOUND = 5
    admin = cast["province_admin"]
    Notification.objects.bulk_create(Notification(user=admin, message=f"通知{n}") for n in range(size))
    kind = ContentType.objects.get_for_model(Notification)
    LogEntry.objects.bulk_create(
        LogEntry(content_type=kind, object_pk=str(n), object_repr=f"通知{n}", action=0, actor=admin) for n in range(size)
    )
    pinned = {reverse("review:inbox"): (admin, 7), reverse("audit:log"): (admin, 6)}
    for url, (who, queries) in pinned.items():
        client.force_login(who)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, {"per_page": 10})
        assert response.status_code == 200
        assert len(response.context["page_obj"].object_list) >= min(size, 10)
        assert len(captured) == queries, (url, "\n".join(q["sql"][:160] for q in captured.captured_queries))
