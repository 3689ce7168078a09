"""Attendance: QR settings per session, scans, surveys, denied attempts and rosters (W3, W4)."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cme_portal.accounts.models import Organisation, Role
from cme_portal.review.models import Reviewable
from cme_portal.review.workflow import OWNER, QueueLevel, Transition, Workflow
from projects.models import Project, Session


class PairMode(models.TextChoices):
    SESSION = "session", _("整期签到、撤离各一次")
    DAILY = "daily", _("每天签到、撤离各一次")


DEFAULT_GRACE_MINUTES = 15
PROJECTOR_REFRESH_SECONDS = 120


class DoorPolicy(models.Model):
    """The province's defaults for the door (one row): the late-arrival grace every session starts from."""

    grace_minutes = models.PositiveSmallIntegerField(
        _("迟到、早退宽限（分钟/天）"),
        default=DEFAULT_GRACE_MINUTES,
        help_text=_("每天允许迟到或早退的分钟数；项目未另行设置时，学时按日程减去宽限计算是否达标。"),
    )
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("签到规则")
        verbose_name_plural = _("签到规则")
        constraints = [
            models.CheckConstraint(
                condition=Q(grace_minutes__lte=240),
                name="door_policy_grace_at_most_four_hours",
                violation_error_message=_("宽限时间最多 240 分钟。"),
            )
        ]

    @classmethod
    def current(cls):
        return cls.objects.order_by("pk").first() or cls(grace_minutes=DEFAULT_GRACE_MINUTES)


class AttendancePlan(models.Model):
    """How a session's codes behave: the projector's refresh period, one pair per session or per day, the daily
    schedule, how many hours earn the credit, and whether one phone may check in more than one person."""

    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="attendance_plan")
    # The code on the projector turns every two minutes; a printed poster carries the day's code (tokens.poster_token).
    refresh_seconds = models.PositiveIntegerField(
        _("投影二维码刷新周期（秒）"),
        default=PROJECTOR_REFRESH_SECONDS,
        help_text=_("默认 2 分钟；打印的海报使用当天有效的二维码"),
    )
    # W9: one phone checks in one person unless the organiser allows more.
    one_device_one_person = models.BooleanField(
        _("一机一人"),
        default=True,
        help_text=_("开启后，一部手机只能为一位学员签到、撤离；没有手机的学员请到签到台由工作人员扫码。"),
    )
    grace_minutes = models.PositiveSmallIntegerField(
        _("迟到、早退宽限（分钟/天）"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(240)],
        help_text=_("留空则按省继教办的规定（默认每天 15 分钟）；填写“要求学时”时以要求学时为准。"),
    )
    mode = models.CharField(_("签到方式"), max_length=8, choices=PairMode.choices, default=PairMode.SESSION)
    day_start = models.TimeField(_("每日开始时间"), default=time(8, 30))
    day_end = models.TimeField(_("每日结束时间"), default=time(17, 30))
    # Codes open this long before the day starts and stay open this long after it ends.
    open_before = models.DurationField(default=timedelta(hours=1))
    close_after = models.DurationField(default=timedelta(hours=2))
    required_hours = models.DecimalField(
        _("要求学时"), max_digits=6, decimal_places=1, null=True, blank=True, help_text=_("留空则为日程的全部学时")
    )

    class Meta:
        verbose_name = _("签到设置")
        verbose_name_plural = _("签到设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(refresh_seconds__gte=60) & Q(refresh_seconds__lte=86400 * 7),
                name="plan_refresh_between_a_minute_and_a_week",
                violation_error_message=_("二维码刷新周期应在 60 秒到 7 天之间。"),
            ),
            models.CheckConstraint(
                condition=Q(day_end__gt=models.F("day_start")),
                name="plan_day_end_after_start",
                violation_error_message=_("每日结束时间应晚于开始时间。"),
            ),
        ]

    def days(self):
        day = self.session.start_date
        while day <= self.session.end_date:
            yield day
            day += timedelta(days=1)

    def day_bounds(self, day):
        tz = timezone.get_current_timezone()
        return (datetime.combine(day, self.day_start, tzinfo=tz), datetime.combine(day, self.day_end, tzinfo=tz))

    @property
    def scheduled_hours(self):
        per_day = (
            datetime.combine(self.session.start_date, self.day_end) - datetime.combine(self.session.start_date, self.day_start)
        ).total_seconds() / 3600
        return Decimal(str(round(per_day * len(list(self.days())), 1)))

    def effective_grace_minutes(self, policy=None):
        if self.grace_minutes is not None:
            return self.grace_minutes
        return (policy or DoorPolicy.current()).grace_minutes

    def hours_needed_with(self, policy=None):
        """Hours a learner must attend: the organiser's required hours, else the schedule less the grace per day."""
        if self.required_hours is not None:
            return self.required_hours
        days = len(list(self.days()))
        grace = Decimal(self.effective_grace_minutes(policy) * days) / 60
        return max(Decimal(0), (self.scheduled_hours - grace).quantize(Decimal("0.1")))

    @property
    def hours_needed(self):
        return self.hours_needed_with()


class SurveyTemplate(models.Model):
    """Check-out questions. ``questions``: [{"key", "text", "options": [...], "choose": 1 or 2}]."""

    name = models.CharField(_("名称"), max_length=100)
    questions = models.JSONField(_("题目"))
    is_default = models.BooleanField(_("默认问卷"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("调查问卷")
        verbose_name_plural = _("调查问卷")
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_survey")]

    def __str__(self):
        return self.shown(self.name)

    def shown(self, text):
        """A name, question or option as the reader sees it: the portal's default survey is stored as Chinese
        msgids and shown in the reader's language; questions an organiser typed are content, shown as typed.
        Answers keep the stored option, so results count the same in either language."""
        return gettext(text) if self.is_default and text else text


class ProjectSurvey(models.Model):
    """The organiser's choice of survey for a project (the default otherwise)."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="survey_choice")
    template = models.ForeignKey(SurveyTemplate, on_delete=models.PROTECT, related_name="+")


class Via(models.TextChoices):
    SCREEN = "screen", _("投影二维码")
    POSTER = "poster", _("海报二维码")
    DESK = "desk", _("签到台")


class Attendance(models.Model):
    """One learner's check-in and check-out for a session (or for one day of it)."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="attendances")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attendances")
    day = models.DateField(_("日期"))
    checked_in_at = models.DateTimeField(_("签到时间"))
    checked_out_at = models.DateTimeField(_("撤离时间"), null=True, blank=True)
    hours = models.DecimalField(_("学时"), max_digits=5, decimal_places=1, default=0)
    # Evidence for the roster's flags (W9): the door's device mark, the client address, which code was used
    # (the projector's, a printed poster's, or the desk's), and the desk staff who scanned, if any.
    in_device = models.CharField(max_length=32, blank=True, db_index=True)
    in_ip = models.GenericIPAddressField(null=True, blank=True)
    in_via = models.CharField(max_length=8, default="screen")
    in_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    out_device = models.CharField(max_length=32, blank=True)
    out_ip = models.GenericIPAddressField(null=True, blank=True)
    out_via = models.CharField(max_length=8, blank=True)
    out_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("签到记录")
        verbose_name_plural = _("签到记录")
        ordering = ["day", "checked_in_at"]
        constraints = [
            models.UniqueConstraint(fields=["session", "learner", "day"], name="attendance_once_per_day"),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True) | Q(checked_out_at__gte=models.F("checked_in_at")),
                name="attendance_out_after_in",
            ),
            models.CheckConstraint(condition=Q(in_via__in=Via.values), name="attendance_in_via_known"),
            models.CheckConstraint(condition=Q(out_via__in=[*Via.values, ""]), name="attendance_out_via_known"),
            # A desk scan names who made it; a phone's scan names nobody.
            models.CheckConstraint(
                condition=Q(in_via="desk", in_by__isnull=False) | (~Q(in_via="desk") & Q(in_by__isnull=True)),
                name="attendance_desk_in_has_staff",
            ),
            models.CheckConstraint(
                condition=Q(out_via="desk", out_by__isnull=False) | (~Q(out_via="desk") & Q(out_by__isnull=True)),
                name="attendance_desk_out_has_staff",
            ),
        ]


class SurveyResponse(models.Model):
    attendance = models.OneToOneField(Attendance, on_delete=models.CASCADE, related_name="survey")
    template = models.ForeignKey(SurveyTemplate, on_delete=models.PROTECT, related_name="responses")
    answers = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)


class DeniedScan(models.Model):
    """A refused scan and why: organisers ask "why did she get an error?" (STYLE.md)."""

    REASONS = {
        "forged": _("二维码无效"),
        "expired": _("二维码已过期"),
        "outside_window": _("不在签到时间内"),
        "not_approved": _("项目未获准举办"),
        "no_check_in": _("未签到即撤离"),
        "unknown_learner": _("未找到学员"),
        "device_taken": _("一机一人：该手机已为他人签到"),
    }

    session = models.ForeignKey(Session, on_delete=models.CASCADE, null=True, blank=True, related_name="denied_scans")
    direction = models.CharField(max_length=3)
    reason = models.CharField(max_length=20)
    identifier = models.CharField(max_length=32, blank=True)  # masked
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    device = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    @property
    def reason_label(self):
        return self.REASONS.get(self.reason, self.reason)

    class Meta:
        verbose_name = _("无效扫码记录")
        verbose_name_plural = _("无效扫码记录")
        ordering = ["-created_at"]


class DeskStaff(models.Model):
    """A person the organiser names to check learners in and out at the desk (签到台) for one session."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="desk_staff")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="desk_duties")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("签到台工作人员")
        verbose_name_plural = _("签到台工作人员")
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="desk_staff_once_per_session")]


class DeskScan(models.Model):
    """One scan made at the desk, keyed by the id the desk's device gave it: a resend finds it and changes nothing."""

    scan_id = models.UUIDField(unique=True)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="desk_scans")
    direction = models.CharField(max_length=3)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    attendance = models.ForeignKey(Attendance, on_delete=models.SET_NULL, null=True, blank=True, related_name="desk_scans")
    scanned_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=20)
    message = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("签到台扫码")
        verbose_name_plural = _("签到台扫码")
        ordering = ["-scanned_at"]


class RosterState(models.TextChoices):
    DRAFT = "draft", _("未提交")
    SUBMITTED = "submitted", _("待单位确认")
    FORWARDED = "forwarded", _("待省继教办审核")
    RETURNED = "returned", _("退回修改")
    APPROVED = "approved", _("审核通过")


ROSTER_WORKFLOW = Workflow(
    name="roster",
    scope_path="unit__path",
    owner_field="organiser",
    transitions=[
        Transition("submit", _("提交学员名单"), (RosterState.DRAFT, RosterState.RETURNED), RosterState.SUBMITTED, OWNER),
        Transition(
            "forward",
            _("确认并上报"),
            (RosterState.SUBMITTED,),
            RosterState.FORWARDED,
            Role.UNIT_ADMIN,
            effect="attendance.services.start_province_deadline",
        ),
        Transition(
            "unit_return",
            _("退回修改"),
            (RosterState.SUBMITTED,),
            RosterState.RETURNED,
            Role.UNIT_ADMIN,
            reason_required=True,
            style="outline-danger",
        ),
        Transition(
            "approve",
            _("审核通过并授予学分"),
            (RosterState.FORWARDED,),
            RosterState.APPROVED,
            Role.PROVINCE_ADMIN,
            style="success",
            effect="attendance.services.award_selected",
        ),
        Transition(
            "province_return",
            _("退回修改"),
            (RosterState.FORWARDED,),
            RosterState.RETURNED,
            Role.PROVINCE_ADMIN,
            reason_required=True,
            style="outline-danger",
            effect="attendance.services.stop_province_deadline",
        ),
    ],
    levels=(
        QueueLevel("unit", Role.UNIT_ADMIN, _("学员名单"), _("学员名单确认")),
        QueueLevel("province", Role.PROVINCE_ADMIN, _("学员名单"), _("学员名单审批")),
    ),
    url_name="attendance:roster_queue",
    selector="attendance.selectors.rosters",
    filterset="attendance.filters.RosterFilter",
    results_template="attendance/_roster_list.html",
    empty_message=_("没有待处理的学员名单。"),
)


class Roster(Reviewable):
    """The attendance list of a session (执行情况), submitted and reviewed like any application (W4)."""

    workflow = ROSTER_WORKFLOW

    session = models.OneToOneField(Session, on_delete=models.PROTECT, related_name="roster")
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("立项用户")
    )
    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="rosters", verbose_name=_("单位"))
    state = models.CharField(_("状态"), max_length=10, choices=RosterState.choices, default=RosterState.DRAFT, db_index=True)
    due_date = models.DateField(_("上报截止日期"))
    # Seed 001 §3: 管理用户将于两周内完成审核 — the province's own clock starts when the unit forwards it.
    province_due_date = models.DateField(_("省级审核截止日期"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("学员名单")
        verbose_name_plural = _("学员名单")
        ordering = ["due_date"]

    def __str__(self):
        return str(self.session)

    def get_absolute_url(self):
        return reverse("attendance:roster", args=[self.session_id])

    @property
    def waiting_for_province(self):
        return self.state == RosterState.FORWARDED

    @property
    def current_due_date(self):
        """The deadline of whoever holds the roster now: the organiser and unit, or the province."""
        return self.province_due_date if self.waiting_for_province and self.province_due_date else self.due_date

    @property
    def overdue(self):
        if self.state == RosterState.APPROVED:
            return False
        return timezone.localdate() > self.current_due_date


class RosterSelection(models.Model):
    """Who the roster puts forward for credit; every change from the portal's pre-selection has a reason."""

    roster = models.ForeignKey(Roster, on_delete=models.CASCADE, related_name="selections")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    selected = models.BooleanField(default=False)
    preselected = models.BooleanField(default=False)
    reason = models.CharField(_("调整理由"), max_length=200, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["roster", "learner"], name="roster_selection_once"),
            models.CheckConstraint(
                condition=Q(selected=models.F("preselected")) | ~Q(reason=""), name="roster_change_has_reason"
            ),
        ]
