"""Credits: the ledger, entries with evidence under review, platform records, rules.

The ledger (CreditRecord) holds one row per credit a learner holds. An
effective row is never edited: a correction is a reversing row (negative
amounts) plus a new revision, both kept in the learner's history, so sums
over the ledger are always the learner's current credits.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cme_portal.accounts.models import Organisation, Role, StaffCategory
from cme_portal.punctuation import with_note
from cme_portal.review.models import Reviewable
from cme_portal.review.workflow import OWNER, QueueLevel, Transition, Workflow
from projects.models import CreditClass

# A credit is more than nothing and at most a year's worth (the database says so too).
CREDIT_RANGE = [MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("25"))]


class Category(models.TextChoices):
    """Where a credit comes from (seeds 003 and 004), each with its own fields, evidence and rule."""

    DISTRICT_II = "district_ii", _("区级 II 类学分")
    PROVINCIAL_I = "provincial_i", _("省级 I 类项目")
    PROVINCIAL_II = "provincial_ii", _("省级 II 类项目")
    NATIONAL_I = "national_i", _("国家级 I 类项目")
    OUT_OF_PROVINCE = "out_of_province", _("赴外省学习")
    COUNTERPART_SUPPORT = "counterpart", _("对口支援")
    RESIDENCY = "residency", _("住院医师规范化培训")
    ADVANCED_STUDY = "advanced_study", _("进修")
    TCM_NATIONAL = "tcm_national", _("国家中医药管理局学分")
    TCM_PROVINCIAL = "tcm_provincial", _("省中医药管理局学分")
    PROJECT_AWARD = "project_award", _("本省项目授予")
    PLATFORM = "platform", _("远程教育平台")


class ActivityMode(models.TextChoices):
    """Seed 004: how the activity was held; the evidence it needs follows (线上 may omit the unit's approval form)."""

    ONLINE = "online", _("线上")
    OFFLINE = "offline", _("线下")


class CreditLevel(models.TextChoices):
    NATIONAL = "national", _("国家级")
    PROVINCIAL = "provincial", _("省级")
    CITY = "city", _("市级")
    DISTRICT = "district", _("区级")
    OUT_OF_PROVINCE_NATIONAL = "oop_national", _("赴外省国家级项目")
    OUT_OF_PROVINCE_SOCIETY = "oop_society", _("赴外省省级（国家一级学会）")
    OTHER = "other", _("其他")


class Source(models.TextChoices):
    PROJECT_AWARD = "award", _("项目授予")
    OWN_ENTRY = "own", _("个人录入")
    UNIT_BATCH = "batch", _("单位统一录入")
    PLATFORM = "platform", _("平台导入")


class EntryState(models.TextChoices):
    DRAFT = "draft", _("未上报")
    SUBMITTED = "submitted", _("待单位审核")
    UNIT_APPROVED = "unit_approved", _("待地市审核")
    CITY_APPROVED = "city_approved", _("待省级审核")
    RETURNED = "returned", _("退回修改")
    APPROVED = "approved", _("审核通过")
    REJECTED = "rejected", _("审核不通过")
    WITHDRAWN = "withdrawn", _("已撤回")
    CANCELLED = "cancelled", _("学分已撤销")


# Entries that no longer claim their activity: entering it again is allowed (seed 004: 可重新录入).
CLOSED_ENTRY_STATES = (EntryState.REJECTED, EntryState.WITHDRAWN, EntryState.CANCELLED)
OPEN_BEFORE_APPROVAL = (
    EntryState.DRAFT,
    EntryState.SUBMITTED,
    EntryState.UNIT_APPROVED,
    EntryState.CITY_APPROVED,
    EntryState.RETURNED,
)


def _reject(action, source, role):
    return Transition(action, _("不予通过"), (source,), EntryState.REJECTED, role, reason_required=True, style="outline-dark")


CREDIT_ENTRY_WORKFLOW = Workflow(
    name="credit_entry",
    scope_path="unit__path",
    owner_field="learner",
    transitions=[
        Transition("submit", _("上报"), (EntryState.DRAFT,), EntryState.SUBMITTED, OWNER),
        Transition(
            "batch_submit",
            _("单位统一录入并上报"),
            (EntryState.DRAFT,),
            EntryState.UNIT_APPROVED,
            Role.UNIT_ADMIN,
            guard=lambda entry: entry.source == Source.UNIT_BATCH,
            in_queue=False,
        ),
        Transition(
            "unit_approve", _("单位审核通过"), (EntryState.SUBMITTED,), EntryState.UNIT_APPROVED, Role.UNIT_ADMIN, style="success"
        ),
        Transition(
            "unit_return",
            _("退回修改"),
            (EntryState.SUBMITTED,),
            EntryState.RETURNED,
            Role.UNIT_ADMIN,
            reason_required=True,
            style="outline-danger",
        ),
        Transition(
            "city_approve",
            _("地市审核通过"),
            (EntryState.UNIT_APPROVED,),
            EntryState.CITY_APPROVED,
            Role.CITY_ADMIN,
            style="success",
        ),
        Transition(
            "city_return",
            _("退回修改"),
            (EntryState.UNIT_APPROVED,),
            EntryState.RETURNED,
            Role.CITY_ADMIN,
            reason_required=True,
            style="outline-danger",
        ),
        Transition(
            "province_approve",
            _("省级审核通过"),
            (EntryState.CITY_APPROVED,),
            EntryState.APPROVED,
            Role.PROVINCE_ADMIN,
            style="success",
            effect="credits.services.record_approved_entry",
        ),
        Transition(
            "province_return",
            _("退回修改"),
            (EntryState.CITY_APPROVED,),
            EntryState.RETURNED,
            Role.PROVINCE_ADMIN,
            reason_required=True,
            style="outline-danger",
        ),
        Transition("resubmit", _("重新上报"), (EntryState.RETURNED,), EntryState.SUBMITTED, OWNER),
        _reject("unit_reject", EntryState.SUBMITTED, Role.UNIT_ADMIN),
        _reject("city_reject", EntryState.UNIT_APPROVED, Role.CITY_ADMIN),
        _reject("province_reject", EntryState.CITY_APPROVED, Role.PROVINCE_ADMIN),
        # 学分删除修改器 (seed 004): the learner, or the unit admin for its learners, withdraws an entry not yet approved.
        Transition(
            "withdraw", _("撤回"), OPEN_BEFORE_APPROVAL, EntryState.WITHDRAWN, OWNER, style="outline-secondary", confirm=True
        ),
        # Taken by an approved correction request (credits.services.apply_correction), never from a page.
        Transition(
            "cancel",
            _("撤销学分"),
            (EntryState.APPROVED,),
            EntryState.CANCELLED,
            Role.PROVINCE_ADMIN,
            reason_required=True,
            in_queue=False,
            internal=True,
        ),
        Transition(
            "unit_withdraw",
            _("代为撤回"),
            OPEN_BEFORE_APPROVAL,
            EntryState.WITHDRAWN,
            Role.UNIT_ADMIN,
            reason_required=True,
            style="outline-secondary",
            in_queue=False,
        ),
    ],
    styles={EntryState.WITHDRAWN: "secondary", EntryState.CANCELLED: "secondary"},
    levels=(
        QueueLevel("unit", Role.UNIT_ADMIN, _("学分审核"), _("学分审核")),
        QueueLevel("city", Role.CITY_ADMIN, _("学分审核"), _("学分审核")),
        QueueLevel("province", Role.PROVINCE_ADMIN, _("学分审核"), _("学分审核")),
    ),
    url_name="credits:queue",
    selector="credits.selectors.entries",
    filterset="credits.filters.EntryFilter",
    results_template="credits/_entry_table.html",
    empty_message=_("没有待审核的学分。"),
)


class CreditEntry(Reviewable):
    """A credit earned elsewhere, entered with evidence and reviewed unit → city → province (W5)."""

    workflow = CREDIT_ENTRY_WORKFLOW

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="credit_entries", verbose_name=_("学员")
    )
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("录入人"))
    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="credit_entries", verbose_name=_("单位"))
    source = models.CharField(_("录入方式"), max_length=10, choices=Source.choices, default=Source.OWN_ENTRY)
    category = models.CharField(_("学分类型"), max_length=20, choices=Category.choices)
    activity_name = models.CharField(_("活动名称"), max_length=200)
    activity_number = models.CharField(_("活动编号"), max_length=64, blank=True)
    activity_key = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    issuer = models.CharField(_("发证机构"), max_length=200)
    level = models.CharField(_("学分级别"), max_length=14, choices=CreditLevel.choices)
    credit_class = models.CharField(_("学分类别"), max_length=2, choices=CreditClass.choices)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    certificate_date = models.DateField(
        _("证书日期"), null=True, blank=True, help_text=_("进修：合格证取得日期，决定学分计入的年度")
    )
    year = models.PositiveSmallIntegerField(_("学分年度"))
    credits = models.DecimalField(_("学分"), max_digits=5, decimal_places=1, validators=CREDIT_RANGE)
    hours = models.DecimalField(_("学时"), max_digits=6, decimal_places=1, validators=[MinValueValidator(0)])
    lecturer = models.BooleanField(_("以授课教师身份"), default=False)
    # Seed 004: 举办形式 and the evidence the merged PDF holds (a checklist that depends on it).
    mode = models.CharField(_("举办形式"), max_length=8, choices=ActivityMode.choices, blank=True)
    evidence_items = models.JSONField(_("证明材料清单"), default=list, blank=True)
    # Seed 003: residency training (规培) is credited per training year on its assessment.
    residency_years = models.PositiveSmallIntegerField(
        _("规培年限"), null=True, blank=True, choices=[(1, _("1 年")), (3, _("3 年"))]
    )
    training_year = models.PositiveSmallIntegerField(_("培训年度（第几年）"), null=True, blank=True)
    annual_assessment_passed = models.BooleanField(_("年度考核合格"), default=False)
    final_assessment_passed = models.BooleanField(_("结业考核合格"), default=False)
    # Seed 004: 人员编号 as printed on the certificate; it must be the learner's own (the profile's).
    personnel_number = models.CharField(_("人员编号"), max_length=32, blank=True)
    evidence = models.FileField(_("证明材料"), upload_to="evidence/%Y/", max_length=200)
    evidence_pages = models.PositiveSmallIntegerField(default=0)
    # Indexed by entry_queue_order (state first), which serves every lookup by state.
    state = models.CharField(_("状态"), max_length=14, choices=EntryState.choices, default=EntryState.DRAFT)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("学分录入")
        verbose_name_plural = _("学分录入")
        ordering = ["-created_at"]
        indexes = [
            # A queue (one state, oldest change first, a page of 20) is a walk of this index that stops after
            # the page, even among a million entries; the unit is carried so that counting a subtree's
            # waiting entries reads the index only (issue 12).
            models.Index(fields=["state", "state_changed_at", "id"], include=["unit"], name="entry_queue_order"),
        ]
        constraints = [
            # The same learner and activity number once, however often it is typed; a withdrawn or
            # rejected entry no longer holds it.
            models.UniqueConstraint(
                fields=["learner", "activity_key"],
                condition=~Q(activity_key="") & ~Q(state__in=["rejected", "withdrawn", "cancelled"]),
                name="entry_unique_activity_per_learner",
                violation_error_message=_("同一活动不能重复录入。"),
            ),
            models.CheckConstraint(
                condition=Q(credits__gt=0) & Q(credits__lte=25),
                name="entry_credits_range",
                violation_error_message=_("学分应大于 0，且不超过 25 分。"),
            ),
            models.CheckConstraint(
                condition=Q(hours__gte=0), name="entry_hours_not_negative", violation_error_message=_("学时不能为负数。")
            ),
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="entry_dates_in_order",
                violation_error_message=_("结束日期不能早于开始日期。"),
            ),
            models.CheckConstraint(
                condition=Q(mode__in=["", "online", "offline"]),
                name="entry_mode_known",
                violation_error_message=_("举办形式为线上或线下。"),
            ),
            models.CheckConstraint(
                condition=Q(residency_years__isnull=True) | Q(residency_years__in=[1, 3]),
                name="entry_residency_years_1_or_3",
                violation_error_message=_("规培年限为 1 年或 3 年。"),
            ),
            models.CheckConstraint(
                condition=Q(training_year__isnull=True)
                | Q(residency_years__isnull=False, training_year__gte=1, training_year__lte=models.F("residency_years")),
                name="entry_training_year_within_programme",
                violation_error_message=_("培训年度应在规培年限之内。"),
            ),
        ]

    def __str__(self):
        return with_note(self.activity_name, self.learner)

    def get_absolute_url(self):
        return reverse("credits:entry_detail", args=[self.pk])


class PlatformRecord(models.Model):
    """One record of a distance-learning platform's feed: one credit, however often imported."""

    platform = models.CharField(_("平台"), max_length=40)
    record_id = models.CharField(_("平台记录号"), max_length=64)
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("平台学分记录")
        verbose_name_plural = _("平台学分记录")
        constraints = [models.UniqueConstraint(fields=["platform", "record_id"], name="platform_record_once")]


class RecordStatus(models.TextChoices):
    EFFECTIVE = "effective", _("有效")
    REVERSAL = "reversal", _("冲正")


class CreditRecord(models.Model):
    """The ledger: one row per credit held. Never edited; corrected by a reversal plus a new revision."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="credit_records", verbose_name=_("学员")
    )
    year = models.PositiveSmallIntegerField(_("年度"), db_index=True)
    credit_class = models.CharField(_("学分类别"), max_length=2, choices=CreditClass.choices)
    level = models.CharField(_("学分级别"), max_length=14, choices=CreditLevel.choices)
    category = models.CharField(_("学分类型"), max_length=20, choices=Category.choices)
    credits = models.DecimalField(_("学分"), max_digits=5, decimal_places=1)
    hours = models.DecimalField(_("学时"), max_digits=6, decimal_places=1, default=0)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    activity_number = models.CharField(_("活动编号"), max_length=64, blank=True)
    activity_key = models.CharField(max_length=64, blank=True)
    activity_name = models.CharField(_("活动名称"), max_length=200)
    issuer = models.CharField(_("发证机构"), max_length=200, blank=True)
    start_date = models.DateField(_("开始日期"), null=True, blank=True)
    end_date = models.DateField(_("结束日期"), null=True, blank=True)
    # Advanced study of six months or more counts as the whole year (W6); negative on a reversal.
    months = models.SmallIntegerField(default=0)
    status = models.CharField(_("状态"), max_length=10, choices=RecordStatus.choices, default=RecordStatus.EFFECTIVE)
    revision = models.PositiveSmallIntegerField(default=0)
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by")
    session = models.ForeignKey(
        "projects.Session", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_records"
    )
    entry = models.ForeignKey(CreditEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="records")
    platform_record = models.OneToOneField(PlatformRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="credit")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("记入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("学分记录")
        verbose_name_plural = _("学分记录")
        ordering = ["-year", "-created_at", "-pk"]
        indexes = [models.Index(fields=["learner", "year", "credit_class"], name="ledger_learner_year_class")]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "session", "revision"],
                condition=Q(session__isnull=False, reverses__isnull=True),
                name="ledger_one_award_per_session",
            ),
            models.UniqueConstraint(
                fields=["learner", "activity_key", "revision"],
                condition=Q(reverses__isnull=True) & ~Q(activity_key=""),
                name="ledger_one_record_per_activity",
            ),
            models.CheckConstraint(
                condition=(Q(status="effective", reverses__isnull=True, credits__gt=0))
                | (Q(status="reversal", reverses__isnull=False, credits__lt=0)),
                name="ledger_reversal_is_negative_and_linked",
            ),
        ]

    def __str__(self):
        return f"{self.activity_name} {self.credits}"


class CorrectionState(models.TextChoices):
    DRAFT = "draft", _("未提交")
    SUBMITTED = "submitted", _("待省级审核")
    APPROVED = "approved", _("已更正")
    REJECTED = "rejected", _("不予更正")
    WITHDRAWN = "withdrawn", _("已撤回")


class CorrectionKind(models.TextChoices):
    CORRECT = "correct", _("更正学分")
    CANCEL = "cancel", _("撤销学分")


CORRECTION_WORKFLOW = Workflow(
    name="correction",
    scope_path="unit__path",
    owner_field="requested_by",
    transitions=[
        Transition("submit", _("提交更正申请"), (CorrectionState.DRAFT,), CorrectionState.SUBMITTED, OWNER),
        Transition(
            "approve",
            _("同意更正"),
            (CorrectionState.SUBMITTED,),
            CorrectionState.APPROVED,
            Role.PROVINCE_ADMIN,
            style="success",
            effect="credits.services.apply_correction",
        ),
        Transition(
            "reject",
            _("不予更正"),
            (CorrectionState.SUBMITTED,),
            CorrectionState.REJECTED,
            Role.PROVINCE_ADMIN,
            reason_required=True,
            style="outline-danger",
        ),
        Transition(
            "withdraw",
            _("撤回"),
            (CorrectionState.SUBMITTED,),
            CorrectionState.WITHDRAWN,
            OWNER,
            style="outline-secondary",
            confirm=True,
        ),
    ],
    styles={CorrectionState.WITHDRAWN: "secondary"},
    subject_fields=("learner",),
    levels=(QueueLevel("province", Role.PROVINCE_ADMIN, _("学分更正"), _("学分更正审核")),),
    url_name="credits:correction_queue",
    selector="credits.selectors.corrections",
    filterset="credits.filters.CorrectionFilter",
    results_template="credits/_correction_table.html",
    empty_message=_("没有待审核的学分更正申请。"),
)


class CorrectionRequest(Reviewable):
    """学分删除修改器 (seed 004): a request to correct or cancel a credit the ledger holds, decided by the province.

    Approving it writes a reversal and, for a correction, a new revision with the reason: never an edit in place.
    """

    workflow = CORRECTION_WORKFLOW

    record = models.ForeignKey(CreditRecord, on_delete=models.PROTECT, related_name="corrections", verbose_name=_("学分记录"))
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("学员"))
    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("单位"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("申请人")
    )
    kind = models.CharField(_("申请类型"), max_length=8, choices=CorrectionKind.choices, default=CorrectionKind.CORRECT)
    credits = models.DecimalField(_("更正后学分"), max_digits=5, decimal_places=1, null=True, blank=True)
    hours = models.DecimalField(_("更正后学时"), max_digits=6, decimal_places=1, null=True, blank=True)
    credit_class = models.CharField(_("更正后学分类别"), max_length=2, choices=CreditClass.choices, blank=True)
    year = models.PositiveSmallIntegerField(_("更正后年度"), null=True, blank=True)
    reason = models.CharField(_("更正原因"), max_length=300)
    state = models.CharField(
        _("状态"), max_length=10, choices=CorrectionState.choices, default=CorrectionState.DRAFT, db_index=True
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("学分更正申请")
        verbose_name_plural = _("学分更正申请")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["record"],
                condition=Q(state__in=["draft", "submitted"]),
                name="correction_one_open_per_record",
                violation_error_message=_("该学分已有一份待审核的更正申请。"),
            ),
            models.CheckConstraint(
                condition=Q(credits__isnull=True) | (Q(credits__gt=0) & Q(credits__lte=25)),
                name="correction_credits_range",
                violation_error_message=_("学分应大于 0，且不超过 25 分。"),
            ),
            models.CheckConstraint(
                condition=Q(hours__isnull=True) | Q(hours__gte=0),
                name="correction_hours_not_negative",
                violation_error_message=_("学时不能为负数。"),
            ),
        ]

    def __str__(self):
        return with_note(self.record.activity_name, self.learner)

    def get_absolute_url(self):
        return reverse("credits:correction_detail", args=[self.pk])

    def changes(self):
        """The ledger fields this request changes (empty for a cancellation)."""
        if self.kind == CorrectionKind.CANCEL:
            return {}
        fields = {"credits": self.credits, "hours": self.hours, "credit_class": self.credit_class, "year": self.year}
        return {key: value for key, value in fields.items() if value not in (None, "")}


class EarlyReviewRequest(models.Model):
    """Seed 003: a unit asks for early review of named promotion candidates before a deadline."""

    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="early_review_requests", verbose_name=_("单位"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("申请人")
    )
    candidates = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="early_review_requests", verbose_name=_("人员"))
    title = models.CharField(_("申报职称"), max_length=20, default="副高")
    reason = models.CharField(_("事由"), max_length=200, default=_("晋升职称"))
    deadline = models.DateField(_("截止日期"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("提前审核申请")
        verbose_name_plural = _("提前审核申请")
        ordering = ["-created_at"]


class RequirementRule(models.Model):
    """W6: a province's yearly requirement for a staff category; national defaults preloaded."""

    province = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="requirement_rules",
        verbose_name=_("省"),
        limit_choices_to={"kind": "province"},
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    staff_category = models.CharField(_("人员类别"), max_length=20, choices=StaffCategory.choices)
    min_total = models.DecimalField(_("年度总学分不少于"), max_digits=5, decimal_places=1, default=25)
    min_class_i = models.DecimalField(_("I 类不少于"), max_digits=5, decimal_places=1, default=5)
    max_class_i = models.DecimalField(_("I 类最多计入"), max_digits=5, decimal_places=1, default=10)
    min_class_ii = models.DecimalField(_("II 类不少于"), max_digits=5, decimal_places=1, default=15)
    max_class_ii = models.DecimalField(_("II 类最多计入"), max_digits=5, decimal_places=1, default=20)
    five_year_national = models.DecimalField(_("五年内国家级项目学分不少于"), max_digits=5, decimal_places=1, default=0)
    advanced_study_months = models.PositiveSmallIntegerField(_("进修满几个月视为达标"), default=6)

    class Meta:
        verbose_name = _("达标规则")
        verbose_name_plural = _("达标规则")
        ordering = ["-year", "staff_category"]
        constraints = [
            models.UniqueConstraint(fields=["province", "year", "staff_category"], name="rule_once_per_year_category"),
            models.CheckConstraint(
                condition=Q(min_class_i__lte=models.F("max_class_i")),
                name="rule_class_i_range",
                violation_error_message=_("I 类“不少于”不能大于“最多计入”。"),
            ),
            models.CheckConstraint(
                condition=Q(min_class_ii__lte=models.F("max_class_ii")),
                name="rule_class_ii_range",
                violation_error_message=_("II 类“不少于”不能大于“最多计入”。"),
            ),
        ]

    def __str__(self):
        return f"{self.year} {self.get_staff_category_display()}"


class CreditPolicy(models.Model):
    """A province's window for credits entered by hand (seed 003: 截止日期) and how long platform feeds may take."""

    province = models.OneToOneField(
        Organisation,
        on_delete=models.PROTECT,
        related_name="credit_policy",
        verbose_name=_("省"),
        limit_choices_to={"kind": "province"},
    )
    earliest_year = models.PositiveSmallIntegerField(_("最早受理年度"), help_text=_("早于该年度的学分不再受理录入"))
    platform_days = models.PositiveSmallIntegerField(
        _("平台学分到账天数"), default=30, help_text=_("远程教育平台的学分在课程结束后多少天内经数据对接到账")
    )
    # Seed 003: early review is only for this year's candidates of the titles named, until a deadline.
    early_review_titles = models.CharField(
        _("可申请提前审核的职称"), max_length=100, default="副高", help_text=_("用逗号分隔，如 副高,正高")
    )
    early_review_deadline = models.DateField(
        _("提前审核截止日期"), null=True, blank=True, help_text=_("留空则本年度不开放提前审核")
    )
    # Seed 004: Zhejiang's system does not handle TCM credits (中医学分暂不通过本系统管理); a province's choice.
    handles_tcm = models.BooleanField(
        _("受理中医药管理局学分"),
        default=True,
        help_text=_("不勾选则学员不能录入国家或省中医药管理局所授学分"),
    )

    class Meta:
        verbose_name = _("学分录入规则")
        verbose_name_plural = _("学分录入规则")
        constraints = [
            models.CheckConstraint(
                condition=Q(earliest_year__gte=1990) & Q(earliest_year__lte=2100),
                name="policy_earliest_year_range",
                violation_error_message=_("最早受理年度应在 1990 至 2100 年之间。"),
            ),
        ]

    def __str__(self):
        return str(self.province)

    def titles(self):
        return [t.strip() for t in self.early_review_titles.replace("，", ",").split(",") if t.strip()]


class EntryDeadline(models.Model):
    """The last day on which credits of ``year`` may be entered by hand (the province sets one per year)."""

    province = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="entry_deadlines",
        verbose_name=_("省"),
        limit_choices_to={"kind": "province"},
    )
    year = models.PositiveSmallIntegerField(_("学分年度"))
    deadline = models.DateField(_("录入截止日期"))

    class Meta:
        verbose_name = _("学分录入截止日期")
        verbose_name_plural = _("学分录入截止日期")
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["province", "year"], name="entry_deadline_once_per_year"),
            models.CheckConstraint(
                condition=Q(deadline__year__gte=models.F("year")),
                name="entry_deadline_not_before_its_year",
                violation_error_message=_("录入截止日期不能早于该年度。"),
            ),
        ]

    def __str__(self):
        return f"{self.year}: {self.deadline}"


class Platform(models.Model):
    """A distance-learning platform whose credits arrive by data feed (seed 004 rule 4): the province's catalogue."""

    name = models.CharField(_("平台名称"), max_length=100, unique=True)
    aliases = models.CharField(
        _("其他名称"), max_length=300, blank=True, help_text=_("学分证上可能出现的其他写法，用逗号分隔，如 华医网,好医生")
    )
    active = models.BooleanField(_("已数据对接"), default=True)

    class Meta:
        verbose_name = _("远程教育平台")
        verbose_name_plural = _("远程教育平台")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def names(self):
        return [self.name] + [a.strip() for a in self.aliases.replace("，", ",").split(",") if a.strip()]


class LearnerYearTotal(models.Model):
    """A learner's ledger sums for one year, kept by database triggers on the ledger (credits/totals.py).

    Every ledger row of year Y adds its credits to Class I or II and its advanced-study months to the row
    of year Y, and, when it is a national-level credit, to ``national5`` of the rows Y … Y+4 (the five-year
    window that ends in each of those years). The learner's unit and staff category are copied from the
    profile (another trigger follows their changes) so a report reads this one table. The compliance
    report reads these sums instead of the whole ledger; `manage.py check_compliance_totals` proves them
    equal to a recomputation from the ledger and repairs them.
    """

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="year_totals")
    year = models.PositiveSmallIntegerField()
    c1 = models.DecimalField(max_digits=9, decimal_places=1, default=0)
    c2 = models.DecimalField(max_digits=9, decimal_places=1, default=0)
    national5 = models.DecimalField(max_digits=9, decimal_places=1, default=0)
    advanced = models.IntegerField(default=0)
    unit = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    staff_category = models.CharField(max_length=20, choices=StaffCategory.choices, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["learner", "year"], name="one_total_per_learner_year")]
        # Covering: the report's per-unit verdicts read this index alone (an index-only scan of one year).
        indexes = [
            models.Index(
                fields=["year", "unit", "staff_category"],
                include=["c1", "c2", "national5", "advanced"],
                name="totals_year_unit_category",
            )
        ]

    def __str__(self):
        return f"{self.learner_id} {self.year}"


class JobKind(models.TextChoices):
    COMPLIANCE_EXPORT = "compliance_export", _("达标情况导出")
    PLATFORM_IMPORT = "platform_import", _("平台学分导入")
    BATCH_ENTRY = "batch_entry", _("单位统一录入")


class JobState(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("处理中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


def job_path(instance, filename):
    suffix = ".csv" if filename.lower().endswith(".csv") else ".xlsx"
    return f"jobs/{instance.public_id.hex}{suffix}"


class BackgroundJob(models.Model):
    """A province-size export or import built by a worker with progress (issue 12): the compliance report's
    Excel (its file kept until ``expires_at``), a large platform file (its report of imported/skipped/refused
    rows). Only the person who asked sees it (``credits.jobs.get_job``)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=JobKind.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    params = models.JSONField(default=dict, blank=True)  # the report's filters, the platform's name, the language
    state = models.CharField(max_length=8, choices=JobState.choices, default=JobState.PENDING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    original_name = models.CharField(max_length=200, blank=True)
    file = models.FileField(upload_to=job_path, max_length=200, blank=True)
    result = models.JSONField(default=dict, blank=True)  # {"imported": n, "skipped": [[row, reason]], "refused": [...]}
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(done__lte=models.F("total")), name="job_done_within_total"),
            models.CheckConstraint(
                condition=Q(kind__in=["compliance_export", "platform_import", "batch_entry"]), name="job_kind_known"
            ),
        ]

    @property
    def percent(self):
        if self.state == JobState.DONE:
            return 100
        return int(self.done * 100 / self.total) if self.total else 0

    @property
    def working(self):
        return self.state in (JobState.PENDING, JobState.RUNNING)
