"""学分删除修改器 (seed 004, DESIGN.md W9): withdrawals, re-entry, and corrections decided by the province."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from certificates.models import Certificate
from cme_portal.errors import DomainError
from credits import services
from credits.models import CREDIT_ENTRY_WORKFLOW, CorrectionRequest, CorrectionState, CreditEntry, CreditRecord, EntryState

from .factories import approved_session, certificates_for, credit_entry, staff

pytestmark = pytest.mark.django_db


def act(client, user, url, action, reason=""):
    client.force_login(user)
    return client.post(url, {"action": action, "reason": reason}, follow=True)


def entry_action(entry):
    return reverse("credits:entry_action", args=[entry.pk])


def approve_through_the_chain(cast, entry):
    CREDIT_ENTRY_WORKFLOW.review(entry, cast["unit_admin"], "unit_approve")
    CREDIT_ENTRY_WORKFLOW.review(entry, cast["city_admin"], "city_approve")
    CREDIT_ENTRY_WORKFLOW.review(entry, cast["province_admin"], "province_approve")
    return CreditRecord.objects.get(entry=entry)


def progress(client, learner):
    client.force_login(learner)
    found = client.get(reverse("credits:my_credits"), {"year": 2026}).context["progress"]
    return found.class_i, found.counted


# --- withdrawals ------------------------------------------------------------------------------


def test_a_learner_withdraws_an_entry_and_enters_the_activity_again(client, cast):
    entry = credit_entry(cast["learner"])
    page = act(client, cast["learner"], entry_action(entry), "withdraw", "编号填错")
    assert "撤回" in page.content.decode()
    entry.refresh_from_db()
    assert entry.state == EntryState.WITHDRAWN
    assert entry not in CreditEntry.objects.waiting_for(cast["unit_admin"], "unit_admin")
    again = credit_entry(cast["learner"])  # the same activity number: no longer a duplicate
    assert again.state == EntryState.SUBMITTED
    history = client.get(reverse("credits:my_credits")).content.decode()
    assert "已撤回" in history and "待单位审核" in history


def test_the_unit_admin_withdraws_for_its_learner_with_a_reason(client, cast):
    entry = credit_entry(cast["learner"])
    assert act(client, cast["other_unit_admin"], entry_action(entry), "unit_withdraw", "重复").status_code == 404
    act(client, cast["unit_admin"], entry_action(entry), "unit_withdraw", "")  # a reason is needed
    entry.refresh_from_db()
    assert entry.state == EntryState.SUBMITTED
    act(client, cast["unit_admin"], entry_action(entry), "unit_withdraw", "学员重复录入")
    entry.refresh_from_db()
    assert entry.state == EntryState.WITHDRAWN


def test_an_approved_entry_cannot_be_withdrawn(client, cast):
    entry = credit_entry(cast["learner"])
    approve_through_the_chain(cast, entry)
    page = act(client, cast["learner"], entry_action(entry), "withdraw")
    assert "不能执行" in page.content.decode()
    entry.refresh_from_db()
    assert entry.state == EntryState.APPROVED


def test_a_rejected_entry_does_not_block_entering_again_but_a_returned_one_does(client, cast):
    entry = credit_entry(cast["learner"])
    CREDIT_ENTRY_WORKFLOW.review(entry, cast["unit_admin"], "unit_return", "证书不清晰")
    with pytest.raises(DomainError) as blocked:
        credit_entry(cast["learner"])
    assert blocked.value.code == "duplicate"  # a returned entry is edited, or withdrawn and replaced
    services.withdraw_entry(entry, cast["learner"])
    replaced = credit_entry(cast["learner"])
    CREDIT_ENTRY_WORKFLOW.review(replaced, cast["unit_admin"], "unit_reject", "非本人学分证")
    assert credit_entry(cast["learner"]).state == EntryState.SUBMITTED


# --- corrections of approved credits --------------------------------------------------------------


def test_an_approved_credit_is_corrected_through_the_chain(client, cast):
    record = approve_through_the_chain(cast, credit_entry(cast["learner"]))
    assert progress(client, cast["learner"]) == (D("8"), D("8"))

    client.force_login(cast["learner"])
    response = client.post(
        reverse("credits:correction_new", args=[record.pk]),
        {
            "kind": "correct",
            "credits": "6",
            "hours": "",
            "credit_class": "",
            "year": "",
            "reason": "学分证为 6 分，录入有误",
        },
    )
    correction = CorrectionRequest.objects.get()
    assert response.status_code == 302 and correction.state == CorrectionState.SUBMITTED
    assert progress(client, cast["learner"]) == (D("8"), D("8"))  # nothing changes before the province decides

    client.force_login(cast["province_admin"])
    queue = client.get(reverse("credits:correction_queue", args=["province"]))
    assert list(queue.context["page_obj"]) == [correction]
    act(client, cast["province_admin"], reverse("credits:correction_action", args=[correction.pk]), "approve")
    correction.refresh_from_db()
    assert correction.state == CorrectionState.APPROVED

    reversal, replacement = record.reversed_by, CreditRecord.objects.get(revision=1)
    assert (reversal.credits, reversal.note) == (D("-8"), "学分证为 6 分，录入有误")
    assert (replacement.credits, replacement.note, replacement.entry) == (D("6"), "学分证为 6 分，录入有误", record.entry)
    assert progress(client, cast["learner"]) == (D("6"), D("6"))
    history = client.get(reverse("credits:my_credits"), {"year": 2026}).content.decode()
    assert "已冲正" in history and "第 1 次更正" in history and "冲正" in history


def test_a_cancellation_reverses_only_and_revokes_the_awards_certificate(client, cast):
    session = approved_session(cast["organiser"], cast["unit_admin"], cast["province_admin"])
    [certificate] = certificates_for(session, [cast["learner"]])
    client.force_login(cast["learner"])
    client.post(reverse("credits:correction_new", args=[certificate.record_id]), {"kind": "cancel", "reason": "未实际参加"})
    correction = CorrectionRequest.objects.get()
    act(client, cast["province_admin"], reverse("credits:correction_action", args=[correction.pk]), "approve")
    assert CreditRecord.objects.filter(learner=cast["learner"], status="effective", reversed_by__isnull=True).count() == 0
    certificate.refresh_from_db()
    assert certificate.status == "revoked" and "未实际参加" in certificate.revoke_reason
    assert Certificate.objects.count() == 1  # a cancellation draws nothing new


def test_a_corrected_award_gets_a_new_certificate(cast, django_capture_on_commit_callbacks):
    session = approved_session(cast["organiser"], cast["unit_admin"], cast["province_admin"])
    [old] = certificates_for(session, [cast["learner"]])
    correction = services.request_correction(old.record, cast["learner"], kind="correct", credits=D("4"), reason="本期实际 4 分")
    with django_capture_on_commit_callbacks(execute=True):
        correction.workflow.review(correction, cast["province_admin"], "approve")
    old.refresh_from_db()
    new = Certificate.objects.exclude(pk=old.pk).get()
    assert old.status == "revoked" and new.status == "issued" and new.record.credits == D("4")


def test_refusals_of_a_correction(client, cast):
    record = approve_through_the_chain(cast, credit_entry(cast["learner"]))
    url = reverse("credits:correction_new", args=[record.pk])
    client.force_login(cast["other_learner"])
    assert client.get(url).status_code == 404  # someone else's credit
    client.force_login(cast["other_unit_admin"])
    assert client.get(url).status_code == 404  # another unit's learner
    client.force_login(cast["learner"])
    same = client.post(url, {"kind": "correct", "credits": "8", "reason": "没有改"})
    assert "与原记录不同" in " ".join(same.context["form"].errors["credits"])
    no_reason = client.post(url, {"kind": "correct", "credits": "6", "reason": ""})
    assert no_reason.context["form"].errors["reason"] and no_reason.context["form"]["credits"].value() == "6"
    client.post(url, {"kind": "correct", "credits": "6", "reason": "学分证为 6 分"})
    second = client.post(url, {"kind": "cancel", "reason": "再次申请"})
    assert "已有一份待审核的更正申请" in second.content.decode()
    assert CorrectionRequest.objects.count() == 1


def test_the_unit_admin_asks_for_its_learner_and_the_province_may_refuse(client, cast):
    record = approve_through_the_chain(cast, credit_entry(cast["learner"]))
    client.force_login(cast["unit_admin"])
    client.post(reverse("credits:correction_new", args=[record.pk]), {"kind": "cancel", "reason": "该学员未参加"})
    correction = CorrectionRequest.objects.get()
    assert correction.requested_by == cast["unit_admin"]
    act(client, cast["province_admin"], reverse("credits:correction_action", args=[correction.pk]), "reject", "")
    correction.refresh_from_db()
    assert correction.state == CorrectionState.SUBMITTED  # refusing needs a reason
    act(client, cast["province_admin"], reverse("credits:correction_action", args=[correction.pk]), "reject", "证据不足")
    correction.refresh_from_db()
    assert correction.state == CorrectionState.REJECTED
    assert not hasattr(CreditRecord.objects.get(pk=record.pk), "reversed_by")
    client.force_login(cast["learner"])  # the learner it concerns can read it
    assert client.get(reverse("credits:correction_detail", args=[correction.pk])).status_code == 200
    client.force_login(cast["other_learner"])
    assert client.get(reverse("credits:correction_detail", args=[correction.pk])).status_code == 404


def test_the_learner_withdraws_an_open_correction(client, cast):
    record = approve_through_the_chain(cast, credit_entry(cast["learner"]))
    client.force_login(cast["learner"])
    client.post(reverse("credits:correction_new", args=[record.pk]), {"kind": "cancel", "reason": "申请错了"})
    correction = CorrectionRequest.objects.get()
    act(client, cast["learner"], reverse("credits:correction_action", args=[correction.pk]), "withdraw")
    correction.refresh_from_db()
    assert correction.state == CorrectionState.WITHDRAWN
    client.post(reverse("credits:correction_new", args=[record.pk]), {"kind": "cancel", "reason": "重新申请"})
    assert CorrectionRequest.objects.filter(state=CorrectionState.SUBMITTED).count() == 1


def test_nobody_reviews_their_own(client, cast, tree):
    """A province admin who also earns credits may not approve a correction of their own, nor a unit admin
    their own entry: it waits for a colleague."""
    from cme_portal.accounts.models import LearnerProfile

    admin = cast["province_admin"]
    LearnerProfile.objects.filter(user=admin).update(unit=tree["unit_a"])
    record = approve_through_the_chain(cast, credit_entry(cast["learner"]))
    CreditRecord.objects.filter(pk=record.pk).update(learner=admin)
    record.refresh_from_db()
    correction = services.request_correction(record, admin, kind="correct", credits=D("25"), reason="改成 25 分")
    with pytest.raises(DomainError) as refused:
        correction.workflow.review(correction, admin, "approve")
    assert refused.value.code == "forbidden"
    own = credit_entry(cast["unit_admin"], activity_number="2026-03-01-009（国）")
    with pytest.raises(DomainError):
        CREDIT_ENTRY_WORKFLOW.review(own, cast["unit_admin"], "unit_approve")
    colleague = staff("unit_admin", tree["unit_a"])
    CREDIT_ENTRY_WORKFLOW.review(own, colleague, "unit_approve")
    own.refresh_from_db()
    assert own.state == EntryState.UNIT_APPROVED


def test_the_learner_hears_of_a_correction_filed_for_them(cast, django_capture_on_commit_callbacks):
    from cme_portal.review.models import Notification

    record = approve_through_the_chain(cast, credit_entry(cast["learner"]))
    with django_capture_on_commit_callbacks(execute=True):
        correction = services.request_correction(record, cast["unit_admin"], kind="cancel", reason="未参加")
        correction.workflow.review(correction, cast["province_admin"], "approve")
    assert Notification.objects.filter(user=cast["learner"], message__contains="同意更正").exists()


def test_a_cancelled_credit_frees_its_activity_everywhere(client, cast, tree):
    """After a cancellation the activity may be entered again, fed by a platform, or awarded again."""
    from credits.models import Platform, PlatformRecord
    from credits.platforms import import_platform_file

    entry = credit_entry(cast["learner"])
    record = approve_through_the_chain(cast, entry)
    correction = services.request_correction(record, cast["learner"], kind="cancel", reason="证书不是本人的")
    correction.workflow.review(correction, cast["province_admin"], "approve")
    entry.refresh_from_db()
    assert entry.state == EntryState.CANCELLED
    again = credit_entry(cast["learner"])  # the same activity, entered anew
    record2 = approve_through_the_chain(cast, again)
    assert record2.revision == 1
    correction = services.request_correction(record2, cast["learner"], kind="cancel", reason="又错了")
    correction.workflow.review(correction, cast["province_admin"], "approve")
    from .test_compliance import platform_file

    platform = Platform.objects.get(name__contains="华医网").name
    report = import_platform_file(
        platform_file(
            ("R1", cast["learner"].id_number, cast["learner"].name, "2026-03-01-001（国）", "课程", 2, 6, "I", "2026-06-01")
        ),
        platform,
        cast["province_admin"],
    )
    assert report.imported == 1 and PlatformRecord.objects.count() == 1
    assert CreditRecord.objects.get(platform_record__isnull=False).revision == 2


def test_a_correction_never_brings_back_a_revoked_certificate(cast, django_capture_on_commit_callbacks):
    from certificates import services as certificate_services

    session = approved_session(cast["organiser"], cast["unit_admin"], cast["province_admin"])
    [certificate] = certificates_for(session, [cast["learner"]])
    certificate_services.revoke(certificate, cast["province_admin"], "冒名顶替")
    with django_capture_on_commit_callbacks(execute=True):
        correction = services.request_correction(
            certificate.record, cast["learner"], kind="correct", credits=D("4"), reason="4 分"
        )
        correction.workflow.review(correction, cast["province_admin"], "approve")
    assert Certificate.objects.count() == 1
    certificate.refresh_from_db()
    assert certificate.status == "revoked" and certificate.revoke_reason == "冒名顶替"


def test_the_cancel_step_is_never_a_button(client, cast):
    entry = credit_entry(cast["learner"])
    approve_through_the_chain(cast, entry)
    client.force_login(cast["province_admin"])
    page = client.get(reverse("credits:entry_detail", args=[entry.pk]))
    assert all(t.action != "cancel" for t in page.context["actions"])
    act(client, cast["province_admin"], entry_action(entry), "cancel", "直接撤销")
    entry.refresh_from_db()
    assert entry.state == EntryState.APPROVED
