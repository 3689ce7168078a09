"""The phone pages behind the QR codes (anonymous, no JavaScript needed).

Every scan carries the door's device mark (attendance.device) and the client
address; the roster flags what they show (W9). Rate limits are keyed by the
device and the session, under a ceiling per address far above a hall's burst:
a venue's phones share one Wi-Fi address.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from cme_portal import ratelimit
from cme_portal.accounts.models import Role
from cme_portal.accounts.selectors import contact_for, unit_picked
from cme_portal.accounts.validators import mask_mobile, validate_document
from cme_portal.errors import DomainError
from cme_portal.ratelimit import client_ip

from . import device, selectors, services, tokens
from .forms import CheckOutIdentifyForm, DoorRegistrationForm, IdentifyForm, SurveyForm, drawn_fields

# Steps (identify, confirm, survey) per phone and session a minute: a person needs two or three.
DOOR_STEPS_PER_DEVICE_MINUTE = 30
# Per client address, whatever the device: far above a 3,000-person hall behind one address.
DOOR_STEPS_PER_ADDRESS_MINUTE = 12000
# New phones (marks handed out) per address a minute: a 3,000-person hall behind one Wi-Fi address scans in
# within a minute at the door's 150 learners a second (DESIGN.md §7), each phone new; a script that drops its
# cookie to get a fresh mark for every step meets this instead of the per-phone limit. (1,200 throttled the
# door bench's hall once the counters were shared by every web process, as they are in production.)
NEW_MARKS_PER_ADDRESS_MINUTE = 6000


# The door's blank first pages, drawn once (Door.render_blank); the slot its CSRF token goes in.
_BLANK_PAGES = {}
_TOKEN_SLOT = "door-csrf-token-slot-7f3a9c1e"


def forget_blank_pages():
    _BLANK_PAGES.clear()


class Door:
    """One request at the door: the session, the scan's mark, and how to answer."""

    def __init__(self, request, session, direction, mark, fresh_mark):
        self.request, self.session, self.direction, self.mark, self.fresh_mark = request, session, direction, mark, fresh_mark

    def render(self, template, status=200, **context):
        form = context.get("form")
        if "help_contact" not in context and ((form is not None and form.errors) or context.get("notice_level") == "danger"):
            # A step refused on its form (a document number that fails its check, a mobile already taken): who helps.
            context["help_contact"] = self.helper()
        if template == "register":
            context["fields"] = drawn_fields(form)
        # The door's pages need none of the portal's context processors (menus, roles, unread counts): a plain
        # context with the request and the CSRF token halves the rendering of each of the door's three steps.
        html = get_template(f"attendance/{template}.html").render(
            {
                "session": self.session,
                "direction": self.direction,
                "request": self.request,
                "csrf_token": get_token(self.request),
                **context,
            }
        )
        return self._answer(html, status)

    def render_blank(self, template, form):
        """A page that is the same for every phone but for its CSRF token (the door's empty first form, what
        every phone opens): drawn once per template, language, session and direction and kept while what it shows
        of the session stays the same; each phone's token is put in."""
        project = self.session.project
        key = (template, translation.get_language(), self.session.pk, self.direction, project.name, project.number,
               self.session.sequence)  # fmt: skip
        html = _BLANK_PAGES.get(key)
        if html is None:
            context = {"session": self.session, "direction": self.direction, "request": self.request, "form": form}
            html = get_template(f"attendance/{template}.html").render({**context, "csrf_token": _TOKEN_SLOT})
            if len(_BLANK_PAGES) > 256:
                _BLANK_PAGES.clear()
            _BLANK_PAGES[key] = html
        return self._answer(html.replace(_TOKEN_SLOT, get_token(self.request)), 200)

    def _answer(self, html, status):
        response = HttpResponse(html, status=status)
        if self.fresh_mark:
            device.remember(response, self.fresh_mark)
        return response

    def refuse(self, error, status=403, *, learner=None):
        """The refusal page, with the contact of the unit that can help: ``learner``'s (or the signed-in
        learner's) own unit, else the session's organising unit, else the province."""
        contact = self.helper(learner) if status != 429 else None
        return self.render("denied", status=status, error=error, help_contact=contact)

    def helper(self, learner=None):
        """The node whose contact a refused page shows: the learner's own unit (the one named, the one signed in
        on this phone, or the unit picked on the first-timer's form), else the session's unit, else the province."""
        if learner is None and self.request.user.is_authenticated:
            learner = self.request.user
        picked = unit_picked(self.request.POST.get("unit")) if learner is None and self.request.method == "POST" else None
        return contact_for(learner=learner, unit=picked, session=self.session)

    def throttled(self):
        """Count one step; True when this phone (or, without a mark, this address) went too fast."""
        ip = self.mark.ip or "-"
        key = f"{self.session.pk}:{self.mark.device}" if self.mark.device else f"{self.session.pk}:ip:{ip}"
        limits = [("door-device", key, DOOR_STEPS_PER_DEVICE_MINUTE), ("door-address", ip, DOOR_STEPS_PER_ADDRESS_MINUTE)]
        return not ratelimit.hit_all(limits, period=60)  # one round trip to Redis for both

    def too_fast(self):
        return self.refuse(DomainError(_("操作过于频繁，请稍后再试。")), status=429)


@never_cache
def door(request, session_pk, direction, token):
    """Where a scanned code lands: check-in or check-out, step by step, each step a plain form."""
    if direction not in tokens.DIRECTIONS:
        raise Http404
    session = selectors.door_session(session_pk)
    now = timezone.now()
    mark_value = device.read(request)
    fresh = "" if mark_value else device.new_mark()
    ip = client_ip(request)
    if fresh and not ratelimit.hit("door-new-mark", ip, limit=NEW_MARKS_PER_ADDRESS_MINUTE, period=60):
        return Door(request, session, direction, services.Mark(ip=ip), "").too_fast()
    try:
        plan, day, via = services.validate_scan(session, direction, token, now, ip, mark_value)
    except DomainError as error:
        return Door(request, session, direction, services.Mark(device=mark_value, ip=ip), fresh).refuse(error)
    # A POST without the mark the door page set is a phone that refuses cookies: it scans with no mark.
    at_door = Door(request, session, direction, services.Mark(device=mark_value, ip=ip, via=via), fresh)
    flow = _check_in if direction == tokens.CHECK_IN else _check_out
    return flow(at_door, plan, day, now)


def _signed_in_learner(request):
    """The learner signed in on this phone, unless someone tapped "不是我" on it."""
    user = request.user
    if not (user.is_authenticated and user.has_role(Role.LEARNER)):
        return None
    if request.GET.get("not_me"):
        request.session["door_not_me"] = user.pk
    elif request.GET.get("me"):
        request.session.pop("door_not_me", None)
    return None if request.session.get("door_not_me") == user.pk else user


def _identify_page(at_door, form):
    user = at_door.request.user
    # Someone tapped "不是我" on a phone signed in as another learner: offer the way back.
    forgotten = user if user.is_authenticated and at_door.request.session.get("door_not_me") == user.pk else None
    if forgotten is None and not form.is_bound:
        return at_door.render_blank("identify", form)  # the page every phone opens: drawn once (issue 12, item 4)
    return at_door.render("identify", form=form, forgotten=forgotten)


def _check_in(at_door, plan, day, now):
    request, session = at_door.request, at_door.session
    step = request.POST.get("step", "")
    if request.method == "GET":
        learner = _signed_in_learner(request)
        if learner:
            return at_door.render("confirm", person=services.masked(learner), identifier=learner.id_number, signed_in=True)
        return _identify_page(at_door, IdentifyForm())

    if step == "identify":
        form = IdentifyForm(request.POST)
        if not form.is_valid():
            return _identify_page(at_door, form)
        if at_door.throttled():
            return at_door.too_fast()
        identifier = form.cleaned_data["identifier"].strip().upper()
        learner = services.find_learner(identifier)
        if learner:
            # The hidden field carries what the person typed, never a number they did not type.
            return at_door.render("confirm", person=services.masked(learner), identifier=identifier)
        try:
            validate_document("resident_id", identifier)
        except Exception as error:
            if identifier[:1].isdigit() and len(identifier) == 18:
                form.add_error("identifier", error)
                return _identify_page(at_door, form)
        return at_door.render("register", form=DoorRegistrationForm(initial={"id_number": identifier}))

    if step == "register" and request.POST.get("send_code"):
        return _send_door_code(at_door)

    if step == "register":
        form = DoorRegistrationForm(request.POST)
        if form.is_valid():
            if at_door.throttled():
                return at_door.too_fast()
            try:
                learner = services.register_at_door(**form.cleaned_data)
            except DomainError as error:
                form.add_error(error.field, error.message)
            else:
                try:
                    services.refuse_second_person(session, plan, learner, "in", at_door.mark)
                except DomainError as error:
                    return at_door.refuse(error, status=409, learner=learner)
                attendance, created = services.check_in(session, learner, now, day, at_door.mark)
                return at_door.render("done", attendance=attendance, created=created, registered=True)
        return at_door.render("register", form=form)

    # step == "confirm": the one-tap check-in (also what the load benchmark posts).
    if at_door.throttled():
        return at_door.too_fast()
    identifier = request.POST.get("identifier", "").strip().upper()[:32].replace("\x00", "")
    # Under 一机一人 a phone without its mark takes the slow path, which refuses it.
    if at_door.mark.device or not plan.one_device_one_person:
        attendance = services.check_in_by_document(
            session, identifier, now, day, at_door.mark, one_device_one_person=plan.one_device_one_person
        )
        if attendance is not None:
            return at_door.render("done", attendance=attendance, created=True)
    learner = services.find_learner(identifier)
    if learner is None:
        return _identify_page(at_door, IdentifyForm())
    try:
        services.refuse_second_person(session, plan, learner, "in", at_door.mark)
    except DomainError as error:
        return at_door.refuse(error, status=409, learner=learner)
    attendance, created = services.check_in(session, learner, now, day, at_door.mark)
    return at_door.render("done", attendance=attendance, created=created)


def _send_door_code(at_door):
    """ "获取验证码" on the first-timer's form: the form comes back as typed, with the outcome above it."""
    request = at_door.request
    form = DoorRegistrationForm(initial=request.POST.dict())
    mobile_field = DoorRegistrationForm.base_fields["mobile"]
    notice, level = "", "danger"
    try:
        mobile = mobile_field.clean(request.POST.get("mobile", ""))
        code = services.send_door_code(
            id_number=request.POST.get("id_number", "").strip().upper(),
            mobile=mobile,
            device=at_door.mark.device,
            client_ip=at_door.mark.ip,
        )
    except DomainError as error:
        notice = error.message
    except ValidationError as error:
        notice = " ".join(error.messages)
    else:
        notice, level = _("验证码已发送至 %(mobile)s，请填写短信中的 6 位验证码。") % {"mobile": mask_mobile(mobile)}, "success"
        if settings.SMS_SHOW_CODE_IN_PAGE:
            notice += " " + _("开发模式：验证码为 %(code)s（生产环境不会显示）。") % {"code": code}
    return at_door.render("register", form=form, notice=notice, notice_level=level)


def _check_out(at_door, plan, day, now):
    request, session = at_door.request, at_door.session
    step = request.POST.get("step", "")
    learner = None
    if request.method == "GET":
        learner = _signed_in_learner(request)
        if learner is None:
            return _identify_page(at_door, CheckOutIdentifyForm())
        typed = learner.id_number  # the signed-in owner's own number
    else:
        if at_door.throttled():
            return at_door.too_fast()
        if step == "identify":
            form = CheckOutIdentifyForm(request.POST)
            if not form.is_valid():
                return _identify_page(at_door, form)
            typed = form.cleaned_data["identifier"].strip()
            learner = services.find_learner(typed)
            if learner is None:
                form.add_error("identifier", _("没有找到该手机号或证件号的签到学员，请核对，或先扫描签到二维码签到。"))
                return _identify_page(at_door, form)
        else:
            typed = request.POST.get("identifier", "")
            learner = services.find_learner(typed)
            if learner is None:
                return _identify_page(at_door, CheckOutIdentifyForm())
        try:
            services.refuse_second_person(session, plan, learner, "out", at_door.mark)
        except DomainError as error:
            return at_door.refuse(error, status=409, learner=learner)

    template = services.survey_for(session)
    person = services.masked(learner)
    if step == "survey":
        form = SurveyForm(request.POST, template=template)
        try:
            attendance, done_now = services.check_out(session, learner, now, day, form.answers(), plan, at_door.mark)
        except DomainError as error:
            if error.code == "no_check_in":
                return at_door.refuse(error, status=409, learner=learner)
            form.add_error(None, error.message)
            return at_door.render("survey", form=form, person=person, identifier=typed)
        return at_door.render("done", attendance=attendance, created=done_now)

    try:
        attendance = services.attendance_to_close(session, learner, day)
    except DomainError as error:
        return at_door.refuse(error, status=409, learner=learner)
    if attendance.checked_out_at:
        return at_door.render("done", attendance=attendance, created=False)
    return at_door.render(
        "survey", form=SurveyForm(template=template), person=person, identifier=typed, signed_in=request.method == "GET"
    )
