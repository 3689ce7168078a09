"""The phone pages behind the QR codes (anonymous, no JavaScript needed) and the organiser's code pages."""

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from cme_portal import ratelimit
from cme_portal.accounts.models import Role
from cme_portal.accounts.validators import validate_document
from cme_portal.errors import DomainError
from cme_portal.ratelimit import client_ip

from . import selectors, services, tokens
from .forms import CheckOutIdentifyForm, DoorRegistrationForm, IdentifyForm, SurveyForm


def _door(request, template, session, direction, status=200, **context):
    return render(request, f"attendance/{template}.html", {"session": session, "direction": direction, **context}, status=status)


# Look-ups by document or mobile number, per client address. Generous: a venue's phones
# may share one address; the codes themselves already keep strangers out.
DOOR_LOOKUPS_PER_MINUTE = 300


@never_cache
def door(request, session_pk, direction, token):
    """Where a scanned code lands: check-in or check-out, step by step, each step a plain form."""
    if direction not in tokens.DIRECTIONS:
        raise Http404
    session = selectors.door_session(session_pk)
    now = timezone.now()
    try:
        plan, day = services.validate_scan(session, direction, token, now, client_ip(request))
    except DomainError as error:
        return _door(request, "denied", session, direction, error=error, status=403)
    flow = _check_in if direction == tokens.CHECK_IN else _check_out
    return flow(request, session, plan, day, now)


def _signed_in_learner(request):
    user = request.user
    return user if user.is_authenticated and user.has_role(Role.LEARNER) else None


def _check_in(request, session, plan, day, now):
    step = request.POST.get("step", "")
    if request.method == "GET":
        learner = _signed_in_learner(request)
        if learner:
            return _door(request, "confirm", session, "in", person=services.masked(learner), identifier=learner.id_number)
        return _door(request, "identify", session, "in", form=IdentifyForm())

    if step == "identify":
        form = IdentifyForm(request.POST)
        if not form.is_valid():
            return _door(request, "identify", session, "in", form=form)
        if not ratelimit.hit("door-lookup", client_ip(request), limit=DOOR_LOOKUPS_PER_MINUTE, period=60):
            return _door(request, "denied", session, "in", error=DomainError(_("操作过于频繁，请稍后再试。")), status=429)
        identifier = form.cleaned_data["identifier"].strip().upper()
        learner = services.find_learner(identifier)
        if learner:
            # The hidden field carries what the person typed, never a number they did not type.
            return _door(request, "confirm", session, "in", person=services.masked(learner), identifier=identifier)
        try:
            validate_document("resident_id", identifier)
        except Exception as error:
            if identifier[:1].isdigit() and len(identifier) == 18:
                form.add_error("identifier", error)
                return _door(request, "identify", session, "in", form=form)
        return _door(request, "register", session, "in", form=DoorRegistrationForm(initial={"id_number": identifier}))

    if step == "register":
        form = DoorRegistrationForm(request.POST)
        if form.is_valid():
            try:
                learner = services.register_at_door(**form.cleaned_data)
            except DomainError as error:
                form.add_error(error.field, error.message)
            else:
                attendance, created = services.check_in(session, learner, now, day)
                return _door(request, "done", session, "in", attendance=attendance, created=created, registered=True)
        return _door(request, "register", session, "in", form=form)

    # step == "confirm": the one-tap check-in (also what the load benchmark posts).
    identifier = request.POST.get("identifier", "").strip().upper()
    attendance = services.check_in_by_document(session, identifier, now, day)
    if attendance is not None:
        return _door(request, "done", session, "in", attendance=attendance, created=True)
    learner = services.find_learner(identifier)
    if learner is None:
        return _door(request, "identify", session, "in", form=IdentifyForm())
    attendance, created = services.check_in(session, learner, now, day)
    return _door(request, "done", session, "in", attendance=attendance, created=created)


def _check_out(request, session, plan, day, now):
    step = request.POST.get("step", "")
    learner = None
    if request.method == "GET":
        learner = _signed_in_learner(request)
        if learner is None:
            return _door(request, "identify", session, "out", form=CheckOutIdentifyForm())
    elif step == "identify":
        form = CheckOutIdentifyForm(request.POST)
        if not form.is_valid():
            return _door(request, "identify", session, "out", form=form)
        if not ratelimit.hit("door-lookup", client_ip(request), limit=DOOR_LOOKUPS_PER_MINUTE, period=60):
            return _door(request, "denied", session, "out", error=DomainError(_("操作过于频繁，请稍后再试。")), status=429)
        typed = form.cleaned_data["identifier"].strip()
        learner = services.find_learner(typed)
        if learner is None:
            form.add_error("identifier", _("没有找到该手机号或证件号的签到学员，请核对，或先扫描签到二维码签到。"))
            return _door(request, "identify", session, "out", form=form)
    else:
        typed = request.POST.get("identifier", "")
        learner = services.find_learner(typed)
        if learner is None:
            return _door(request, "identify", session, "out", form=CheckOutIdentifyForm())
    if request.method == "GET":
        typed = learner.id_number  # the signed-in owner's own number

    template = services.survey_for(session)
    if step == "survey":
        form = SurveyForm(request.POST, template=template)
        try:
            attendance, done_now = services.check_out(session, learner, now, day, form.answers(), plan)
        except DomainError as error:
            if error.code == "no_check_in":
                return _door(request, "denied", session, "out", error=error, status=409)
            form.add_error(None, error.message)
            return _door(request, "survey", session, "out", form=form, person=services.masked(learner), identifier=typed)
        return _door(request, "done", session, "out", attendance=attendance, created=done_now)

    try:
        attendance = services.attendance_to_close(session, learner, day)
    except DomainError as error:
        return _door(request, "denied", session, "out", error=error, status=409)
    if attendance.checked_out_at:
        return _door(request, "done", session, "out", attendance=attendance, created=False)
    return _door(
        request, "survey", session, "out", form=SurveyForm(template=template), person=services.masked(learner), identifier=typed
    )
