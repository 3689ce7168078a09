"""Each role lands on its own dashboard; every other role is turned away (404)."""

import pytest
from django.urls import reverse

from cme_portal.accounts.models import Role

from .factories import learner, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tree):
    return {
        Role.LEARNER: learner(unit=tree["unit_a"]),
        Role.ORGANISER: staff(Role.ORGANISER, tree["unit_a"]),
        Role.UNIT_ADMIN: staff(Role.UNIT_ADMIN, tree["unit_a"]),
        Role.CITY_ADMIN: staff(Role.CITY_ADMIN, tree["city_a"]),
        Role.PROVINCE_ADMIN: staff(Role.PROVINCE_ADMIN, tree["province"]),
    }


@pytest.mark.parametrize("role", list(Role))
def test_each_role_lands_on_its_own_dashboard(client, people, role):
    client.force_login(people[role])
    response = client.get(reverse("accounts:dashboard"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:dashboard_role", args=[role.value])
    assert response.context["role"] == role


@pytest.mark.parametrize("owner", list(Role))
@pytest.mark.parametrize("visitor", list(Role))
def test_dashboards_refuse_roles_that_do_not_own_them(client, people, owner, visitor):
    client.force_login(people[visitor])
    response = client.get(reverse("accounts:dashboard_role", args=[owner.value]))
    # Staff are learners too (factories.staff), so every one may open the learner's page.
    allowed = owner == visitor or owner == Role.LEARNER
    assert response.status_code == (200 if allowed else 404)


@pytest.mark.parametrize("role", list(Role))
def test_anonymous_visitors_are_sent_to_login(client, role):
    response = client.get(reverse("accounts:dashboard_role", args=[role.value]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_unknown_dashboard_is_404(client, people):
    client.force_login(people[Role.PROVINCE_ADMIN])
    assert client.get(reverse("accounts:dashboard_role", args=["superhero"])).status_code == 404


def test_navigation_lists_only_the_roles_held(client, people):
    client.force_login(people[Role.UNIT_ADMIN])
    response = client.get(reverse("accounts:dashboard_role", args=["unit_admin"]))
    assert [item.get("role") for item in response.context["nav_roles"]] == [Role.UNIT_ADMIN, Role.LEARNER, None, None, None]
    # An admin's tools, not roles: the hand-over, the contacts of the nodes they keep, the problem reports sent to them.
    assert [item["url"] for item in response.context["nav_roles"][-3:]] == [
        reverse("accounts:handover"),
        reverse("support:contacts"),
        reverse("support:reports"),
    ]
    page = response.content.decode()
    assert reverse("accounts:dashboard_role", args=["unit_admin"]) in page
    assert reverse("accounts:dashboard_role", args=["province_admin"]) not in page and "省继教办" not in page


def test_unit_admin_dashboard_names_its_unit_and_counts_its_queues(client, people, tree):
    from projects import services

    from .factories import session_for

    session = session_for(people[Role.ORGANISER])
    services.submit(session, people[Role.ORGANISER])
    client.force_login(people[Role.UNIT_ADMIN])
    response = client.get(reverse("accounts:dashboard_role", args=["unit_admin"]))
    page = response.content.decode()
    assert "甲市人民医院" in page
    cards = {item["label"]: item["count"] for item in response.context["project_nav"] if item.get("role") == Role.UNIT_ADMIN}
    assert cards == {"举办申请确认": 1}
    assert reverse("projects:queue", args=["unit"]) in page and "暂无待办" in page  # the empty credit queue
