"""Every queue action, page and file of W2 refused (404) to a wrong role and to
an admin of another unit or city (DESIGN.md §3)."""

import pytest
from django.urls import reverse

from projects.models import HOSTING_WORKFLOW, SessionState

from .factories import session_for

pytestmark = pytest.mark.django_db


def in_state(cast, state):
    session = session_for(cast["organiser"])
    from projects import services

    if state != SessionState.DRAFT:
        services.submit(session, cast["organiser"])
    if state == SessionState.FORWARDED:
        HOSTING_WORKFLOW.review(session, cast["unit_admin"], "forward")
    session.refresh_from_db()
    return session


# (action, state it leaves from, who may, who may not)
ACTIONS = [
    (
        "submit",
        SessionState.DRAFT,
        "organiser",
        ["colleague", "unit_admin", "other_unit_admin", "city_admin", "province_admin", "learner"],
    ),
    (
        "forward",
        SessionState.SUBMITTED,
        "unit_admin",
        ["organiser", "colleague", "other_unit_admin", "city_admin", "other_city_admin", "province_admin", "learner"],
    ),
    (
        "unit_return",
        SessionState.SUBMITTED,
        "unit_admin",
        ["organiser", "other_unit_admin", "city_admin", "other_city_admin", "province_admin", "learner"],
    ),
    (
        "approve",
        SessionState.FORWARDED,
        "province_admin",
        ["organiser", "unit_admin", "other_unit_admin", "city_admin", "other_city_admin", "learner"],
    ),
    (
        "province_return",
        SessionState.FORWARDED,
        "province_admin",
        ["organiser", "unit_admin", "other_unit_admin", "city_admin", "other_city_admin", "learner"],
    ),
]


@pytest.mark.parametrize("action, state, allowed, refused", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_each_action_is_refused_to_everyone_but_its_actor(client, cast, action, state, allowed, refused):
    session = in_state(cast, state)
    url = reverse("projects:session_action", args=[session.pk])
    for name in refused:
        client.force_login(cast[name])
        response = client.post(url, {"action": action, "reason": "试图越权"})
        assert response.status_code == 404, name
        session.refresh_from_db()
        assert session.state == state, name
    client.force_login(cast[allowed])
    client.post(url, {"action": action, "reason": "理由"})
    session.refresh_from_db()
    assert session.state != state


@pytest.mark.parametrize(
    "who, status",
    [
        ("organiser", 200),
        ("unit_admin", 200),
        ("province_admin", 200),
        ("colleague", 404),
        ("other_unit_admin", 404),
        ("city_admin", 404),
        ("other_city_admin", 404),
        ("learner", 404),
    ],
)
def test_material_download_and_detail_follow_scope(client, cast, who, status):
    session = in_state(cast, SessionState.SUBMITTED)
    material = session.materials.get(kind="notice")
    client.force_login(cast[who])
    download = client.get(reverse("projects:material_download", args=[material.public_id]))
    assert download.status_code == status
    if status == 200:
        assert download["Content-Disposition"].startswith("attachment")
        assert b"".join(download.streaming_content).startswith(b"%PDF-")
    assert client.get(reverse("projects:session_detail", args=[session.pk])).status_code == status


def test_anonymous_download_goes_to_login(client, cast):
    session = in_state(cast, SessionState.SUBMITTED)
    material = session.materials.get(kind="notice")
    response = client.get(reverse("projects:material_download", args=[material.public_id]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_file_urls_reveal_nothing_guessable(cast):
    session = in_state(cast, SessionState.SUBMITTED)
    material = session.materials.get(kind="notice")
    hex_id = material.public_id.hex
    # A random 128-bit id in the address and on disk; no name, project or sequence number.
    assert material.get_absolute_url() == f"/projects/materials/{material.public_id}/"
    assert material.file.name == f"materials/{hex_id[:2]}/{hex_id}.pdf"
    assert material.original_name == "notice.pdf"


@pytest.mark.parametrize("who", ["colleague", "unit_admin", "province_admin", "learner"])
def test_only_the_owner_edits_uploads_and_deletes(client, cast, who):
    session = in_state(cast, SessionState.DRAFT)
    client.force_login(cast[who])
    assert client.get(reverse("projects:session_edit", args=[session.pk])).status_code == 404
    assert client.get(reverse("projects:session_delete", args=[session.pk])).status_code == 404
    assert client.post(reverse("projects:material_upload", args=[session.pk]), {"kind": "notice"}).status_code == 404


@pytest.mark.parametrize("level, owners", [("unit", {"unit_admin", "other_unit_admin"}), ("province", {"province_admin"})])
def test_queues_are_refused_to_other_roles(client, cast, level, owners):
    url = reverse("projects:queue", args=[level])
    for name, user in cast.items():
        client.force_login(user)
        assert client.get(url).status_code == (200 if name in owners else 404), name


def test_another_units_admin_sees_an_empty_queue(client, cast):
    in_state(cast, SessionState.SUBMITTED)
    client.force_login(cast["other_unit_admin"])
    assert list(client.get(reverse("projects:queue", args=["unit"])).context["page_obj"]) == []
    client.force_login(cast["unit_admin"])
    assert len(client.get(reverse("projects:queue", args=["unit"])).context["page_obj"]) == 1
