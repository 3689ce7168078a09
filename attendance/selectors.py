"""Reads of the attendance app: the door's session, rosters, scans and survey answers, in scope."""

import time

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import translation

from projects.models import Session, SessionState

from .models import DeniedScan, DeskScan, DeskStaff, Roster, SurveyResponse, SurveyTemplate

_SESSIONS = {}
SESSION_CACHE_SECONDS = 5


def door_session(pk):
    """The session a scanned code names, with its project and plan, kept five seconds per process.

    The door is public: what admits a person is the code (services.validate_scan),
    not a login. During an opening burst every scan asks for the same row; a
    change to the session (its approval, its plan) reaches the door within five seconds.
    """
    cached = _SESSIONS.get(pk)
    if cached and cached[1] > time.monotonic():
        return cached[0]
    session = get_object_or_404(Session.objects.select_related("project", "attendance_plan"), pk=pk)
    if len(_SESSIONS) > 256:
        _SESSIONS.clear()
    _SESSIONS[pk] = (session, time.monotonic() + SESSION_CACHE_SECONDS)
    return session


def forget_door_sessions():
    _SESSIONS.clear()
    _UNIT_CHOICES.clear()


_UNIT_CHOICES = {}
UNIT_CHOICES_SECONDS = 60


def door_unit_choices(field):
    """The choices of the first-timer's unit list (``field``, a UnitChoiceField), kept a minute per process and
    language: every first-timer at a door sees the list two or three times, and reading and labelling every unit
    of the province each time was a twentieth of the door's CPU (issue 12, item 4). A unit added reaches the door
    within the minute; the choice made is checked against the database as always (the field's own query)."""
    key = translation.get_language()
    cached = _UNIT_CHOICES.get(key)
    if cached and cached[1] > time.monotonic():
        return cached[0]
    choices = [
        (str(value), [(str(unit), str(name)) for unit, name in label]) if isinstance(label, list) else (str(value), str(label))
        for value, label in field.choices
    ]
    if len(_UNIT_CHOICES) > 16:
        _UNIT_CHOICES.clear()
    _UNIT_CHOICES[key] = (choices, time.monotonic() + UNIT_CHOICES_SECONDS)
    return choices


def rosters():
    return Roster.objects.select_related("session__project", "unit", "organiser")


def approved_sessions_of_project(user, project):
    """The approved sessions of ``project`` that ``user`` may see (organiser or reviewer in scope)."""
    return list(Session.objects.visible_to(user).filter(project=project, state=SessionState.APPROVED).select_related("unit"))


def denied_scans(session, limit=20):
    return DeniedScan.objects.filter(session=session)[:limit]


def survey_answers(sessions, template):
    """The answers given to ``template`` at check-out of ``sessions`` (a session or a list of them)."""
    sessions = sessions if isinstance(sessions, list) else [sessions]
    return list(
        SurveyResponse.objects.filter(attendance__session__in=sessions, template=template).values_list("answers", flat=True)
    )


def survey_templates():
    return SurveyTemplate.objects.order_by("-is_default", "name")


def desk_sessions(user):
    """Approved sessions whose desk ``user`` may staff: their own, and those they were named for."""
    return (
        Session.objects.filter(state=SessionState.APPROVED)
        .filter(Q(organiser_id=user.pk) | Q(desk_staff__user=user))
        .select_related("project", "attendance_plan")
        .distinct()
    )


def get_desk_session(user, pk):
    """The session ``pk`` if ``user`` may scan at its desk; else 404."""
    return get_object_or_404(desk_sessions(user), pk=pk)


def desk_staff(session):
    return DeskStaff.objects.filter(session=session).select_related("user").order_by("added_at")


def recent_desk_scans(session, staff, limit=20):
    return DeskScan.objects.filter(session=session, staff=staff).select_related("learner")[:limit]
