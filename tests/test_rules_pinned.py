"""Rules that once could be deleted with the whole suite still green, each pinned by a test that dies without it."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from attendance import services as attendance_services
from attendance.models import Roster, RosterSelection, RosterState
from certificates import services as certificate_services
from cme_portal.errors import DomainError
from projects import services as project_services
from projects.models import HOSTING_WORKFLOW, Discipline, Project, Session, SessionState

from .factories import ProjectFactory, approved_session, certificates_for, held_session, pdf_upload, session_for

pytestmark = pytest.mark.django_db


# --- a roster is adjusted only while it waits for the unit -----------------------------------


@pytest.fixture
def roster(cast, tree):
    session = held_session(cast["organiser"], tree["unit_a"], date(2026, 6, 1))
    roster = Roster.objects.create(
        session=session, organiser=cast["organiser"], unit=tree["unit_a"], state=RosterState.SUBMITTED, due_date=date(2026, 6, 15)
    )
    RosterSelection.objects.create(roster=roster, learner=cast["learner"], selected=True, preselected=True)
    return roster


def test_a_submitted_roster_can_be_adjusted(cast, roster):
    row = attendance_services.change_selection(roster, cast["unit_admin"], cast["learner"].pk, False, "中途离场")
    assert (row.selected, row.reason) == (False, "中途离场")


@pytest.mark.parametrize("state", [RosterState.DRAFT, RosterState.FORWARDED, RosterState.RETURNED, RosterState.APPROVED])
def test_a_roster_is_adjusted_only_while_it_waits_for_the_unit(client, cast, roster, state):
    Roster.objects.filter(pk=roster.pk).update(state=state)
    roster.refresh_from_db()
    with pytest.raises(DomainError):
        attendance_services.change_selection(roster, cast["unit_admin"], cast["learner"].pk, False, "中途离场")
    assert RosterSelection.objects.get().selected is True


# --- materials are replaced only while the application can be edited -------------------------


@pytest.mark.parametrize(
    "state, allowed",
    [
        (SessionState.DRAFT, True),
        (SessionState.RETURNED, True),
        (SessionState.SUBMITTED, False),
        (SessionState.FORWARDED, False),
        (SessionState.APPROVED, False),
    ],
)
def test_materials_are_replaced_only_on_draft_or_returned_applications(cast, state, allowed):
    session = session_for(cast["organiser"])
    Session.objects.filter(pk=session.pk).update(state=state)
    session.refresh_from_db()
    before = session.materials.get(kind="notice").sha256
    if allowed:
        project_services.attach_material(session, cast["organiser"], "notice", pdf_upload("new-notice.pdf"))
        assert session.materials.get(kind="notice").sha256 != before
    else:
        with pytest.raises(DomainError) as refused:
            project_services.attach_material(session, cast["organiser"], "notice", pdf_upload("new-notice.pdf"))
        assert refused.value.code == "not_editable"
        assert session.materials.get(kind="notice").sha256 == before


# --- a session never gives more credits than its project ----------------------------------------


def test_a_session_may_not_exceed_the_projects_credits(client, cast, tree):
    project = ProjectFactory(holding_unit=tree["unit_a"], credits=5)
    client.force_login(cast["organiser"])
    response = client.post(
        reverse("projects:session_new", args=[project.pk]),
        {
            "venue": "甲市",
            "start_date": "2026-12-01",
            "end_date": "2026-12-02",
            "credits": "6",
            "hours": "30",
        },
    )
    assert "本期学分不能超过项目批准的 5.0 分。" in response.context["form"].errors["credits"]
    assert not Session.objects.exists()
    session = session_for(cast["organiser"], project)
    with pytest.raises(DomainError) as refused:
        project_services.update_session(session, cast["organiser"], credits=D("5.5"))
    assert refused.value.code == "credits"
    session.refresh_from_db()
    assert session.credits == D("5")


# --- a certificate is revoked once --------------------------------------------------------------


def test_a_second_revocation_is_refused_and_keeps_the_first_reason(cast):
    session = approved_session(cast["organiser"], cast["unit_admin"], cast["province_admin"])
    [certificate] = certificates_for(session, [cast["learner"]])
    certificate_services.revoke(certificate, cast["province_admin"], "未实际参加")
    with pytest.raises(DomainError) as refused:
        certificate_services.revoke(certificate, cast["province_admin"], "再次撤销")
    assert refused.value.code == "already_revoked"
    certificate.refresh_from_db()
    assert certificate.revoke_reason == "未实际参加"


# --- deleting a draft takes the national project entered only for it -----------------------------


def national_draft(organiser, number="2027-03-05-129（国）"):
    parent, _ = Discipline.objects.get_or_create(year=2027, code="03", defaults={"name": "临床内科学"})
    kidney, _ = Discipline.objects.get_or_create(year=2027, code="03-05", defaults={"name": "肾脏病学", "parent": parent})
    return project_services.enter_national_project(
        organiser,
        number=number,
        name="肾病康复管理",
        discipline=kidney,
        leader="边学燕",
        year=2027,
        credits=D("4"),
        hours=D("12"),
        sequence=1,
        venue="宁波",
        start_date=date(2027, 3, 27),
        end_date=date(2027, 3, 28),
    )


def test_deleting_a_draft_also_removes_the_national_project_entered_only_for_it(client, cast):
    draft = national_draft(cast["organiser"])
    client.force_login(cast["organiser"])
    assert client.post(reverse("projects:session_delete", args=[draft.pk])).status_code == 302
    assert not Session.objects.exists() and not Project.objects.exists()


def test_deleting_a_draft_keeps_a_project_that_has_other_sessions(cast):
    draft = national_draft(cast["organiser"])
    other = Session.objects.create(
        project=draft.project,
        sequence=2,
        venue="宁波",
        start_date=date(2027, 6, 1),
        end_date=date(2027, 6, 2),
        credits=4,
        hours=12,
        organiser=cast["organiser"],
        unit=draft.unit,
    )
    project_services.delete_draft(draft, cast["organiser"])
    assert list(Project.objects.all()) == [draft.project]
    assert list(Session.objects.all()) == [other]


def test_deleting_a_draft_keeps_a_catalogue_project(cast, tree):
    session = session_for(cast["organiser"], ProjectFactory(holding_unit=tree["unit_a"]))
    project_services.delete_draft(session, cast["organiser"])
    assert Project.objects.filter(pk=session.project_id).exists()


def test_only_drafts_are_deleted(cast):
    session = session_for(cast["organiser"])
    project_services.submit(session, cast["organiser"])
    with pytest.raises(DomainError):
        project_services.delete_draft(session, cast["organiser"])
    assert Session.objects.filter(pk=session.pk).exists()
    HOSTING_WORKFLOW.review(session, cast["unit_admin"], "unit_return", "补充材料")
    session.refresh_from_db()
    with pytest.raises(DomainError):
        project_services.delete_draft(session, cast["organiser"])
    assert Session.objects.filter(pk=session.pk).exists()
