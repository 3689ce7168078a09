"""Telling people (W8): ``notify`` writes the inbox row and its outbox deliveries in the caller's
transaction; ``deliver`` sends one delivery; ``sweep`` re-sends what is still pending; ``send_digests``
sends each reviewer's held items as one message a day.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cme_portal.accounts.sms import get_backend
from cme_portal.review.models import Notification

from .kinds import DIGESTIBLE, Channel, Kind, channels
from .models import Delivery, DeliveryState, Preference
from .text import Text, render

log = logging.getLogger("cme.notifications")

MAX_ATTEMPTS = 8
SMS_PREFIX = "【继续医学教育】"


def preferences(user):
    """The person's choices (the defaults when they never chose)."""
    return Preference.objects.filter(user=user).first() or Preference(user=user)


def save_preferences(user, *, by_email, by_sms, daily_digest):
    """Keep the person's choices; applies to what is told from now on."""
    Preference.objects.update_or_create(
        user=user, defaults={"by_email": bool(by_email), "by_sms": bool(by_sms), "daily_digest": bool(daily_digest)}
    )


def _address(user, channel):
    return user.email if channel == Channel.EMAIL else user.mobile


def notify(user, kind, message, link="", *, event=None, key=""):
    """Tell ``user`` of an event of ``kind`` (any Kind value; unknown kinds are treated as Kind.OTHER).

    ``message`` is a ``Text`` (shown in the reader's language; e-mail and SMS in the language the person
    chose last, User.preferred_language) or, for callers that have only a finished string, that string.

    Writes the inbox row and one Delivery per channel the kind allows, the person chose and has an address
    for, all in the caller's transaction; the sending is queued after commit, so a rolled-back event tells
    nobody and a failing gateway never undoes the event. ``event`` (a ReviewEvent) or ``key`` (any string,
    e.g. "certificate:12") make it idempotent: telling twice returns None the second time.
    Returns the Notification, or None when it was already told.
    """
    kind = kind if kind in Kind.values else Kind.OTHER
    template, params = "", {}
    if isinstance(message, Text):
        template, params = message.msgid, message.stored_params()
        message = render(template, params, user.preferred_language)
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                user=user,
                kind=kind,
                message=str(message)[:300],
                template=template,
                params=params,
                link=link or "",
                event=event,
                key=(key or "")[:100],
            )
    except IntegrityError:
        return None
    deliveries = _deliveries(note, user, preferences(user))
    Delivery.objects.bulk_create(deliveries)
    _queue_pending(deliveries)
    return note


def notify_many(messages):
    """``notify`` for many people at once, each message with its ``key``: ``messages`` is a list of
    (user, kind, message, link, key). The same rows, in the caller's transaction, in a fixed number of
    queries (a batch of certificates tells its 10,000 learners). Messages told before are skipped; returns
    the new Notifications."""
    if not messages:
        return []
    messages = [
        (user, kind if kind in Kind.values else Kind.OTHER, message, link, key[:100])
        for user, kind, message, link, key in messages
    ]
    told = set(
        Notification.objects.filter(user__in={m[0].pk for m in messages}, key__in={m[4] for m in messages}).values_list(
            "user_id", "key"
        )
    )
    fresh = [m for m in messages if (m[0].pk, m[4]) not in told]
    if not fresh:
        return []
    notes = []
    for user, kind, message, link, key in fresh:
        template, params = "", {}
        if isinstance(message, Text):  # kept as msgid + parameters, shown in the reader's language (as notify)
            template, params = message.msgid, message.stored_params()
            message = render(template, params, user.preferred_language)
        notes.append(
            Notification(
                user=user, kind=kind, message=str(message)[:300], template=template, params=params, link=link or "", key=key
            )
        )
    try:
        with transaction.atomic():
            notes = Notification.objects.bulk_create(notes)
    except IntegrityError:  # one told meanwhile by someone else: one at a time, each once
        return [note for m in fresh if (note := notify(*m[:4], key=m[4])) is not None]
    prefs = {p.user_id: p for p in Preference.objects.filter(user__in={note.user_id for note in notes})}
    deliveries = [
        d for note in notes for d in _deliveries(note, note.user, prefs.get(note.user_id) or Preference(user=note.user))
    ]
    Delivery.objects.bulk_create(deliveries)
    _queue_pending(deliveries)
    return notes


def _deliveries(note, user, prefs):
    """The outbox rows of ``note``: one per channel its kind allows, the person chose and has an address for."""
    chosen = {Channel.EMAIL: prefs.by_email, Channel.SMS: prefs.by_sms}
    held = prefs.daily_digest and note.kind in DIGESTIBLE
    deliveries = []
    for channel in Channel.values:
        if not chosen[channel] or not _address(user, channel):
            continue
        if held:
            deliveries.append(Delivery(notification=note, channel=channel, state=DeliveryState.HELD))
        elif channel in channels(note.kind):
            # The task sent after commit goes first; the sweeper takes it a minute later if that task is lost.
            deliveries.append(Delivery(notification=note, channel=channel, next_attempt_at=timezone.now() + timedelta(minutes=1)))
    return deliveries


def _queue_pending(deliveries):
    for delivery in deliveries:
        if delivery.state == DeliveryState.PENDING:
            _queue_after_commit(delivery.pk)


def _queue_after_commit(delivery_id):
    from .tasks import send_delivery

    # robust: a broker that is down must not break the request that committed; the sweeper sends it later.
    transaction.on_commit(lambda: send_delivery.delay(delivery_id), robust=True)


def backoff(attempts):
    """Seconds to wait after the ``attempts``-th failure: 1, 2, 4 … minutes, at most six hours."""
    return min(60 * 2 ** max(attempts - 1, 0), 6 * 3600)


def _send(channel, user, message, subject=None):
    if channel == Channel.EMAIL:
        send_mail(subject or _("继续医学教育平台通知"), message, None, [user.email], fail_silently=False)
    else:
        get_backend().send(user.mobile, SMS_PREFIX + message)


def deliver(delivery_id):
    """Send one pending delivery once. Returns "sent", "retry", "failed" or "" (not pending, or being sent).

    A failure is recorded with the next attempt's time (exponential back-off); after MAX_ATTEMPTS it is
    marked failed. The row is locked while it is sent, so the task and the sweeper never send it twice.
    """
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .select_related("notification__user")
            .filter(pk=delivery_id, state=DeliveryState.PENDING)
            .first()
        )
        if delivery is None:
            return ""
        note, now = delivery.notification, timezone.now()
        delivery.attempts += 1
        try:
            message = note.message + (f" {_link(note.link)}" if note.link and delivery.channel == Channel.EMAIL else "")
            with translation.override(note.user.preferred_language):
                _send(delivery.channel, note.user, message)
        except Exception as error:  # a gateway's or mail server's failure, whatever its type
            delivery.last_error = f"{type(error).__name__}: {error}"[:200]
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.state = DeliveryState.FAILED
            else:
                delivery.next_attempt_at = now + timedelta(seconds=backoff(delivery.attempts))
            delivery.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
            log.warning(
                "delivery_failed",
                extra={
                    "delivery_id": delivery.pk,
                    "channel": delivery.channel,
                    "attempts": delivery.attempts,
                    "error": delivery.last_error,
                },
            )
            return "failed" if delivery.state == DeliveryState.FAILED else "retry"
        delivery.state, delivery.sent_at = DeliveryState.SENT, now
        delivery.save(update_fields=["attempts", "state", "sent_at"])
    log.info("delivery_sent", extra={"delivery_id": delivery.pk, "channel": delivery.channel, "user_id": note.user_id})
    return "sent"


def _link(path):

    return f"{settings.PORTAL_BASE_URL}{path}" if path.startswith("/") else path


def due(now=None, limit=500):
    """Ids of pending deliveries whose time has come (the oldest first)."""
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(state=DeliveryState.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def sweep(now=None):
    """Send every pending delivery that is due (a lost task, a broker that was down, a retry's time come).
    Returns {"sent": n, "retry": n, "failed": n}."""
    outcome = {"sent": 0, "retry": 0, "failed": 0}
    for delivery_id in due(now):
        result = deliver(delivery_id)
        if result:
            outcome[result] += 1
    return outcome


def send_digests():
    """One message per person and channel for the items held for their daily digest; returns messages sent."""
    held = (
        Delivery.objects.filter(state=DeliveryState.HELD)
        .select_related("notification__user")
        .order_by("notification__user_id", "channel", "notification__created_at")
    )
    groups = {}
    for delivery in held:
        groups.setdefault((delivery.notification.user, delivery.channel), []).append(delivery)
    sent = 0
    for (user, channel), deliveries in groups.items():
        with translation.override(user.preferred_language):  # in the language the person chose last
            if not _send_digest(user, channel, deliveries):
                continue  # held for tomorrow's digest
        Delivery.objects.filter(pk__in=[d.pk for d in deliveries], state=DeliveryState.HELD).update(
            state=DeliveryState.SENT, sent_at=timezone.now(), attempts=1
        )
        sent += 1
    return sent


def _send_digest(user, channel, deliveries):
    count = len(deliveries)
    head = ngettext("您有 %(count)d 项待审核事项。", "您有 %(count)d 项待审核事项。", count) % {"count": count}
    if channel == Channel.EMAIL:
        lines = [head] + [f"- {d.notification.text}" for d in deliveries[:50]]
        message = "\n".join(lines)
    else:
        message = head + _("请登录平台处理。")
    try:
        _send(channel, user, message, subject=_("继续医学教育平台：每日待审核汇总"))
    except Exception as error:
        log.warning("digest_failed", extra={"user_id": user.pk, "channel": channel, "error": str(error)[:200]})
        return False
    return True
