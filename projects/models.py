"""The catalogue (disciplines, projects) and sessions with their hosting applications.

A Session is one holding of a project (期数). Its hosting application is the
session's own review life: draft → submitted (to the unit) → forwarded (to the
province) → approved, or returned for revision. Sessions that came from the
province's filed lists are "filed" and never pass through review.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cme_portal import punctuation
from cme_portal.accounts.models import Organisation, Role
from cme_portal.review.models import Reviewable
from cme_portal.review.workflow import OWNER, QueueLevel, Transition, Workflow


class Discipline(models.Model):
    """Second- and third-level disciplines of the national list, per year (codes change between years)."""

    year = models.PositiveSmallIntegerField(_("年度"))
    code = models.CharField(_("代码"), max_length=8, help_text=_("二级学科如 03，三级学科如 03-05"))
    name = models.CharField(_("名称"), max_length=60)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("二级学科")
    )

    class Meta:
        verbose_name = _("学科")
        verbose_name_plural = _("学科")
        ordering = ["year", "code"]
        constraints = [
            models.UniqueConstraint(fields=["year", "code"], name="discipline_unique_code_per_year"),
            models.CheckConstraint(
                condition=Q(parent__isnull=True, code__regex=r"^[0-9]{2}$")
                | Q(parent__isnull=False, code__regex=r"^[0-9]{2}-[0-9]{2}$"),
                name="discipline_code_shape",
                violation_error_message=_("二级学科代码为两位数字（如 03），三级学科为“二级代码-两位序号”（如 03-05）。"),
            ),
        ]

    def __str__(self):
        return f"{self.parent.name}/{self.name}" if self.parent_id else self.name


class Level(models.TextChoices):
    NATIONAL = "national", _("国家级")
    PROVINCIAL = "provincial", _("省级")
    CITY = "city", _("市级")
    DISTRICT = "district", _("区级")


class CreditClass(models.TextChoices):
    I = "I", _("I类")  # noqa: E741
    II = "II", _("II类")


class Entry(models.TextChoices):
    DECLARED = "declared", _("申报项目")
    FILED = "filed", _("备案项目")
    REMOTE_FILED = "remote_filed", _("异地备案项目")
    NATIONAL_LIST = "national_list", _("国家级公布项目")


class ProjectStatus(models.TextChoices):
    PUBLISHED = "published", _("已公布")
    SUSPENDED = "suspended", _("已暂停")


class Project(models.Model):
    number = models.CharField(_("项目编号"), max_length=64)
    number_key = models.CharField(max_length=64, unique=True, editable=False)
    name = models.CharField(_("项目名称"), max_length=200)
    level = models.CharField(_("项目级别"), max_length=12, choices=Level.choices)
    credit_class = models.CharField(_("学分类别"), max_length=2, choices=CreditClass.choices, default=CreditClass.I)
    entry = models.CharField(_("项目性质"), max_length=14, choices=Entry.choices, default=Entry.DECLARED)
    status = models.CharField(_("状态"), max_length=10, choices=ProjectStatus.choices, default=ProjectStatus.PUBLISHED)
    discipline = models.ForeignKey(
        Discipline, on_delete=models.PROTECT, null=True, blank=True, related_name="projects", verbose_name=_("学科")
    )
    leader = models.CharField(_("项目负责人"), max_length=50)
    holding_unit = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="projects",
        verbose_name=_("举办单位"),
        limit_choices_to={"kind": "unit"},
    )
    sponsor = models.CharField(_("主办单位"), max_length=200, blank=True)
    co_organiser = models.CharField(_("协办单位"), max_length=200, blank=True)
    # Seed 004: a remote-filed project's credits are reported by its in-province co-organiser (承办/协办单位).
    co_organiser_unit = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="co_organised_projects",
        verbose_name=_("协办单位（机构）"),
        limit_choices_to={"kind": "unit"},
    )
    # Units whose names come close to the typed 协办单位, for the province admin to confirm one.
    co_organiser_candidates = models.JSONField(default=list, blank=True, editable=False)
    year = models.PositiveSmallIntegerField(_("项目年份"))
    credits = models.DecimalField(_("学分"), max_digits=5, decimal_places=1, validators=[MinValueValidator(Decimal("0.5"))])
    hours = models.DecimalField(_("学时"), max_digits=6, decimal_places=1, null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("录入人"),
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("项目")
        verbose_name_plural = _("项目")
        ordering = ["-year", "number_key"]
        indexes = [models.Index(fields=["year", "level"], name="project_year_level")]
        constraints = [
            models.CheckConstraint(
                condition=Q(credits__gt=0) & Q(credits__lte=25),
                name="project_credits_range",
                violation_error_message=_("学分应大于 0，且不超过 25 分。"),
            ),
            models.CheckConstraint(
                condition=Q(year__gte=1990) & Q(year__lte=2100),
                name="project_year_range",
                violation_error_message=_("项目年份应在 1990 至 2100 年之间。"),
            ),
            models.CheckConstraint(condition=~Q(number_key=""), name="project_number_not_blank"),
        ]

    def __str__(self):
        return f"{self.number} {self.name}"

    def get_absolute_url(self):
        return reverse("projects:public_detail", args=[self.pk])


class SessionState(models.TextChoices):
    DRAFT = "draft", _("未上报")
    SUBMITTED = "submitted", _("待单位确认")
    FORWARDED = "forwarded", _("待省继教办审核")
    RETURNED = "returned", _("退回修改")
    APPROVED = "approved", _("审核通过")
    FILED = "filed", _("备案")


HOSTING_WORKFLOW = Workflow(
    name="hosting",
    scope_path="unit__path",
    owner_field="organiser",
    transitions=[
        Transition("submit", _("提交申请"), (SessionState.DRAFT,), SessionState.SUBMITTED, OWNER),
        Transition("forward", _("确认并上报"), (SessionState.SUBMITTED,), SessionState.FORWARDED, Role.UNIT_ADMIN),
        Transition(
            "unit_return",
            _("退回修改"),
            (SessionState.SUBMITTED,),
            SessionState.RETURNED,
            Role.UNIT_ADMIN,
            reason_required=True,
            style="outline-danger",
        ),
        Transition(
            "approve", _("审核通过"), (SessionState.FORWARDED,), SessionState.APPROVED, Role.PROVINCE_ADMIN, style="success"
        ),
        Transition(
            "province_return",
            _("退回修改"),
            (SessionState.FORWARDED,),
            SessionState.RETURNED,
            Role.PROVINCE_ADMIN,
            reason_required=True,
            style="outline-danger",
        ),
        Transition("resubmit", _("重新提交"), (SessionState.RETURNED,), SessionState.SUBMITTED, OWNER),
    ],
    levels=(
        QueueLevel("unit", Role.UNIT_ADMIN, _("举办申请确认"), _("举办申请确认")),
        QueueLevel("province", Role.PROVINCE_ADMIN, _("举办申请审批"), _("举办申请审批")),
    ),
    url_name="projects:queue",
    selector="projects.selectors.sessions",
    filterset="projects.filters.SessionFilter",
    results_template="projects/_session_table.html",
    empty_message=_("没有符合条件的举办申请。"),
    styles={SessionState.FILED: "info"},
)


class Session(Reviewable):
    """One holding of a project (期数) and its hosting application."""

    workflow = HOSTING_WORKFLOW

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("项目"))
    sequence = models.PositiveSmallIntegerField(_("期数"), default=1)
    venue = models.CharField(_("会场地址"), max_length=200)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    credits = models.DecimalField(
        _("学分"), max_digits=5, decimal_places=1, validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(25)]
    )
    hours = models.DecimalField(_("学时"), max_digits=6, decimal_places=1, validators=[MinValueValidator(Decimal("0.1"))])
    remarks = models.TextField(_("备注"), blank=True)
    state = models.CharField(_("状态"), max_length=12, choices=SessionState.choices, default=SessionState.DRAFT, db_index=True)
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organised_sessions",
        verbose_name=_("立项用户"),
    )
    unit = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sessions",
        verbose_name=_("举办单位"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("举办申请")
        verbose_name_plural = _("举办申请")
        ordering = ["-start_date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "sequence"], name="session_unique_sequence"),
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")),
                name="session_dates_in_order",
                violation_error_message=_("结束日期不能早于开始日期。"),
            ),
            models.CheckConstraint(
                condition=Q(credits__gt=0) & Q(credits__lte=25),
                name="session_credits_range",
                violation_error_message=_("学分应大于 0，且不超过 25 分。"),
            ),
            models.CheckConstraint(
                condition=Q(hours__gt=0), name="session_hours_positive", violation_error_message=_("学时应大于 0。")
            ),
            # A session under review belongs to someone in a unit: scope needs both.
            models.CheckConstraint(
                condition=Q(state="filed") | (Q(organiser__isnull=False) & Q(unit__isnull=False)),
                name="session_reviewable_has_owner_and_unit",
            ),
        ]

    def __str__(self):
        return _("%(name)s 第 %(n)s 期") % {"name": self.project.name, "n": self.sequence}

    def get_absolute_url(self):
        return reverse("projects:session_detail", args=[self.pk])

    @property
    def editable(self):
        return self.state in (SessionState.DRAFT, SessionState.RETURNED)

    @property
    def review_reason(self):
        """Seed 001's 审核理由: who decided last and what, with their reason (“省继教办[退回修改]：…”);
        empty while no reviewer has acted (the state badge says 未上报). Needs ``projects.selectors.with_last_review``."""
        role = getattr(self, "last_role", None)
        if not role:
            return ""
        state = SessionState(self.last_state).label if self.last_state in SessionState.values else self.last_state
        text = f"{Role(role).label}[{state}]"
        return f"{text}{punctuation.mark('：')}{self.last_reason}" if self.last_reason else text


class MaterialKind(models.TextChoices):
    NOTICE = "notice", _("会议通知（带红章）")
    SCHEDULE = "schedule", _("会议日程")


def material_path(instance, filename):
    # Nothing of the original name, the project or the person reaches the disk path.
    return f"materials/{instance.public_id.hex[:2]}/{instance.public_id.hex}{instance.extension}"


class Material(models.Model):
    """An uploaded file of a hosting application, checked by content; served only through a scoped view."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="materials")
    kind = models.CharField(_("材料类型"), max_length=10, choices=MaterialKind.choices)
    file = models.FileField(upload_to=material_path, max_length=200)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveBigIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("举办材料")
        verbose_name_plural = _("举办材料")
        constraints = [
            models.UniqueConstraint(fields=["session", "kind"], name="material_one_per_kind"),
            models.CheckConstraint(condition=Q(size__lte=50 * 1024 * 1024), name="material_at_most_50mb"),
        ]

    def __str__(self):
        return self.original_name

    @property
    def extension(self):
        return {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(self.content_type, "")

    def get_absolute_url(self):
        return reverse("projects:material_download", args=[self.public_id])


class ImportState(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已导入")
    FAILED = "failed", _("未导入")


def import_path(instance, filename):
    return f"imports/{instance.public_id.hex}.xlsx"


class CatalogueImport(models.Model):
    """One upload of a province's list (national list, filed, remote-filed): checked and imported by a worker,
    all or nothing, each refused row named (W9)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    entry = models.CharField(_("项目性质"), max_length=14, choices=Entry.choices)
    as_of = models.DateField(_("名单截止日期"), null=True, blank=True, help_text=_("名单所列项目截至的日期，如“截止11月16日”"))
    file = models.FileField(upload_to=import_path, max_length=200)
    original_name = models.CharField(_("文件名"), max_length=200)
    state = models.CharField(_("状态"), max_length=8, choices=ImportState.choices, default=ImportState.PENDING)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    imported = models.PositiveIntegerField(_("导入项目数"), default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row": n, "reason": "…"}]
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("名单导入")
        verbose_name_plural = _("名单导入")
        ordering = ["-created_at"]

    def __str__(self):
        return self.original_name
