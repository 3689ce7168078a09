"""Notifications people receive (W8): the inbox always, SMS and e-mail by the person's choice, through an
outbox written with the event and sent after commit; failures retried with back-off, never blocking the
transition; a sweeper for what is still pending; a daily digest for reviewers."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from cme_portal.notifications import services, tasks
from cme_portal.notifications.kinds import Kind
from cme_portal.notifications.models import Delivery, DeliveryState, Preference
from cme_portal.review.models import Notification
from credits.models import CREDIT_ENTRY_WORKFLOW, EntryState

from .factories import credit_entry
from .test_rosters import held  # noqa: F401, F811  (a fixture: a session held, its roster due)

pytestmark = pytest.mark.django_db


class FailingBackend:
    """An SMS gateway that is down."""

    def send(self, mobile, message):
        raise ConnectionError("gateway unreachable")


@pytest.fixture
def learner(cast):
    person = cast["learner"]
    person.email = "liu@example.org"
    person.save()
    return person


def texts_to(outbox, person):
    return [message for to, message in outbox if to == person.mobile]


def test_a_return_reaches_the_inbox_sms_and_mail(cast, learner, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        entry = credit_entry(learner)
        CREDIT_ENTRY_WORKFLOW.review(entry, cast["unit_admin"], "unit_return", reason="证书不清晰")
    note = Notification.objects.get(user=learner, kind=Kind.RETURNED)
    assert "证书不清晰" in note.message
    assert [d.state for d in note.deliveries.order_by("channel")] == [DeliveryState.SENT, DeliveryState.SENT]
    assert any("证书不清晰" in m for m in texts_to(outbox, learner))
    assert [m.to for m in mail.outbox if "证书不清晰" in m.body] == [["liu@example.org"]]


def test_preferences_are_respected(cast, learner, outbox, django_capture_on_commit_callbacks):
    services.save_preferences(learner, by_email=True, by_sms=False, daily_digest=False)
    with django_capture_on_commit_callbacks(execute=True):
        entry = credit_entry(learner)
        CREDIT_ENTRY_WORKFLOW.review(entry, cast["unit_admin"], "unit_return", reason="缺少盖章")
    note = Notification.objects.get(user=learner, kind=Kind.RETURNED)
    assert list(note.deliveries.values_list("channel", flat=True)) == ["email"]
    assert texts_to(outbox, learner) == []
    assert len([m for m in mail.outbox if "缺少盖章" in m.body]) == 1


def test_steps_on_the_way_stay_in_the_inbox_and_a_decision_is_sent(cast, learner, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        entry = credit_entry(learner)
        CREDIT_ENTRY_WORKFLOW.review(entry, cast["unit_admin"], "unit_approve")
    step = Notification.objects.get(user=learner, event__action="unit_approve")
    assert step.kind == Kind.PROGRESS and not step.deliveries.exists()
    with django_capture_on_commit_callbacks(execute=True):
        CREDIT_ENTRY_WORKFLOW.review(entry, cast["city_admin"], "city_approve")
        CREDIT_ENTRY_WORKFLOW.review(entry, cast["province_admin"], "province_approve")
    decided = Notification.objects.get(user=learner, event__action="province_approve")
    assert decided.kind == Kind.DECIDED
    assert any("省级审核通过" in m for m in texts_to(outbox, learner))


def test_a_failed_send_is_retried_with_back_off_and_never_blocks_the_transition(
    cast, learner, settings, outbox, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "tests.test_notifications.FailingBackend"
    with django_capture_on_commit_callbacks(execute=True):
        entry = credit_entry(learner)
        CREDIT_ENTRY_WORKFLOW.review(entry, cast["unit_admin"], "unit_return", reason="请补充材料")
    entry.refresh_from_db()
    assert entry.state == EntryState.RETURNED  # the transition stands
    sms = Delivery.objects.get(notification__user=learner, channel="sms")
    assert (sms.state, sms.attempts) == (DeliveryState.PENDING, 1)
    assert "gateway unreachable" in sms.last_error
    assert timedelta(seconds=50) < sms.next_attempt_at - timezone.now() <= timedelta(seconds=60)
    assert services.sweep() == {"sent": 0, "retry": 0, "failed": 0}  # not due yet
    assert services.sweep(now=timezone.now() + timedelta(minutes=2)) == {"sent": 0, "retry": 1, "failed": 0}
    sms.refresh_from_db()
    assert sms.attempts == 2 and sms.next_attempt_at - timezone.now() > timedelta(seconds=110)  # doubled
    settings.SMS_BACKEND = "cme_portal.accounts.sms.LocmemBackend"
    assert services.sweep(now=timezone.now() + timedelta(minutes=5))["sent"] == 1
    sms.refresh_from_db()
    assert sms.state == DeliveryState.SENT and len(texts_to(outbox, learner)) == 1
    # Sent once: sweeping again sends nothing more.
    assert services.sweep(now=timezone.now() + timedelta(hours=1))["sent"] == 0


def test_a_delivery_gives_up_after_its_attempts(learner, settings):
    settings.SMS_BACKEND = "tests.test_notifications.FailingBackend"
    note = services.notify(learner, Kind.DEADLINE, "名单将于三天后截止")
    sms = note.deliveries.get(channel="sms")
    for _ in range(services.MAX_ATTEMPTS):
        Delivery.objects.filter(pk=sms.pk).update(next_attempt_at=timezone.now())
        services.sweep()
    sms.refresh_from_db()
    assert (sms.state, sms.attempts) == (DeliveryState.FAILED, services.MAX_ATTEMPTS)


def test_the_sweeper_sends_what_a_dead_broker_never_took(cast, learner, outbox, monkeypatch, django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise ConnectionError("redis unreachable")

    monkeypatch.setattr(tasks.send_delivery, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        entry = credit_entry(learner)
        CREDIT_ENTRY_WORKFLOW.review(entry, cast["unit_admin"], "unit_return", reason="日期有误")
    entry.refresh_from_db()
    assert entry.state == EntryState.RETURNED
    pending = Delivery.objects.filter(notification__user=learner, state=DeliveryState.PENDING)
    assert pending.count() == 2 and texts_to(outbox, learner) == []
    swept = tasks.sweep_deliveries(), tasks.sweep_deliveries.apply(kwargs={}).get()
    assert swept[0] == {"sent": 0, "retry": 0, "failed": 0}  # the task sent after commit goes first
    assert services.sweep(now=timezone.now() + timedelta(minutes=2))["sent"] == 2
    assert len(texts_to(outbox, learner)) == 1 and not pending.exists()


def test_a_rolled_back_transition_tells_nobody(cast, learner, outbox, monkeypatch, django_capture_on_commit_callbacks):
    from cme_portal.errors import DomainError

    entry = credit_entry(learner)
    before = Notification.objects.count(), Delivery.objects.count()

    def refuse(obj, event):
        raise DomainError("不行", code="no")

    transition = CREDIT_ENTRY_WORKFLOW.get("unit_return")
    monkeypatch.setattr(type(transition), "run_effect", lambda self, obj, event: refuse(obj, event))
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DomainError):
        CREDIT_ENTRY_WORKFLOW.review(entry, cast["unit_admin"], "unit_return", reason="理由")
    assert (Notification.objects.count(), Delivery.objects.count()) == before


def test_reviewers_who_choose_the_digest_get_one_message_a_day(cast, tree, django_capture_on_commit_callbacks):
    from .factories import learner as make_learner

    reviewer = cast["unit_admin"]
    reviewer.email = "li@example.org"
    reviewer.save()
    Preference.objects.create(user=reviewer, daily_digest=True)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            credit_entry(make_learner(unit=tree["unit_a"], name=f"学员{n}号"))
    waiting = Notification.objects.filter(user=reviewer, kind=Kind.REVIEW_WAITING)
    assert waiting.count() == 3
    assert [m for m in mail.outbox if "li@example.org" in m.to] == []  # nothing per item
    assert set(Delivery.objects.filter(notification__user=reviewer).values_list("state", flat=True)) == {DeliveryState.HELD}
    assert tasks.send_daily_digests() == 2  # one e-mail, one text
    [digest] = [m for m in mail.outbox if "li@example.org" in m.to]
    assert "3 项待审核" in digest.body and all(f"学员{n}号" in digest.body for n in range(3))
    assert services.send_digests() == 0  # sent once
    assert not Delivery.objects.filter(notification__user=reviewer, state=DeliveryState.HELD).exists()


def test_reviewers_without_the_digest_get_mail_per_item_and_no_text(cast, tree, outbox, django_capture_on_commit_callbacks):
    reviewer = cast["unit_admin"]
    reviewer.email = "li@example.org"
    reviewer.save()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        credit_entry(cast["learner"])
    assert len([m for m in mail.outbox if "li@example.org" in m.to]) == 1
    assert texts_to(outbox, reviewer) == []


def test_a_ready_certificate_is_told_once(cast, django_capture_on_commit_callbacks):
    from certificates import services as certificate_services

    from .factories import certificates_for, held_session

    session = held_session(cast["organiser"], cast["learner"].profile.unit, timezone.localdate() - timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):
        [certificate] = certificates_for(session, [cast["learner"]])
    notes = Notification.objects.filter(user=cast["learner"], kind=Kind.CERTIFICATE_READY)
    assert notes.count() == 1 and certificate.number in notes.get().message
    assert notes.get().link == reverse("certificates:mine")
    certificate.save()  # drawn again (a profile completed): nobody is told twice
    certificate_services.render_certificate(certificate.record_id)
    assert notes.count() == 1


def test_a_correction_decided_is_told_to_its_learner(cast, learner, django_capture_on_commit_callbacks):
    from credits import services as credit_services

    from .test_corrections import approve_through_the_chain

    with django_capture_on_commit_callbacks(execute=True):
        record = approve_through_the_chain(cast, credit_entry(learner))
        correction = credit_services.request_correction(record, cast["unit_admin"], kind="cancel", reason="重复录入")
        correction.workflow.review(correction, cast["province_admin"], "reject", reason="证据充分")
    note = Notification.objects.get(user=learner, event__action="reject")
    assert note.kind == Kind.CORRECTION_DECIDED
    assert note.deliveries.filter(state=DeliveryState.SENT).count() == 2


def test_any_event_kind_can_be_told_once(learner, outbox, django_capture_on_commit_callbacks):
    """The door's hand-over of an account (issue 11) calls notify with its own kind and key."""
    with django_capture_on_commit_callbacks(execute=True):
        first = services.notify(learner, "account_handed_over", "您在签到台开通的账号已移交给您本人。", key="handover:1")
        again = services.notify(learner, "account_handed_over", "您在签到台开通的账号已移交给您本人。", key="handover:1")
    assert first.kind == Kind.ACCOUNT_HANDED_OVER and again is None
    assert len(texts_to(outbox, learner)) == 1
    odd = services.notify(learner, "no_such_kind", "其他消息")
    assert odd.kind == Kind.OTHER


def test_roster_deadlines_are_sent_by_choice(cast, held, outbox, django_capture_on_commit_callbacks):  # noqa: F811
    """Two weeks to forward a roster: three days before, its organiser is told in the inbox and by SMS."""
    import time_machine

    from attendance.tasks import remind_roster_deadlines

    from .test_rosters import DAY1, at

    with time_machine.travel(at(DAY1 + timedelta(days=12), 9), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert remind_roster_deadlines() == 1
        assert remind_roster_deadlines() == 0  # once a day
    note = Notification.objects.get(user=cast["organiser"], kind=Kind.DEADLINE)
    assert "截止" in note.message
    assert any("截止" in m for m in texts_to(outbox, cast["organiser"]))


def test_the_profile_page_keeps_the_choices(client, learner):
    client.force_login(learner)
    page = client.get(reverse("accounts:profile"))
    assert "短信通知" in page.content.decode() and "每日汇总" not in page.content.decode()  # learners have no queue
    client.post(reverse("notifications:preferences"), {"by_email": "on"})
    prefs = Preference.objects.get(user=learner)
    assert (prefs.by_email, prefs.by_sms, prefs.daily_digest) == (True, False, False)
    assert client.get(reverse("notifications:preferences")).status_code == 405


def test_learners_are_told_three_days_before_the_entry_deadline(cast, learner, tree, outbox, django_capture_on_commit_callbacks):
    import time_machine

    from credits.models import EntryDeadline
    from credits.tasks import remind_entry_deadlines

    with django_capture_on_commit_callbacks(execute=True):
        entry = credit_entry(learner)
        CREDIT_ENTRY_WORKFLOW.review(entry, cast["unit_admin"], "unit_return", reason="补充材料")
    credit_entry(cast["other_learner"], activity_number="2026-03-01-009（国）")  # submitted: nothing to do
    deadline = EntryDeadline.objects.create(
        province=tree["province"], year=2026, deadline=timezone.localdate() + timedelta(days=5)
    )
    assert remind_entry_deadlines() == 0  # five days before: not yet
    with time_machine.travel(timezone.now() + timedelta(days=2)), django_capture_on_commit_callbacks(execute=True):
        assert remind_entry_deadlines() == 1
        assert remind_entry_deadlines() == 0  # once
    note = Notification.objects.get(user=learner, kind=Kind.DEADLINE)
    assert deadline.deadline.isoformat() in note.message
    assert any(deadline.deadline.isoformat() in m for m in texts_to(outbox, learner))
    assert not Notification.objects.filter(user=cast["other_learner"], kind=Kind.DEADLINE).exists()


def test_a_broker_that_is_down_loses_nothing(cast, learner, outbox, django_capture_on_commit_callbacks):
    """Celery really publishing, to a broker nobody listens on: the return stands, its deliveries wait in the
    outbox, and once the broker is back the sweeper sends each one once."""
    from cme_portal.celery import app

    conf = app.conf
    saved = conf.task_always_eager, conf.broker_url, conf.broker_transport_options
    # The real broker's pools stay as they are; the dead broker gets pools of its own, closed afterwards.
    saved_pools = app._pool, app.amqp._producer_pool
    app._pool = app.amqp._producer_pool = None
    conf.task_always_eager, conf.broker_url = False, "redis://127.0.0.1:1/0"
    conf.broker_transport_options = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}
    entry = credit_entry(learner)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            CREDIT_ENTRY_WORKFLOW.review(entry, cast["unit_admin"], "unit_return", reason="请重新上传")
    finally:
        conf.task_always_eager, conf.broker_url, conf.broker_transport_options = saved
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool, app.amqp._producer_pool = saved_pools
    entry.refresh_from_db()
    assert entry.state == EntryState.RETURNED
    waiting = Delivery.objects.filter(notification__user=learner, state=DeliveryState.PENDING, attempts=0)
    assert waiting.count() == 2 and texts_to(outbox, learner) == []
    assert services.sweep(now=timezone.now() + timedelta(minutes=2))["sent"] == 2
    assert len(texts_to(outbox, learner)) == 1 and len([m for m in mail.outbox if "请重新上传" in m.body]) == 1
    assert services.sweep(now=timezone.now() + timedelta(minutes=3))["sent"] == 0
