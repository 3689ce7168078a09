"""W2, seed 001 §1: organiser submits, unit forwards, province returns with a reason,
organiser edits and resubmits, unit forwards, province approves; the timeline tells it."""

import pytest
from django.urls import reverse

from cme_portal.review.models import Notification
from projects.models import Discipline, Project, Session, SessionState

from .factories import ProjectFactory, pdf_upload, session_for

pytestmark = pytest.mark.django_db


def act(client, user, session, action, reason="", follow=False):
    client.force_login(user)
    return client.post(reverse("projects:session_action", args=[session.pk]), {"action": action, "reason": reason}, follow=follow)


def test_the_whole_chain_with_a_return(client, cast, tree, django_capture_on_commit_callbacks):
    organiser, unit_admin, province = cast["organiser"], cast["unit_admin"], cast["province_admin"]
    session = session_for(organiser)

    with django_capture_on_commit_callbacks(execute=True):
        act(client, organiser, session, "submit")
        session.refresh_from_db()
        assert session.state == SessionState.SUBMITTED

        # The unit admin finds it in the queue and forwards it.
        client.force_login(unit_admin)
        queue = client.get(reverse("projects:queue", args=["unit"]))
        assert session in list(queue.context["page_obj"])
        act(client, unit_admin, session, "forward")
        session.refresh_from_db()
        assert session.state == SessionState.FORWARDED

        # The province returns it; a return without a reason is refused first.
        response = act(client, province, session, "province_return", "", follow=True)
        assert "请填写理由" in response.content.decode()
        session.refresh_from_db()
        assert session.state == SessionState.FORWARDED
        act(client, province, session, "province_return", "会议通知未加盖红章")
        session.refresh_from_db()
        assert session.state == SessionState.RETURNED

    # Back with the organiser, who is told why, edits and resubmits.
    note = Notification.objects.filter(user=organiser).latest("created_at")
    assert "会议通知未加盖红章" in note.message
    client.force_login(organiser)
    response = client.post(
        reverse("projects:session_edit", args=[session.pk]),
        {
            "venue": "甲市会议中心二楼",
            "start_date": "2026-12-01",
            "end_date": "2026-12-02",
            "credits": "5",
            "hours": "30",
            "remarks": "已重新上传盖章通知",
        },
    )
    assert response.status_code == 302
    client.post(reverse("projects:material_upload", args=[session.pk]), {"kind": "notice", "file": pdf_upload("盖章通知.pdf")})
    assert session.materials.get(kind="notice").original_name == "盖章通知.pdf"

    with django_capture_on_commit_callbacks(execute=True):
        act(client, organiser, session, "submit")  # from "returned" this is a resubmission
        act(client, unit_admin, session, "forward")
        act(client, province, session, "approve")
    session.refresh_from_db()
    assert session.state == SessionState.APPROVED and session.venue == "甲市会议中心二楼"

    client.force_login(organiser)
    page = client.get(reverse("projects:session_detail", args=[session.pk]))
    actions = [(e.action, e.from_state, e.to_state, e.actor, e.reason) for e in page.context["timeline"]]
    assert actions == [
        ("submit", "draft", "submitted", organiser, ""),
        ("forward", "submitted", "forwarded", unit_admin, ""),
        ("province_return", "forwarded", "returned", province, "会议通知未加盖红章"),
        ("resubmit", "returned", "submitted", organiser, ""),
        ("forward", "submitted", "forwarded", unit_admin, ""),
        ("approve", "forwarded", "approved", province, ""),
    ]
    html = page.content.decode()
    assert "会议通知未加盖红章" in html and "审核通过" in html
    assert Notification.objects.filter(user=organiser, message__contains="审核通过").exists()


def test_unit_admin_may_return_too(client, cast):
    session = session_for(cast["organiser"])
    act(client, cast["organiser"], session, "submit")
    act(client, cast["unit_admin"], session, "unit_return", "日程缺少授课老师")
    session.refresh_from_db()
    assert session.state == SessionState.RETURNED


def test_submit_needs_both_materials(client, cast):
    session = session_for(cast["organiser"], materials=False)
    response = act(client, cast["organiser"], session, "submit", follow=True)
    assert "请先上传" in response.content.decode()
    session.refresh_from_db()
    assert session.state == SessionState.DRAFT


def test_a_stale_second_decision_is_told_not_applied(client, cast):
    session = session_for(cast["organiser"])
    act(client, cast["organiser"], session, "submit")
    act(client, cast["unit_admin"], session, "forward")
    response = act(client, cast["unit_admin"], session, "unit_return", "晚到的退回", follow=True)
    assert "可能已被他人处理" in response.content.decode()
    session.refresh_from_db()
    assert session.state == SessionState.FORWARDED


def test_only_drafts_are_deleted_after_a_confirmation(client, cast):
    session = session_for(cast["organiser"])
    client.force_login(cast["organiser"])
    url = reverse("projects:session_delete", args=[session.pk])
    assert "确定删除" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    assert not Session.objects.filter(pk=session.pk).exists()

    submitted = session_for(cast["organiser"])
    act(client, cast["organiser"], submitted, "submit")
    client.force_login(cast["organiser"])
    assert client.post(reverse("projects:session_delete", args=[submitted.pk])).status_code == 404
    assert Session.objects.filter(pk=submitted.pk).exists()


def test_organiser_enters_a_national_project(client, cast):
    parent = Discipline.objects.create(year=2027, code="03", name="临床内科学")
    kidney = Discipline.objects.create(year=2027, code="03-05", name="肾脏病学", parent=parent)
    client.force_login(cast["organiser"])
    data = {
        "number": "2027-03-05-129 (国)",
        "sequence": 1,
        "name": "肾病康复管理",
        "discipline": kidney.pk,
        "leader": "边学燕",
        "year": 2027,
        "credit_class": "I",
        "venue": "宁波",
        "start_date": "2027-03-27",
        "end_date": "2027-03-28",
        "credits": "4",
        "hours": "12",
    }
    response = client.post(reverse("projects:national_new"), data)
    assert response.status_code == 302
    project = Project.objects.get()
    assert project.number == "2027-03-05-129 (国)" and project.number_key == "2027-03-05-129(国)"
    assert project.level == "national" and project.sessions.get().state == SessionState.DRAFT

    # A session held in the past is not applied for.
    past = client.post(
        reverse("projects:national_new"),
        {**data, "number": "2027-03-05-130（国）", "start_date": "2026-01-05", "end_date": "2026-01-06"},
    )
    assert "开始日期不能早于今天" in " ".join(past.context["form"].errors["start_date"])

    # The same number with other brackets is the same project.
    again = client.post(reverse("projects:national_new"), {**data, "number": "2027-03-05-129（国）"})
    assert "已在项目库中" in again.content.decode()
    # Discipline and year must agree with the number; the typed input stays.
    wrong = client.post(reverse("projects:national_new"), {**data, "number": "2027-14-02-001（国）"})
    assert "学科代码" in wrong.content.decode() and "肾病康复管理" in wrong.content.decode()
    bad = client.post(reverse("projects:national_new"), {**data, "number": "2027-3-5-129(国)"})
    assert "每段数字位数固定" in bad.content.decode()


def test_dates_and_credits_are_checked(client, cast, tree):
    project = ProjectFactory(holding_unit=tree["unit_a"], credits=5)
    client.force_login(cast["organiser"])
    response = client.post(
        reverse("projects:session_new", args=[project.pk]),
        {
            "venue": "甲市",
            "start_date": "2026-12-05",
            "end_date": "2026-12-01",
            "credits": "8",
            "hours": "30",
        },
    )
    form = response.context["form"]
    assert "结束日期不能早于开始日期。" in form.errors["end_date"]
    # With the dates right, the credits are still over the project's: refused on their own field.
    response = client.post(
        reverse("projects:session_new", args=[project.pk]),
        {
            "venue": "甲市",
            "start_date": "2026-12-01",
            "end_date": "2026-12-05",
            "credits": "8",
            "hours": "30",
        },
    )
    form = response.context["form"]
    assert "end_date" not in form.errors
    assert "本期学分不能超过项目批准的 5.0 分。" in form.errors["credits"]
    assert response.context["form"]["venue"].value() == "甲市"
    assert not Session.objects.exists()


def test_organisers_cannot_host_another_units_project(client, cast, tree):
    project = ProjectFactory(holding_unit=tree["unit_b"])
    client.force_login(cast["organiser"])
    assert client.get(reverse("projects:session_new", args=[project.pk])).status_code == 404


def test_queue_filters_and_search(client, cast, tree):
    for name in ("心血管进展", "护理新进展"):
        session = session_for(cast["organiser"], ProjectFactory(holding_unit=tree["unit_a"], name=name))
        act(client, cast["organiser"], session, "submit")
    client.force_login(cast["unit_admin"])
    page = client.get(reverse("projects:queue", args=["unit"]), {"q": "护理"})
    assert [s.project.name for s in page.context["page_obj"]] == ["护理新进展"]
    assert "待处理 2 件" in page.content.decode()


def test_navigation_counts_waiting_items(client, cast):
    session = session_for(cast["organiser"])
    act(client, cast["organiser"], session, "submit")
    client.force_login(cast["unit_admin"])
    page = client.get(reverse("projects:queue", args=["unit"]))
    nav = {item["label"]: item.get("count") for item in page.context["project_nav"]}
    assert nav["举办申请确认"] == 1


def test_a_returned_applications_reason_is_at_the_top_of_its_page(client, cast):
    """Issue 13: the reason of a return was only in the timeline at the bottom of the page."""
    session = session_for(cast["organiser"])
    act(client, cast["organiser"], session, "submit")
    act(client, cast["unit_admin"], session, "unit_return", "日程缺少授课老师")
    client.force_login(cast["organiser"])
    page = client.get(reverse("projects:session_detail", args=[session.pk])).content.decode()
    top = page.split('class="row g-3"')[0]
    assert "退回理由" in top and "日程缺少授课老师" in top
