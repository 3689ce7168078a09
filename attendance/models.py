"""Attendance: QR settings per session, scans, surveys, denied attempts and rosters (W3, W4)."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cme_portal.accounts.models import Organisation, Role
from cme_portal.review.models import Reviewable
from cme_portal.review.workflow import OWNER, QueueLevel, Transition, Workflow
from projects.models import Project, Session


class PairMode(models.TextChoices):
    SESSION = "session", _("整期签到、撤离各一次")
    DAILY = "daily", _("每天签到、撤离各一次")


class AttendancePlan(models.Model):
    """How a session's codes behave: refresh period, one pair per session or per day, the daily schedule."""

    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="attendance_plan")
    refresh_seconds = models.PositiveIntegerField(
        _("二维码刷新周期（秒）"), default=86400, help_text=_("默认 1 天；投影显示时可短至 60 秒")
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

    @property
    def hours_needed(self):
        return self.required_hours if self.required_hours is not None else self.scheduled_hours


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
        return self.name


class ProjectSurvey(models.Model):
    """The organiser's choice of survey for a project (the default otherwise)."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="survey_choice")
    template = models.ForeignKey(SurveyTemplate, on_delete=models.PROTECT, related_name="+")


class Attendance(models.Model):
    """One learner's check-in and check-out for a session (or for one day of it)."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="attendances")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attendances")
    day = models.DateField(_("日期"))
    checked_in_at = models.DateTimeField(_("签到时间"))
    checked_out_at = models.DateTimeField(_("撤离时间"), null=True, blank=True)
    hours = models.DecimalField(_("学时"), max_digits=5, decimal_places=1, default=0)

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
    }

    session = models.ForeignKey(Session, on_delete=models.CASCADE, null=True, blank=True, related_name="denied_scans")
    direction = models.CharField(max_length=3)
    reason = models.CharField(max_length=20)
    identifier = models.CharField(max_length=32, blank=True)  # masked
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    @property
    def reason_label(self):
        return self.REASONS.get(self.reason, self.reason)

    class Meta:
        verbose_name = _("无效扫码记录")
        verbose_name_plural = _("无效扫码记录")
        ordering = ["-created_at"]


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
