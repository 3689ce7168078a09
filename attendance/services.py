"""Check-in and check-out (W3), hours, the survey, and rosters with the award (W4).

Like pretix's perform_checkin: every scan goes through `validate_scan`, and a
refusal raises DomainError whose code is recorded as a DeniedScan.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from cme_portal import punctuation, ratelimit
from cme_portal.accounts import services as account_services
from cme_portal.accounts.models import LearnerProfile, Organisation, Role, RoleAssignment, SmsPurpose, User
from cme_portal.accounts.validators import mask_id_number, mask_mobile, mask_name, normalise_mobile
from cme_portal.errors import DomainError
from cme_portal.review.workflow import perform
from credits import services as credit_services
from projects.models import SessionState

from . import tokens
from .models import (
    ROSTER_WORKFLOW,
    Attendance,
    AttendancePlan,
    DeniedScan,
    DeskScan,
    DeskStaff,
    PairMode,
    ProjectSurvey,
    Roster,
    RosterSelection,
    RosterState,
    SurveyResponse,
    SurveyTemplate,
    Via,
)

log = logging.getLogger("cme.attendance")

# The portal's own questions: stored as their Chinese msgids, shown in the reader's language (issue 13).
DEFAULT_SURVEY = [
    {
        "key": "q1",
        "text": gettext_noop("认为本项目讲授主要内容是本学科最新发展、最新成果或亟待解决的问题"),
        "options": [gettext_noop("是"), gettext_noop("基本是"), gettext_noop("否")],
        "choose": 1,
    },
    {
        "key": "q2",
        "text": gettext_noop("对本项目基本内容以前了解情况为"),
        "options": [gettext_noop("全知道"), gettext_noop("部分知道"), gettext_noop("不知道")],
        "choose": 1,
    },
    {
        "key": "q3",
        "text": gettext_noop("通过本项目学习认为收获"),
        "options": [gettext_noop("很大"), gettext_noop("较大"), gettext_noop("一般"), gettext_noop("较小")],
        "choose": 1,
    },
    {
        "key": "q4",
        "text": gettext_noop("对授课教师教学水平的评价"),
        "options": [gettext_noop("很好"), gettext_noop("较好"), gettext_noop("一般"), gettext_noop("较差")],
        "choose": 1,
    },
    {
        "key": "q5",
        "text": gettext_noop("对本项目组织安排的评价"),
        "options": [gettext_noop("满意"), gettext_noop("基本满意"), gettext_noop("不满意")],
        "choose": 1,
    },
    {
        "key": "q6",
        "text": gettext_noop("对本项目的总体满意度"),
        "options": [gettext_noop("满意"), gettext_noop("一般"), gettext_noop("不满意")],
        "choose": 1,
    },
    {
        "key": "q7",
        "text": gettext_noop("通过本项目学习，感到收获最大的是（选两项）"),
        "options": [
            gettext_noop("开阔思路"),
            gettext_noop("提高临床诊治能力"),
            gettext_noop("提高理论水平"),
            gettext_noop("提高科研工作能力"),
            gettext_noop("提高操作能力"),
        ],
        "choose": 2,
    },
]

DEFAULT_SURVEY_NAME = gettext_noop("默认问卷（江苏省继教系统）")


# --- plans and windows -----------------------------------------------------------


def plan_for(session):
    """The session's plan (loaded with it by select_related("attendance_plan") where it matters)."""
    try:
        return session.attendance_plan
    except AttendancePlan.DoesNotExist:
        plan, _created = AttendancePlan.objects.get_or_create(session=session)
        return plan


def scan_day(plan, moment):
    """The day a scan at ``moment`` counts for: today in daily mode, the session in session mode."""
    if plan.mode == PairMode.DAILY:
        return timezone.localtime(moment).date()
    return plan.session.start_date


def open_window(plan, direction, day):
    """(opens, closes) of ``direction`` for ``day``; in session mode the whole span of the session."""
    first_day = day if plan.mode == PairMode.DAILY else plan.session.start_date
    last_day = day if plan.mode == PairMode.DAILY else plan.session.end_date
    start, _ = plan.day_bounds(first_day)
    last_start, end = plan.day_bounds(last_day)
    if direction == tokens.CHECK_IN:
        return start - plan.open_before, end
    return last_start, end + plan.close_after


def token_day(plan, day):
    return day if plan.mode == PairMode.DAILY else None


def _day_of(plan):
    return lambda moment: token_day(plan, scan_day(plan, moment))


def current_code(plan, direction, moment=None):
    moment = moment or timezone.now()
    day = scan_day(plan, moment)
    return tokens.current_token(plan.session_id, direction, token_day(plan, day), plan.refresh_seconds, moment)


def code_for_day(plan, direction, day):
    """The code a poster printed in advance carries: valid all of ``day`` and only then."""
    return tokens.poster_token(plan.session_id, direction, day)


@dataclass(frozen=True)
class Mark:
    """Who and what made a scan: the door's device mark, the client address, which code, the desk staff."""

    device: str = ""
    ip: str | None = None
    via: str = Via.SCREEN
    by: object = None  # the desk staff's User for a desk scan


# A stranger can send forged codes all day: each address records at most this many refusals per session an hour.
DENIED_RECORDS_PER_ADDRESS_HOUR = 50


def _refuse(code, message, session=None, direction="", identifier="", client_ip=None, device=""):
    log.info(
        "scan_refused",
        extra={"session_id": getattr(session, "pk", None), "direction": direction, "code": code, "client_ip": client_ip},
    )
    bucket = f"{getattr(session, 'pk', '-')}:{client_ip or '-'}"
    if ratelimit.hit("denied-record", bucket, limit=DENIED_RECORDS_PER_ADDRESS_HOUR, period=3600):
        DeniedScan.objects.create(
            session=session,
            direction=direction,
            reason=code,
            identifier=mask_id_number(identifier) if identifier else "",
            client_ip=client_ip,
            device=device,
        )
    raise DomainError(message, code=code)


def validate_scan(session, direction, token, moment, client_ip=None, device=""):
    """Check a scanned code; return (plan, day, via), ``via`` saying whether it was the projector's code or a
    printed poster's. Refusals are recorded and raise DomainError: "not_approved", "forged", "expired" or
    "outside_window", each with what to do next."""
    if session.state != SessionState.APPROVED:
        _refuse(
            "not_approved",
            _("该项目尚未获准举办，不能签到。请与会务人员联系。"),
            session,
            direction,
            client_ip=client_ip,
            device=device,
        )
    plan = plan_for(session)
    day = scan_day(plan, moment)
    via = Via.SCREEN
    if not tokens.token_matches(token, session.pk, direction, _day_of(plan), plan.refresh_seconds, moment):
        via = Via.POSTER
    if (
        via == Via.POSTER
        and not tokens.poster_matches(token, session.pk, direction, timezone.localtime(moment).date())
        and not tokens.legacy_day_matches(token, session.pk, direction, _day_of(plan), moment)
    ):
        if _matches_an_older_window(plan, direction, token, moment):
            _refuse(
                "expired",
                _("二维码已过期。请扫描会场现场展示的最新二维码（投影页面会自动更新）。"),
                session,
                direction,
                client_ip=client_ip,
                device=device,
            )
        _refuse(
            "forged",
            _("二维码无效。请扫描会场张贴或投影的本项目二维码，不要使用转发的截图。"),
            session,
            direction,
            client_ip=client_ip,
            device=device,
        )
    opens, closes = open_window(plan, direction, day)
    if not (session.start_date <= timezone.localtime(moment).date() <= session.end_date) or not (opens <= moment <= closes):
        local = timezone.localtime
        label = _("签到") if direction == tokens.CHECK_IN else _("撤离")
        _refuse(
            "outside_window",
            _("现在不在%(what)s时间内：%(what)s时间为 %(opens)s 至 %(closes)s。")
            % {"what": label, "opens": local(opens).strftime("%m-%d %H:%M"), "closes": local(closes).strftime("%m-%d %H:%M")},
            session,
            direction,
            client_ip=client_ip,
            device=device,
        )
    return plan, day, via


OLDER_WINDOWS_SEARCHED = 2000


def _matches_an_older_window(plan, direction, token, moment):
    """Whether ``token`` was a real code of this session earlier (expired rather than forged).

    Bounded: the session's own span and at most OLDER_WINDOWS_SEARCHED windows
    back, so a flood of forged codes costs little.
    """
    token = (token or "").strip().lower()
    if not tokens.well_formed(token):
        return False
    if any(tokens.poster_matches(token, plan.session_id, direction, day) for day in plan.days()):
        return True
    start = datetime.combine(plan.session.start_date - timedelta(days=1), plan.day_start, tzinfo=timezone.get_current_timezone())
    first = tokens.window_index(start, plan.refresh_seconds)
    last = tokens.window_index(moment, plan.refresh_seconds) - 2
    day_of = _day_of(plan)
    for index in range(max(first, last - OLDER_WINDOWS_SEARCHED), last + 1):
        window = tokens.window_start(index, plan.refresh_seconds, moment)
        if tokens.make_token(plan.session_id, direction, day_of(window), index) == token:
            return True
    return False


# --- learners at the door ------------------------------------------------------------


def find_learner(identifier):
    """The account a typed document or mobile number names (with its profile and unit: the door shows them), or None.

    The same match as ``User.objects.find_by_identifier`` (the document number upper-cased, or the mobile), in
    one hand-written statement: every phone's identify step runs it, and the ORM's building of the three-table
    query was a quarter of that step's CPU (issue 12, item 4). Only what the door shows is read; every other
    field of the three objects is deferred (loaded on first use, as ``.only()`` would leave it)."""
    identifier = (identifier or "").strip()
    if not identifier or "\x00" in identifier or len(identifier) > 32:
        return None
    typed = normalise_mobile(identifier) if identifier[:1] in "+0" else identifier
    sql, parts = _person_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, [typed.upper(), typed])
        row = cursor.fetchone()
    if row is None:
        return None
    (user_model, user_names), (profile_model, profile_names), (unit_model, unit_names) = parts
    user = user_model.from_db(connection.alias, user_names, row[: len(user_names)])
    rest = row[len(user_names) :]
    if rest[0] is None:
        User.profile.related.set_cached_value(user, None)  # no profile: user.profile raises, without a query
        return user
    profile = profile_model.from_db(connection.alias, profile_names, rest[: len(profile_names)])
    unit_row = rest[len(profile_names) :]
    profile.unit = unit_model.from_db(connection.alias, unit_names, unit_row) if unit_row[0] is not None else None
    profile.user = user  # also user.profile
    return user


_PERSON_FIELDS = (
    (User, ("id", "id_number", "name", "mobile", "is_active")),
    (LearnerProfile, ("id", "user_id", "sex", "unit_id", "unit_name", "department", "unit_location", "grassroots", "title")),
    (Organisation, ("id", "name")),
)


@lru_cache(maxsize=1)
def _person_query():
    """find_learner's statement and, per model, the attribute names its columns fill (in the model's field order,
    as ``Model.from_db`` expects). Built once from the models' metadata."""
    q = connection.ops.quote_name
    columns, parts = [], []
    for alias, (model, wanted) in zip("upo", _PERSON_FIELDS):
        fields = [f for f in model._meta.concrete_fields if f.attname in wanted]
        columns += [f"{alias}.{q(f.column)}" for f in fields]
        parts.append((model, [f.attname for f in fields]))
    users, profiles, units = (q(model._meta.db_table) for model, _wanted in _PERSON_FIELDS)
    profile_user = q(LearnerProfile._meta.get_field("user").column)
    profile_unit = q(LearnerProfile._meta.get_field("unit").column)
    id_number, mobile = q(User._meta.get_field("id_number").column), q(User._meta.get_field("mobile").column)
    sql = (
        f"SELECT {', '.join(columns)} FROM {users} u LEFT JOIN {profiles} p ON p.{profile_user} = u.{q(User._meta.pk.column)} "
        f"LEFT JOIN {units} o ON o.{q(Organisation._meta.pk.column)} = p.{profile_unit} WHERE u.{id_number} = %s OR u.{mobile} = %s ORDER BY u.{q(User._meta.pk.column)} LIMIT 1"
    )
    return sql, parts


def masked(user):
    """What the door shows to confirm identity (seed 001's check-out page): name and mobile partly hidden,
    sex, unit, department, the unit's location, grassroots or not, title."""
    try:
        profile = user.profile  # loaded with the user by find_learner
    except LearnerProfile.DoesNotExist:
        profile = None
    grassroots = getattr(profile, "grassroots", None)
    return {
        "name": mask_name(user.name),
        "mobile": mask_mobile(user.mobile or ""),
        "id_number": mask_id_number(user.id_number),
        "sex": profile.get_sex_display() if profile and profile.sex else "",
        "unit": profile.unit_display if profile else "",
        "department": profile.department if profile else "",
        "unit_location": profile.unit_location if profile else "",
        "grassroots": "" if grassroots is None else (_("是") if grassroots else _("否")),
        "title": profile.get_title_display() if profile and profile.title else "",
    }


# First-timers at the door: SMS codes per device mark (a hall's phones share one address) under a ceiling per address.
DOOR_CODES_PER_DEVICE_HOUR = 3
DOOR_CODES_PER_ADDRESS_HOUR = 1000


def send_door_code(*, id_number, mobile, device, client_ip):
    """Send the SMS code a first-timer confirms the typed mobile with; return the code.

    The limits come first (per phone mark, which the door page set before this request, and a ceiling per
    address), so nobody learns whether a number is registered without spending them. Raises DomainError when
    a limit is reached, the number is already registered or the mobile belongs to another account.
    """
    if not device:
        raise DomainError(_("请重新扫描二维码打开签到页面（浏览器须允许保存 Cookie）。"), code="no_device", field="mobile")
    # Both counted in one round trip to Redis; the phone's limit is named first when both are reached.
    by_device, by_address = ratelimit.hits(
        [
            ("door-sms-device", device, DOOR_CODES_PER_DEVICE_HOUR),
            ("door-sms-address", client_ip or "-", DOOR_CODES_PER_ADDRESS_HOUR),
        ],
        period=3600,
    )
    if not by_device:
        raise DomainError(
            _("这部手机获取验证码的次数过多，请到签到台由工作人员为您签到。"), code="sms_device_limit", field="mobile"
        )
    if not by_address:
        raise DomainError(_("当前网络获取验证码过于频繁，请到签到台签到。"), code="sms_address_limit", field="mobile")
    _door_registration_conflict(id_number, mobile)
    # The address is kept with the code; the registration limit per address (twenty an hour) is not applied:
    # a hall's first-timers share one Wi-Fi address, and the limits above hold the door.
    return account_services.send_sms_code(mobile, SmsPurpose.DOOR, client_ip, per_address_limit=False)


def _door_registration_conflict(id_number, mobile):
    if User.objects.filter(id_number=id_number).exists():
        raise DomainError(_("该证件号已登记，请返回直接签到。"), code="known", field="id_number")
    if User.objects.filter(mobile=mobile).exists():
        raise DomainError(
            _("该手机号已绑定其他账号，请用该账号的证件号签到，或更换手机号。"), code="mobile_taken", field="mobile"
        )


def register_at_door(
    *,
    id_type,
    id_number,
    name,
    sex,
    age,
    mobile,
    unit,
    unit_name,
    department,
    unit_location,
    grassroots,
    title,
    position,
    education,
    sms_code,
    birth_date=None,
):
    """Seed 001's check-in form for a first-time learner: an account bound to the mobile just verified by SMS,
    which only that mobile can claim later (W9). Raises DomainError for a known number, a taken mobile or a
    wrong code."""
    _door_registration_conflict(id_number, mobile)
    account_services.verify_sms_code(mobile, SmsPurpose.DOOR, sms_code)
    with transaction.atomic():
        user = User(id_type=id_type, id_number=id_number, name=name, mobile=mobile, claimed=False)
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            raise DomainError(_("该证件号或手机号刚刚已登记，请返回直接签到。"), code="known", field="id_number") from None
        LearnerProfile.objects.create(
            user=user,
            sex=sex,
            birth_date=birth_date,
            declared_age=None if birth_date else age,
            declared_age_on=None if birth_date else timezone.localdate(),
            unit=unit,
            unit_name=unit_name if not unit else "",
            department=department,
            unit_location=unit_location,
            grassroots=grassroots,
            title=title,
            position=position,
            education=education,
        )
        RoleAssignment.objects.create(user=user, role=Role.LEARNER, org=unit)
    log.info("door_account_opened", extra={"user_id": user.pk})
    return user


def _device_taken(session, learner_id, device):
    """Whether ``device`` already checked in or out someone other than ``learner_id`` in ``session``."""
    return (
        Attendance.objects.filter(session=session)
        .filter(Q(in_device=device) | Q(out_device=device))
        .exclude(learner_id=learner_id)
        .exists()
    )


def refuse_second_person(session, plan, learner, direction, mark):
    """一机一人: when the organiser asks for it, a phone that scanned for one learner is refused for another
    (recorded). The desk is exempt: its staff scan many people by design."""
    if not plan.one_device_one_person or mark.via == Via.DESK:
        return
    if not mark.device:
        _refuse(
            "device_taken",
            _("本项目要求一机一人：请重新扫描二维码打开签到页面（浏览器须允许保存 Cookie），或到签到台签到。"),
            session,
            direction,
            learner.id_number,
            client_ip=mark.ip,
        )
    if _device_taken(session, learner.pk, mark.device):
        _refuse(
            "device_taken",
            _(
                "本项目要求一机一人：这部手机已为其他学员签到或撤离。请用您本人的手机扫码，"
                "或到签到台出示“我的签到码”（或证件）由工作人员为您签到。"
            ),
            session,
            direction,
            learner.id_number,
            client_ip=mark.ip,
            device=mark.device,
        )


def check_in(session, learner, moment, day, mark=Mark()):
    """Record the learner's arrival; return (attendance, created). A repeated scan changes nothing.

    One statement on the hot path of a conference's opening burst: the unique
    constraint decides, so two phones scanning at once still make one row.
    """
    meta = Attendance._meta
    values = [
        session.pk,
        learner.pk,
        meta.get_field("day").get_db_prep_value(day, connection),
        meta.get_field("checked_in_at").get_db_prep_value(moment, connection),
        mark.device,
        mark.ip,
        mark.via,
        getattr(mark.by, "pk", None),
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {meta.db_table} (session_id, learner_id, day, checked_in_at, hours, in_device, in_ip, in_via, in_by_id,"
            " out_device, out_via) VALUES (%s, %s, %s, %s, 0, %s, %s, %s, %s, '', '') "
            "ON CONFLICT (session_id, learner_id, day) DO NOTHING RETURNING id",
            values,
        )
        row = cursor.fetchone()
    if row:
        return Attendance(pk=row[0], session=session, learner=learner, day=day, checked_in_at=moment), True
    return Attendance.objects.get(session=session, learner=learner, day=day), False


def check_in_by_document(session, id_number, moment, day, mark=Mark(), one_device_one_person=False):
    """The burst's fast path: look the learner up and record the arrival in one statement.

    Returns the new Attendance, or None when nothing was inserted (an unknown
    document number, a repeated scan, or a phone already used for someone else
    under 一机一人): the caller then takes the slow path, which says which.
    """
    meta = Attendance._meta
    table, users = meta.db_table, User._meta.db_table
    values = [
        session.pk,
        meta.get_field("day").get_db_prep_value(day, connection),
        meta.get_field("checked_in_at").get_db_prep_value(moment, connection),
        mark.device,
        mark.ip,
        mark.via,
        id_number,
    ]
    guard = ""
    if one_device_one_person:
        guard = (
            f" AND NOT EXISTS (SELECT 1 FROM {table} a WHERE a.session_id = %s AND a.learner_id <> u.id"
            " AND (a.in_device = %s OR a.out_device = %s))"
        )
        values += [session.pk, mark.device, mark.device]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (session_id, learner_id, day, checked_in_at, hours, in_device, in_ip, in_via, out_device, out_via) "
            f"SELECT %s, u.id, %s, %s, 0, %s, %s, %s, '', '' FROM {users} u WHERE u.id_number = %s{guard} "
            "ON CONFLICT (session_id, learner_id, day) DO NOTHING RETURNING id, learner_id",
            values,
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return Attendance(pk=row[0], session=session, learner_id=row[1], day=day, checked_in_at=moment)


def chosen_survey(project):
    choice = ProjectSurvey.objects.filter(project=project).select_related("template").first()
    return choice.template if choice else None


def choose_survey(project, template):
    """The organiser picks the project's check-out survey; None goes back to the province's default."""
    if template:
        ProjectSurvey.objects.update_or_create(project=project, defaults={"template": template})
    else:
        ProjectSurvey.objects.filter(project=project).delete()


@transaction.atomic
def save_survey_template(form):
    """Save the province's survey template; a new default takes the place of the old one."""
    if form.cleaned_data["is_default"]:
        SurveyTemplate.objects.exclude(pk=form.instance.pk).update(is_default=False)
    return form.save()


def survey_for(session):
    choice = ProjectSurvey.objects.filter(project_id=session.project_id).select_related("template").first()
    return choice.template if choice else default_survey()


def default_survey():
    template = SurveyTemplate.objects.filter(is_default=True).first()
    if template is None:
        try:
            with transaction.atomic():
                template = SurveyTemplate.objects.create(name=DEFAULT_SURVEY_NAME, questions=DEFAULT_SURVEY, is_default=True)
        except IntegrityError:  # created meanwhile by another first check-out
            template = SurveyTemplate.objects.get(is_default=True)
    return template


def check_answers(template, answers):
    """Every question answered, with exactly as many options as it asks for; return the clean answers."""
    clean, problems = {}, []
    for question in template.questions:
        value = answers.get(question["key"], [])
        given = [a for a in ([value] if isinstance(value, str) else value) if a in question["options"]]
        want = int(question.get("choose", 1))
        if len(given) != want:
            problems.append(_("第 %(n)s 题请选择 %(want)s 项") % {"n": template.questions.index(question) + 1, "want": want})
        clean[question["key"]] = given
    if problems:
        raise DomainError(_("请完成问卷：%(problems)s。") % {"problems": _("；").join(problems)}, code="survey")
    return clean


def attended_hours(plan, checked_in, checked_out):
    """Hours between the two scans that fall inside the schedule, day by day."""
    total = timedelta()
    for day in plan.days():
        start, end = plan.day_bounds(day)
        overlap = min(end, checked_out) - max(start, checked_in)
        if overlap > timedelta():
            total += overlap
    # Half up, day by day: 8 h 15 min is 8.3, so a day's grace of fifteen minutes is never lost to rounding.
    return (Decimal(int(total.total_seconds())) / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def attendance_to_close(session, learner, day):
    """The check-in a check-out closes; raises DomainError "no_check_in" (recorded) when there is none."""
    attendance = Attendance.objects.filter(session=session, learner=learner, day=day).first()
    if attendance is None:
        _refuse(
            "no_check_in",
            _("没有找到您今天的签到记录，不能撤离。签到、撤离须各扫一次：请先扫描签到二维码。"),
            session,
            tokens.CHECK_OUT,
            learner.id_number,
        )
    return attendance


def check_out(session, learner, moment, day, answers, plan, mark=Mark()):
    """Record the departure with the survey; return (attendance, done_now).

    Raises DomainError "no_check_in" (recorded as a denied scan) when there was
    no check-in, and "survey" when the answers break the survey's rules. At the
    desk (``mark.via == "desk"``) the learner has no phone to answer on: the
    departure is recorded without a survey.
    """
    attendance = attendance_to_close(session, learner, day)
    if attendance.checked_out_at:
        return attendance, False
    template = survey_for(session)
    clean = None if mark.via == Via.DESK else check_answers(template, answers)
    with transaction.atomic():
        attendance = Attendance.objects.select_for_update().get(pk=attendance.pk)
        if attendance.checked_out_at:
            return attendance, False
        # A scan queued offline at the desk may arrive after a later one: never before the check-in.
        attendance.checked_out_at = max(moment, attendance.checked_in_at)
        attendance.hours = attended_hours(plan, attendance.checked_in_at, attendance.checked_out_at)
        attendance.out_device, attendance.out_ip, attendance.out_via = mark.device, mark.ip, mark.via
        attendance.out_by = mark.by if mark.via == Via.DESK else None
        attendance.save(update_fields=["checked_out_at", "hours", "out_device", "out_ip", "out_via", "out_by"])
        if clean is not None:
            SurveyResponse.objects.create(attendance=attendance, template=template, answers=clean)
    return attendance, True


# --- the desk (签到台): people without a phone ---------------------------------------------


def may_staff_desk(user, session):
    """The session's organiser and the desk staff they named may scan at its desk."""
    return session.organiser_id == user.pk or DeskStaff.objects.filter(session=session, user=user).exists()


def add_desk_staff(session, organiser, identifier):
    """The organiser names a registered person (by mobile or document number) as desk staff; return the row."""
    person = find_learner(identifier)
    if person is None or not person.is_active:
        raise DomainError(
            _("没有找到该手机号或证件号的注册用户。工作人员须先注册本平台账号。"), code="unknown", field="identifier"
        )
    staff, created = DeskStaff.objects.get_or_create(session=session, user=person, defaults={"added_by": organiser})
    if not created:
        raise DomainError(_("%(name)s 已是本期签到台工作人员。") % {"name": person.name}, code="duplicate", field="identifier")
    log.info("desk_staff_added", extra={"session_id": session.pk, "user_id": person.pk, "actor_id": organiser.pk})
    return staff


def remove_desk_staff(session, organiser, staff_pk):
    deleted, _rows = DeskStaff.objects.filter(session=session, pk=staff_pk).delete()
    if deleted:
        log.info("desk_staff_removed", extra={"session_id": session.pk, "staff_id": staff_pk, "actor_id": organiser.pk})
    return bool(deleted)


# A desk's device may send a scan hours after it was made (the network was down); a time further off is the
# device's clock being wrong, and the time it reached us is used instead.
DESK_CLOCK_TRUST = timedelta(hours=24)


def learner_from_desk_input(text, moment):
    """The learner a personal code (我的签到码) or a typed document or mobile number names, or None."""
    text = (text or "").strip()
    if "\x00" in text:
        return None
    if text.startswith("CME1."):
        learner_id = tokens.read_personal_code(text, moment)
        return User.objects.filter(pk=learner_id, is_active=True).first() if learner_id else None
    return find_learner(text.upper())


def _same_desk(scan, session, staff):
    """A scan id is the desk's own: one reused by another desk or session is refused, not answered."""
    if (scan.session_id, scan.staff_id) != (session.pk, staff.pk):
        raise DomainError(_("请求有误：请刷新签到台页面后重试。"), code="scan_id_taken")
    return scan


def _desk_act(session, staff, direction, text, scanned_at, client_ip):
    """Find the learner and check them in or out; return (learner, attendance, outcome, message)."""
    learner = learner_from_desk_input(text, scanned_at)
    if learner is None:
        message = _("没有找到该学员：请核对证件号，或请学员出示“我的签到码”。首次参加者须先注册本平台账号。")
        return None, None, "unknown_learner", message
    if learner.pk == staff.pk:
        return None, None, "self", _("不能为自己签到：请其他工作人员扫码，或用自己的手机扫会场二维码。")
    mark = Mark(ip=client_ip, via=Via.DESK, by=staff)
    try:
        plan = plan_for(session)
        day = scan_day(plan, scanned_at)
        opens, closes = open_window(plan, direction, day)
        if session.state != SessionState.APPROVED or not (opens <= scanned_at <= closes):
            raise DomainError(
                _("扫码时间不在本期的%(what)s时间内。") % {"what": _("签到") if direction == "in" else _("撤离")},
                code="outside_window",
            )
        if direction == tokens.CHECK_IN:
            attendance, created = check_in(session, learner, scanned_at, day, mark)
        else:
            attendance, created = check_out(session, learner, scanned_at, day, {}, plan, mark)
    except DomainError as error:
        return learner, None, error.code or "refused", error.message
    if created:
        return learner, attendance, "done", _("签到成功") if direction == "in" else _("撤离成功")
    return learner, attendance, "repeat", _("已签到，无需重复") if direction == "in" else _("已撤离，无需重复")


def desk_scan(*, session, staff, scan_id, direction, text, scanned_at, now, client_ip=None):
    """Check a learner in or out at the desk; return the DeskScan (outcome, message).

    Idempotent by ``scan_id``, the id the desk's device gave the scan: a resend after a lost answer returns the
    first result and writes nothing. Refusals are outcomes, not exceptions: the queue on the device shows them.
    """
    existing = DeskScan.objects.filter(scan_id=scan_id).select_related("learner").first()
    if existing:
        return _same_desk(existing, session, staff)
    if scanned_at is None or not (now - DESK_CLOCK_TRUST <= scanned_at <= now + timedelta(minutes=2)):
        scanned_at = now
    scanned_at = min(scanned_at, now)
    try:
        with transaction.atomic():
            learner, attendance, outcome, message = _desk_act(session, staff, direction, text, scanned_at, client_ip)
            scan = DeskScan.objects.create(
                scan_id=scan_id,
                session=session,
                direction=direction,
                staff=staff,
                learner=learner,
                attendance=attendance if attendance is not None and attendance.pk else None,
                scanned_at=scanned_at,
                outcome=outcome,
                message=message[:200],
            )
    except IntegrityError:  # the same scan sent twice at once: nothing of the second stays, the first answers
        return _same_desk(DeskScan.objects.select_related("learner").get(scan_id=scan_id), session, staff)
    log.info(
        "desk_scan",
        extra={"session_id": session.pk, "direction": direction, "outcome": outcome, "actor_id": staff.pk},
    )
    return scan


# --- flags for the roster (W9): evidence of one phone checking in for many ------------------

SECONDS_APART = 60
FLAG_LABELS = {
    "shared_device": gettext_lazy("一机多人"),
    "rapid": gettext_lazy("同一手机连续扫码"),
    "device_changed": gettext_lazy("签到、撤离不是同一手机"),
    "poster_outside": gettext_lazy("会场时间外使用海报二维码"),
    "no_device": gettext_lazy("扫码时浏览器未带设备标记"),
    "desk_late": gettext_lazy("签到台补录"),
}
# A desk scan that reached the portal this long after the time it claims was entered afterwards, not at the desk.
DESK_LATE = timedelta(minutes=15)


def door_flags(session, plan):
    """{learner id: [{"code", "label", "evidence"}]} for the roster: several learners scanned from one device,
    scans seconds apart from one device, check-in and check-out from different devices, and scans that used a
    printed poster's code outside the room's hours. One query; the unit admin decides (roster selection)."""
    rows = list(
        Attendance.objects.filter(session=session).values(
            "learner_id",
            "learner__name",
            "day",
            "checked_in_at",
            "checked_out_at",
            "in_device",
            "out_device",
            "in_via",
            "out_via",
            "in_ip",
            "out_ip",
        )
    )
    flags = {}

    def flag(learner_id, code, evidence):
        entry = {"code": code, "label": FLAG_LABELS[code], "evidence": evidence}
        if entry not in flags.setdefault(learner_id, []):
            flags[learner_id].append(entry)

    scans_by_device = {}
    names = {}
    for row in rows:
        names[row["learner_id"]] = mask_name(row["learner__name"])
        for side in ("in", "out"):
            device, moment = row[f"{side}_device"], row["checked_in_at" if side == "in" else "checked_out_at"]
            if device and moment and row[f"{side}_via"] != Via.DESK:
                scans_by_device.setdefault(device, []).append((moment, row["learner_id"], side, row[f"{side}_ip"]))
    local = timezone.localtime
    for device, scans in scans_by_device.items():
        learners = {learner for _m, learner, _s, _ip in scans}
        if len(learners) > 1:
            for learner in learners:
                others = punctuation.mark("、").join(sorted(names[o] for o in learners if o != learner))
                flag(
                    learner,
                    "shared_device",
                    _("同一手机（设备 %(device)s）还为 %(others)s 扫码") % {"device": device[:6], "others": others},
                )
        scans.sort()
        for (before, first, _s1, ip1), (after, second, _s2, _ip2) in zip(scans, scans[1:]):
            gap = (after - before).total_seconds()
            if first != second and gap <= SECONDS_APART:
                for one, other in ((first, second), (second, first)):
                    flag(
                        one,
                        "rapid",
                        _("%(time)s 与 %(other)s 在 %(seconds)s 秒内用同一手机扫码（地址 %(ip)s）")
                        % {
                            "time": local(before).strftime("%H:%M:%S"),
                            "other": names[other],
                            "seconds": int(gap),
                            "ip": ip1 or "—",
                        },
                    )
    for row in rows:
        if row["in_device"] and row["out_device"] and row["out_via"] != Via.DESK and row["in_via"] != Via.DESK:
            if row["in_device"] != row["out_device"]:
                flag(
                    row["learner_id"],
                    "device_changed",
                    _("签到设备 %(a)s，撤离设备 %(b)s") % {"a": row["in_device"][:6], "b": row["out_device"][:6]},
                )
        for side, moment in (("in", row["checked_in_at"]), ("out", row["checked_out_at"])):
            # A scan through the door (it has an address) without the phone's mark: cookies refused or dropped.
            if moment and row[f"{side}_via"] not in (Via.DESK, "") and not row[f"{side}_device"] and row[f"{side}_ip"]:
                flag(
                    row["learner_id"],
                    "no_device",
                    _("%(what)s %(time)s，地址 %(ip)s")
                    % {
                        "what": _("签到") if side == "in" else _("撤离"),
                        "time": local(moment).strftime("%m-%d %H:%M:%S"),
                        "ip": row[f"{side}_ip"] or "—",
                    },
                )
            if moment and row[f"{side}_via"] == Via.POSTER:
                # The room's hours: the day's schedule, from when check-in opens to when check-out closes.
                start, end = plan.day_bounds(local(moment).date())
                if not (start - plan.open_before <= moment <= end + plan.close_after):
                    flag(
                        row["learner_id"],
                        "poster_outside",
                        _("%(what)s %(time)s 使用海报二维码，会场时间为 %(start)s–%(end)s")
                        % {
                            "what": _("签到") if side == "in" else _("撤离"),
                            "time": local(moment).strftime("%m-%d %H:%M"),
                            "start": plan.day_start.strftime("%H:%M"),
                            "end": plan.day_end.strftime("%H:%M"),
                        },
                    )
    late = DeskScan.objects.filter(session=session, outcome="done").select_related("staff")
    for scan in late:
        if scan.received_at - scan.scanned_at > DESK_LATE and scan.learner_id:
            flag(
                scan.learner_id,
                "desk_late",
                _("%(staff)s 记为 %(scanned)s %(what)s，%(received)s 才提交")
                % {
                    "staff": scan.staff.name,
                    "scanned": local(scan.scanned_at).strftime("%m-%d %H:%M"),
                    "what": _("签到") if scan.direction == "in" else _("撤离"),
                    "received": local(scan.received_at).strftime("%m-%d %H:%M"),
                },
            )
    return flags


# --- rosters ----------------------------------------------------------------------------


def roster_for(session):
    roster, _created = Roster.objects.get_or_create(
        session=session,
        defaults={"organiser": session.organiser, "unit": session.unit, "due_date": session.end_date + timedelta(days=14)},
    )
    return roster


def roster_rows(session, plan):
    """One row per learner: first in, last out, hours, days complete, survey done, whether hours are met."""
    rows = (
        Attendance.objects.filter(session=session)
        .values(
            "learner_id",
            "learner__name",
            "learner__mobile",
            "learner__id_number",
            "learner__profile__unit__name",
            "learner__profile__unit_name",
            "learner__profile__department",
        )
        .annotate(
            first_in=Min("checked_in_at"),
            last_out=Max("checked_out_at"),
            hours=Sum("hours"),
            days=Count("pk"),
            complete=Count("pk", filter=Q(checked_out_at__isnull=False)),
            surveys=Count("survey"),
            posters=Count("pk", filter=Q(in_via=Via.POSTER) | Q(out_via=Via.POSTER)),
            desk=Count("pk", filter=Q(in_via=Via.DESK) | Q(out_via=Via.DESK)),
            desk_staff=Max("in_by__name"),
        )
        .order_by("learner__name")
    )
    needed = plan.hours_needed
    flags = door_flags(session, plan)
    result = []
    for row in rows:
        row["both_scans"] = row["complete"] == row["days"]
        row["meets"] = row["both_scans"] and (row["hours"] or 0) >= needed
        row["unit"] = row["learner__profile__unit__name"] or row["learner__profile__unit_name"] or ""
        row["flags"] = flags.get(row["learner_id"], [])
        result.append(row)
    return result


def session_over(session):
    """Whether the session's last day has ended (its roster may be submitted)."""
    _last_start, last_end = plan_for(session).day_bounds(session.end_date)
    return timezone.now() >= last_end


def submit_roster(roster, organiser):
    """The organiser submits the roster: the portal pre-selects who met the required hours with both scans."""
    plan = plan_for(roster.session)
    if not session_over(roster.session):
        raise DomainError(_("项目尚未结束，结束后才能提交学员名单。"), code="not_over")
    with transaction.atomic():
        roster = Roster.objects.select_for_update().get(pk=roster.pk)
        if roster.state == RosterState.DRAFT:
            RosterSelection.objects.filter(roster=roster).delete()
            RosterSelection.objects.bulk_create(
                [
                    RosterSelection(roster=roster, learner_id=row["learner_id"], preselected=row["meets"], selected=row["meets"])
                    for row in roster_rows(roster.session, plan)
                ]
            )
        return perform(ROSTER_WORKFLOW, roster, "submit", organiser)


@transaction.atomic
def change_selection(roster, admin, learner_id, selected, reason):
    """The unit admin puts a learner in or out, with a reason whenever it departs from the pre-selection."""
    if roster.state != RosterState.SUBMITTED or not admin.in_scope(Role.UNIT_ADMIN, roster.unit.path):
        raise DomainError(_("只有待单位确认的名单可以调整。"), code="forbidden")
    row = RosterSelection.objects.select_for_update().get(roster=roster, learner_id=learner_id)
    reason = (reason or "").strip()
    if selected != row.preselected and not reason:
        raise DomainError(_("调整系统预选结果时请写明理由。"), code="reason_required", field="reason")
    row.selected, row.reason = selected, reason if selected != row.preselected else ""
    row.changed_by, row.changed_at = admin, timezone.now()
    row.save()
    log.info(
        "roster_selection_changed",
        extra={"object_id": roster.pk, "learner_id": learner_id, "selected": selected, "actor_id": admin.pk},
    )
    return row


PROVINCE_REVIEW_DAYS = 14


def start_province_deadline(roster, event):
    """The effect of the unit's "forward": the province has two weeks to decide (seed 001 §3)."""
    roster.province_due_date = timezone.localdate() + timedelta(days=PROVINCE_REVIEW_DAYS)
    roster.reminded_at = None
    roster.save(update_fields=["province_due_date", "reminded_at"])


def stop_province_deadline(roster, event):
    """The effect of the province's return: its clock stops; the roster is the organiser's and unit's again."""
    roster.province_due_date = None
    roster.save(update_fields=["province_due_date"])


def award_selected(roster, event):
    """The effect of a roster's "approve" (declared on the workflow): the selected learners receive the session's credits."""
    learners = list(roster.selections.filter(selected=True).values_list("learner_id", flat=True))
    credit_services.award(roster.session, learners, awarded_by=event.actor)


def save_door_policy(form, admin):
    """The province admin's default grace; logged, as every rule edit is."""
    policy = form.save(commit=False)
    policy.updated_by = admin
    policy.save()
    log.info("door_policy_changed", extra={"grace_minutes": policy.grace_minutes, "actor_id": admin.pk})
    return policy
