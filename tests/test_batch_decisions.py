"""Issue 13 item 4: reviewers select several rows of a queue and decide them at once; each object
takes its own transition (own event, own transaction), a stale one is reported by name, and
nothing outside the reviewer's scope is touched."""

from datetime import date

import pytest
from django.urls import reverse

from attendance import services as attendance_services
from attendance.models import Roster
from cme_portal.review.models import ReviewEvent
from cme_portal.review.workflow import perform
from credits.models import CREDIT_ENTRY_WORKFLOW, CreditEntry
from projects import services as project_services
from projects.models import HOSTING_WORKFLOW, Session

from .factories import credit_entry, held_session, learner, session_for

pytestmark = pytest.mark.django_db


def token(obj):
    obj.refresh_from_db()
    return f"{obj.pk}:{obj.review_version}"


def batch(client, url, objects, action, reason="", **extra):
    return client.post(url, {"ids": [token(o) for o in objects], "action": action, "batch_reason": reason, **extra}, follow=True)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def entries_of(tree, n):
    return [credit_entry(learner(unit=tree["unit_a"], name=f"批量{k}")) for k in range(n)]


def test_the_unit_admin_approves_several_entries_each_with_its_own_event(client, cast, tree):
    entries = entries_of(tree, 3)
    client.force_login(cast["unit_admin"])
    url = reverse("credits:queue", args=["unit"])
    page = client.get(url)
    assert page.content.decode().count('name="ids"') == 3 and "全选本页" in page.content.decode()
    response = batch(client, url, entries, "unit_approve")
    assert response.redirect_chain[-1][0] == url
    assert {e.state for e in CreditEntry.objects.all()} == {"unit_approved"}
    events = ReviewEvent.objects.filter(action="unit_approve", actor=cast["unit_admin"])
    assert sorted(events.values_list("object_id", flat=True)) == sorted(e.pk for e in entries)
    assert "单位审核通过：3 件。" in messages_of(response)


def test_select_all_on_the_page_works_without_javascript(client, cast, tree):
    entries = entries_of(tree, 2)
    client.force_login(cast["unit_admin"])
    url = reverse("credits:queue", args=["unit"])
    response = client.post(url, {"all": "1", "page_ids": [token(e) for e in entries], "action": "unit_approve"}, follow=True)
    assert CreditEntry.objects.filter(state="unit_approved").count() == 2
    assert "单位审核通过：2 件。" in messages_of(response)


def test_a_stale_entry_is_reported_by_name_and_the_rest_go_through(client, cast, tree):
    entries = entries_of(tree, 3)
    client.force_login(cast["unit_admin"])
    url = reverse("credits:queue", args=["unit"])
    tokens = [token(e) for e in entries]
    # Between the page and the click a colleague returned the second, and its learner resubmitted it:
    # the state is "submitted" again, but not the one the reviewer saw.
    CREDIT_ENTRY_WORKFLOW.review(entries[1], cast["unit_admin"], "unit_return", "缺证书")
    perform(CREDIT_ENTRY_WORKFLOW, entries[1], "resubmit", entries[1].learner)
    response = client.post(url, {"ids": tokens, "action": "unit_approve"}, follow=True)
    states = {e.pk: e.state for e in CreditEntry.objects.all()}
    assert states[entries[0].pk] == states[entries[2].pk] == "unit_approved"
    assert states[entries[1].pk] == "submitted"
    text = messages_of(response)
    assert "单位审核通过：2 件。" in text
    assert any(str(entries[1]) in m and "页面显示后状态已有变化" in m for m in text)


def test_an_out_of_scope_id_is_ignored_and_untouched(client, cast, tree):
    mine = entries_of(tree, 1)[0]
    theirs = credit_entry(learner(unit=tree["unit_b"], name="别院学员"))
    client.force_login(cast["unit_admin"])
    response = batch(client, reverse("credits:queue", args=["unit"]), [mine, theirs], "unit_approve")
    theirs.refresh_from_db()
    assert theirs.state == "submitted" and not ReviewEvent.objects.filter(object_id=theirs.pk, action="unit_approve").exists()
    text = messages_of(response)
    assert "单位审核通过：1 件。" in text and "1 件不在您的审核范围内或已不存在，未处理。" in text
    assert not any(str(theirs) in m for m in text)


def test_a_return_with_one_reason_goes_on_each_and_no_reason_returns_none(client, cast, tree):
    entries = entries_of(tree, 2)
    client.force_login(cast["unit_admin"])
    url = reverse("credits:queue", args=["unit"])
    response = batch(client, url, entries, "unit_return", "   ")
    assert {e.state for e in CreditEntry.objects.all()} == {"submitted"}
    assert any("请填写理由" in m for m in messages_of(response))
    batch(client, url, entries, "unit_return", "请补充学分证书")
    assert {e.state for e in CreditEntry.objects.all()} == {"returned"}
    assert list(ReviewEvent.objects.filter(action="unit_return").values_list("reason", flat=True)) == ["请补充学分证书"] * 2


def test_a_transition_of_another_level_or_an_owners_step_is_refused(client, cast, tree):
    entries = entries_of(tree, 1)
    client.force_login(cast["unit_admin"])
    url = reverse("credits:queue", args=["unit"])
    for action in ("province_approve", "withdraw", "batch_submit", "nonsense"):
        response = batch(client, url, entries, action)
        assert "未知的操作。" in messages_of(response)
    assert CreditEntry.objects.get().state == "submitted"


def test_the_learner_who_is_also_the_reviewer_is_refused_on_their_own_entry(client, cast, tree):
    own = credit_entry(cast["unit_admin"])
    other = entries_of(tree, 1)[0]
    client.force_login(cast["unit_admin"])
    response = batch(client, reverse("credits:queue", args=["unit"]), [own, other], "unit_approve")
    own.refresh_from_db()
    assert own.state == "submitted"
    assert any(str(own) in m and "无权" in m for m in messages_of(response))


def test_other_roles_cannot_post_a_batch(client, cast, tree):
    entries = entries_of(tree, 1)
    url = reverse("credits:queue", args=["unit"])
    for who in ("learner", "organiser", "province_admin"):
        client.force_login(cast[who])
        assert client.post(url, {"ids": [token(entries[0])], "action": "unit_approve"}).status_code == 404
    assert CreditEntry.objects.get().state == "submitted"


def test_the_province_admin_approves_several_applications(client, cast, tree):
    sessions = []
    for _ in range(3):
        session = session_for(cast["organiser"])
        project_services.submit(session, cast["organiser"])
        HOSTING_WORKFLOW.review(session, cast["unit_admin"], "forward")
        sessions.append(session)
    client.force_login(cast["province_admin"])
    url = reverse("projects:queue", args=["province"])
    assert client.get(url).content.decode().count('name="ids"') == 3
    response = batch(client, url, sessions, "approve")
    assert set(Session.objects.values_list("state", flat=True)) == {"approved"}
    assert "审核通过：3 件。" in messages_of(response)
    assert ReviewEvent.objects.filter(action="approve", actor=cast["province_admin"]).count() == 3


def test_the_province_admin_approves_several_rosters_and_returns_one(client, cast, tree):
    rosters = []
    for day in (3, 4, 5):
        session = held_session(cast["organiser"], tree["unit_a"], date(2026, 3, day))
        roster = attendance_services.roster_for(session)
        Roster.objects.filter(pk=roster.pk).update(state="forwarded")
        rosters.append(roster)
    client.force_login(cast["province_admin"])
    url = reverse("attendance:roster_queue", args=["province"])
    assert client.get(url).content.decode().count('name="ids"') == 3
    response = batch(client, url, rosters[:2], "approve")
    assert "审核通过并授予学分：2 件。" in messages_of(response)
    batch(client, url, rosters[2:], "province_return", "签到记录不全")
    states = dict(Roster.objects.values_list("pk", "state"))
    assert [states[r.pk] for r in rosters] == ["approved", "approved", "returned"]
    assert ReviewEvent.objects.get(action="province_return").reason == "签到记录不全"
