from datetime import timedelta
from functools import partial

from celery import shared_task
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from cme_portal.accounts.models import Role, RoleAssignment, User
from cme_portal.notifications.kinds import Kind
from cme_portal.notifications.services import notify
from cme_portal.notifications.text import Text

from .models import Roster, RosterState


@shared_task
def remind_roster_deadlines():
    """Daily (Celery beat): remind organisers and unit admins of rosters due within three days or overdue.

    One reminder a day per roster; returns how many rosters were reminded.
    """
    today = timezone.localdate()
    now = timezone.now()
    # Rosters are made when first opened; a session nobody opened since still owes one.
    from projects.models import Session, SessionState

    from .services import roster_for

    for session in Session.objects.filter(
        state=SessionState.APPROVED, end_date__lt=today, roster__isnull=True, attendances__isnull=False
    ).distinct():
        roster_for(session)
    due = (
        Roster.objects.filter(
            state__in=[RosterState.DRAFT, RosterState.SUBMITTED, RosterState.RETURNED],
            due_date__lte=today + timedelta(days=3),
            session__end_date__lte=today,
        )
        .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lt=now - timedelta(hours=20)))
        .select_related("session__project", "unit")
    )
    reminded = _remind(due, today, now)
    waiting = (
        Roster.objects.filter(state=RosterState.FORWARDED, province_due_date__lte=today + timedelta(days=3))
        .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lt=now - timedelta(hours=20)))
        .select_related("session__project", "unit")
    )
    return reminded + _remind(waiting, today, now)


def _remind(rosters, today, now):
    reminded = 0
    for roster in rosters:
        due = roster.current_due_date
        late = due < today
        if roster.state == RosterState.FORWARDED:
            msgid = (
                gettext_noop("学员名单“%(name)s”的省级审核已逾期（截止 %(date)s），请尽快审核。")
                if late
                else gettext_noop("学员名单“%(name)s”的省级审核将于 %(date)s 截止，请及时审核。")
            )
        else:
            msgid = (
                gettext_noop("学员名单“%(name)s”已逾期（截止 %(date)s），请尽快提交上报。")
                if late
                else gettext_noop("学员名单“%(name)s”将于 %(date)s 截止上报，请及时提交。")
            )
        # Shown in each reader's language (the roster's name has the language's brackets).
        message = Text(msgid, name=partial(str, roster), date=str(due))
        ancestor_ids = [int(p) for p in roster.unit.path.strip("/").split("/") if p]
        people = {roster.organiser_id} if roster.state in (RosterState.DRAFT, RosterState.RETURNED) else set()
        reviewer = {RosterState.SUBMITTED: Role.UNIT_ADMIN, RosterState.FORWARDED: Role.PROVINCE_ADMIN}.get(roster.state)
        if reviewer:
            people |= set(RoleAssignment.objects.filter(role=reviewer, org_id__in=ancestor_ids).values_list("user_id", flat=True))
        # Inbox, and by each person's choice SMS and e-mail (W8); once per roster, person and day.
        for user in User.objects.filter(pk__in=people):
            notify(user, Kind.DEADLINE, message, roster.get_absolute_url(), key=f"roster-due:{roster.pk}:{today}")
        Roster.objects.filter(pk=roster.pk).update(reminded_at=now)
        reminded += 1
    return reminded
