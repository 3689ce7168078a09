"""Check-in and check-out (W3), hours, the survey, and rosters with the award (W4).

Like pretix's perform_checkin: every scan goes through `validate_scan`, and a
refusal raises DomainError whose code is recorded as a DeniedScan.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cme_portal.accounts.models import LearnerProfile, Role, RoleAssignment, User
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
    PairMode,
    ProjectSurvey,
    Roster,
    RosterSelection,
    RosterState,
    SurveyResponse,
    SurveyTemplate,
)

log = logging.getLogger("cme.attendance")

DEFAULT_SURVEY = [
    {
        "key": "q1",
        "text": "认为本项目讲授主要内容是本学科最新发展、最新成果或亟待解决的问题",
        "options": ["是", "基本是", "否"],
        "choose": 1,
    },
    {"key": "q2", "text": "对本项目基本内容以前了解情况为", "options": ["全知道", "部分知道", "不知道"], "choose": 1},
    {"key": "q3", "text": "通过本项目学习认为收获", "options": ["很大", "较大", "一般", "较小"], "choose": 1},
    {"key": "q4", "text": "对授课教师教学水平的评价", "options": ["很好", "较好", "一般", "较差"], "choose": 1},
    {"key": "q5", "text": "对本项目组织安排的评价", "options": ["满意", "基本满意", "不满意"], "choose": 1},
    {"key": "q6", "text": "对本项目的总体满意度", "options": ["满意", "一般", "不满意"], "choose": 1},
    {
        "key": "q7",
        "text": "通过本项目学习，感到收获最大的是（选两项）",
        "options": ["开阔思路", "提高临床诊治能力", "提高理论水平", "提高科研工作能力", "提高操作能力"],
        "choose": 2,
    },
]


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
    """The code a poster printed in advance carries: the window in which ``day``'s schedule starts."""
    start, _end = plan.day_bounds(day)
    return current_code(plan, direction, start)


def _refuse(code, message, session=None, direction="", identifier="", client_ip=None):
    log.info(
        "scan_refused",
        extra={"session_id": getattr(session, "pk", None), "direction": direction, "code": code, "client_ip": client_ip},
    )
    DeniedScan.objects.create(
        session=session,
        direction=direction,
        reason=code,
        identifier=mask_id_number(identifier) if identifier else "",
        client_ip=client_ip,
    )
    raise DomainError(message, code=code)


def validate_scan(session, direction, token, moment, client_ip=None):
    """Check a scanned code; return (plan, day). Refusals are recorded and raise DomainError:
    "not_approved", "forged", "expired" or "outside_window", each with what to do next."""
    if session.state != SessionState.APPROVED:
        _refuse("not_approved", _("该项目尚未获准举办，不能签到。请与会务人员联系。"), session, direction, client_ip=client_ip)
    plan = plan_for(session)
    day = scan_day(plan, moment)
    if not tokens.token_matches(token, session.pk, direction, _day_of(plan), plan.refresh_seconds, moment):
        if _matches_an_older_window(plan, direction, token, moment):
            _refuse(
                "expired",
                _("二维码已过期。请扫描会场现场展示的最新二维码（投影页面会自动更新）。"),
                session,
                direction,
                client_ip=client_ip,
            )
        _refuse(
            "forged",
            _("二维码无效。请扫描会场张贴或投影的本项目二维码，不要使用转发的截图。"),
            session,
            direction,
            client_ip=client_ip,
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
        )
    return plan, day


OLDER_WINDOWS_SEARCHED = 2000


def _matches_an_older_window(plan, direction, token, moment):
    """Whether ``token`` was a real code of this session earlier (expired rather than forged).

    Bounded: the session's own span and at most OLDER_WINDOWS_SEARCHED windows
    back, so a flood of forged codes costs little.
    """
    token = (token or "").strip().lower()
    if not tokens.well_formed(token):
        return False
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
    identifier = (identifier or "").strip()
    return User.objects.find_by_identifier(normalise_mobile(identifier) if identifier[:1] in "+0" else identifier)


def masked(user):
    """What the door shows to confirm identity: partly hidden name and mobile."""
    profile = LearnerProfile.objects.filter(user=user).select_related("unit").first()
    return {
        "name": mask_name(user.name),
        "mobile": mask_mobile(user.mobile or ""),
        "id_number": mask_id_number(user.id_number),
        "unit": profile.unit_display if profile else "",
        "department": profile.department if profile else "",
    }


@transaction.atomic
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
    birth_date=None,
):
    """Seed 001's check-in form for a first-time learner: an account they claim later by registering."""
    if User.objects.filter(id_number=id_number).exists():
        raise DomainError(_("该证件号已登记，请返回直接签到。"), code="known", field="id_number")
    if User.objects.filter(mobile=mobile).exists():
        raise DomainError(
            _("该手机号已绑定其他账号，请用该账号的证件号签到，或更换手机号。"), code="mobile_taken", field="mobile"
        )
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
    return user


def check_in(session, learner, moment, day):
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
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {meta.db_table} (session_id, learner_id, day, checked_in_at, hours) VALUES (%s, %s, %s, %s, 0) "
            "ON CONFLICT (session_id, learner_id, day) DO NOTHING RETURNING id",
            values,
        )
        row = cursor.fetchone()
    if row:
        return Attendance(pk=row[0], session=session, learner=learner, day=day, checked_in_at=moment), True
    return Attendance.objects.get(session=session, learner=learner, day=day), False


def check_in_by_document(session, id_number, moment, day):
    """The burst's fast path: look the learner up and record the arrival in one statement.

    Returns the new Attendance, or None when nothing was inserted (an unknown
    document number, or a repeated scan): the caller then takes the slow path.
    """
    meta = Attendance._meta
    values = [
        session.pk,
        meta.get_field("day").get_db_prep_value(day, connection),
        meta.get_field("checked_in_at").get_db_prep_value(moment, connection),
        id_number,
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {meta.db_table} (session_id, learner_id, day, checked_in_at, hours) "
            f"SELECT %s, id, %s, %s, 0 FROM {User._meta.db_table} WHERE id_number = %s "
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
                template = SurveyTemplate.objects.create(
                    name=_("默认问卷（江苏省继教系统）"), questions=DEFAULT_SURVEY, is_default=True
                )
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
    return Decimal(str(round(total.total_seconds() / 3600, 1)))


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


def check_out(session, learner, moment, day, answers, plan):
    """Record the departure with the survey; return (attendance, done_now).

    Raises DomainError "no_check_in" (recorded as a denied scan) when there was
    no check-in, and "survey" when the answers break the survey's rules.
    """
    attendance = attendance_to_close(session, learner, day)
    if attendance.checked_out_at:
        return attendance, False
    template = survey_for(session)
    clean = check_answers(template, answers)
    with transaction.atomic():
        attendance = Attendance.objects.select_for_update().get(pk=attendance.pk)
        if attendance.checked_out_at:
            return attendance, False
        attendance.checked_out_at = moment
        attendance.hours = attended_hours(plan, attendance.checked_in_at, moment)
        attendance.save(update_fields=["checked_out_at", "hours"])
        SurveyResponse.objects.create(attendance=attendance, template=template, answers=clean)
    return attendance, True


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
        )
        .order_by("learner__name")
    )
    needed = plan.hours_needed
    result = []
    for row in rows:
        row["both_scans"] = row["complete"] == row["days"]
        row["meets"] = row["both_scans"] and (row["hours"] or 0) >= needed
        row["unit"] = row["learner__profile__unit__name"] or row["learner__profile__unit_name"] or ""
        result.append(row)
    return result


def submit_roster(roster, organiser):
    """The organiser submits the roster: the portal pre-selects who met the required hours with both scans."""
    plan = plan_for(roster.session)
    _last_start, last_end = plan.day_bounds(roster.session.end_date)
    if timezone.now() < last_end:
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
