from decimal import Decimal

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cme_portal import punctuation
from cme_portal.accounts.models import StaffCategory
from cme_portal.accounts.validators import canonical_personnel_number
from cme_portal.digits import DigitsFormMixin
from cme_portal.punctuation import with_note
from projects.models import CreditClass

from .models import ActivityMode, Category, CorrectionKind, CreditEntry, CreditPolicy, EntryDeadline, Platform, RequirementRule
from .rules import ENTERABLE, EVIDENCE_ITEMS, NATIONAL_SOCIETIES

# A credit's evidence is a few pages: more files than this is a mistake, said at the form (Django's
# DATA_UPLOAD_MAX_NUMBER_FILES, far above, answers with the portal's 400 page).
MAX_EVIDENCE_FILES = 20


def lazy_str(build):
    return lazy(build, str)()


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        files = (
            [single(item, initial) for item in data]
            if isinstance(data, (list, tuple))
            else ([single(data, initial)] if data else [])
        )
        if len(files) > MAX_EVIDENCE_FILES:
            raise forms.ValidationError(
                _("证明材料一次最多 %(limit)d 个文件（本次 %(count)d 个），请把同一证书的多页扫描合成一个 PDF 后上传。")
                % {"limit": MAX_EVIDENCE_FILES, "count": len(files)},
                code="too_many_files",
            )
        return files


class ActivityForm(DigitsFormMixin, forms.ModelForm):
    """The activity as printed on the credit certificate (seed 004: type it as printed)."""

    digit_fields = ("activity_number", "start_date", "end_date", "certificate_date", "credits", "hours")

    evidence = MultipleFileField(
        label=_("证明材料"),
        required=False,
        help_text=_("可一次选择多个 PDF、JPEG 或 PNG 文件（最多 20 个，合计最大 50 MB），平台会按顺序合并成一个 PDF。"),
    )
    evidence_items = forms.MultipleChoiceField(
        label=_("证明材料包含（赴外省学习必填）"),
        required=False,
        choices=list(EVIDENCE_ITEMS.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "勾选合并上传的 PDF 中所含的材料。线上项目可不提供单位外出学习审批单；线下项目还需本人出行飞机（动车）票或单位报销单。"
        ),
    )

    class Meta:
        model = CreditEntry
        fields = [
            "category",
            "activity_name",
            "activity_number",
            "issuer",
            "credit_class",
            "start_date",
            "end_date",
            "certificate_date",
            "credits",
            "hours",
            "lecturer",
            "mode",
            "residency_years",
            "training_year",
            "annual_assessment_passed",
            "final_assessment_passed",
            "personnel_number",
        ]
        widgets = {"start_date": DATE, "end_date": DATE, "certificate_date": DATE, "mode": forms.RadioSelect}
        help_texts = {
            "activity_name": _("按学分证上的名称填写"),
            "activity_number": _("严格按学分证填写，国家级项目不要省略（国）"),
            # Interpolated when shown, in the page's language (at import it would be Chinese for good).
            "issuer": lazy_str(
                lambda: (
                    gettext("学分证上的项目申办单位；赴外省学会学分请填写学会全称，如 %(examples)s")
                    % {"examples": punctuation.join(NATIONAL_SOCIETIES[:3])}
                )
            ),
            "mode": _("赴外省学习必选：所需证明材料随举办形式不同"),
            "residency_years": _("住院医师规范化培训必填"),
            "training_year": _("规培：本次授分的是第几年"),
            "annual_assessment_passed": _("规培：以每年的年度考核成绩作为授分凭证"),
            "final_assessment_passed": _("规培 3 年的最后一年：以最后（结业）考核成绩合格授分"),
            "personnel_number": _("按学分证填写；学分证上没有时留空。须与个人信息中的人员编号一致"),
        }

    def __init__(self, *args, require_evidence=True, categories=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [(c, Category(c).label) for c in (categories or ENTERABLE)]
        self.fields["mode"].choices = [("", _("未选择"))] + ActivityMode.choices
        self.fields["mode"].required = False
        self.fields["credit_class"].choices = CreditClass.choices
        self.fields["evidence"].required = require_evidence

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("结束日期不能早于开始日期。"))
        if cleaned.get("credits") is not None and cleaned.get("hours") is None:
            cleaned["hours"] = 0
        cleaned["personnel_number"] = canonical_personnel_number(cleaned.get("personnel_number"))
        return cleaned

    def activity_data(self):
        data = {k: v for k, v in self.cleaned_data.items() if k != "evidence"}
        return data


class BatchForm(ActivityForm):
    """A unit admin enters one activity for many learners: ticked below, or listed in a sheet."""

    learners = forms.ModelMultipleChoiceField(label=_("学员"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple)
    sheet = forms.FileField(label=_("或上传名单（Excel，第一列为证件号）"), required=False)

    def __init__(self, *args, learner_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["learners"].queryset = learner_queryset
        self.fields["learners"].label_from_instance = lambda user: with_note(user.name, user.id_number[-4:])
        # One activity for many learners: each learner's 人员编号 is checked on their own entries, not here.
        del self.fields["personnel_number"]

    def activity_data(self):
        data = super().activity_data()
        data.pop("learners", None)
        data.pop("personnel_number", None)
        data.pop("sheet", None)
        return data


class EarlyReviewForm(forms.Form):
    """Seed 003: this year's promotion candidates and the title they apply for; the deadline is the province's."""

    candidates = forms.ModelMultipleChoiceField(label=_("晋升人员"), queryset=None, widget=forms.CheckboxSelectMultiple)
    title = forms.ChoiceField(label=_("申报职称"))
    reason = forms.CharField(
        label=_("事由"), max_length=200, required=False, help_text=_("留空则为“因晋升某职称需要，申请提前审核学分”")
    )

    def __init__(self, *args, learner_queryset, titles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["candidates"].queryset = learner_queryset
        self.fields["candidates"].label_from_instance = lambda user: with_note(user.name, user.id_number[-4:])
        self.fields["title"].choices = [(t, t) for t in titles]


class PlatformImportForm(forms.Form):
    platform = forms.ModelChoiceField(label=_("平台"), queryset=Platform.objects.filter(active=True), empty_label=None)
    file = forms.FileField(label=_("数据文件（Excel 或 CSV）"))


class RuleForm(DigitsFormMixin, forms.ModelForm):
    digit_fields = (
        "min_total",
        "min_class_i",
        "max_class_i",
        "min_class_ii",
        "max_class_ii",
        "five_year_national",
        "advanced_study_months",
    )

    class Meta:
        model = RequirementRule
        fields = [
            "min_total",
            "min_class_i",
            "max_class_i",
            "min_class_ii",
            "max_class_ii",
            "five_year_national",
            "advanced_study_months",
        ]


class ReportFilterForm(DigitsFormMixin, forms.Form):
    digit_fields = ("year", "q")
    year = forms.IntegerField(label=_("年度"), required=False)
    unit = forms.ModelChoiceField(label=_("单位"), queryset=None, required=False, empty_label=_("全部单位"))
    staff_category = forms.ChoiceField(label=_("人员类别"), required=False, choices=[("", _("全部"))] + StaffCategory.choices)
    compliant = forms.ChoiceField(
        label=_("达标"), required=False, choices=[("", _("全部")), ("yes", _("已达标")), ("no", _("未达标"))]
    )
    q = forms.CharField(label=_("姓名或证件号"), required=False)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


class CorrectionForm(DigitsFormMixin, forms.Form):
    """学分删除修改器: what is wrong with a credit the ledger holds, and what it should be."""

    digit_fields = ("credits", "hours", "year")

    kind = forms.ChoiceField(
        label=_("申请类型"), choices=CorrectionKind.choices, widget=forms.RadioSelect, initial=CorrectionKind.CORRECT
    )
    credits = forms.DecimalField(label=_("更正后学分"), required=False, min_value=Decimal("0.1"), max_value=25, decimal_places=1)
    hours = forms.DecimalField(label=_("更正后学时"), required=False, min_value=0, max_value=9999, decimal_places=1)
    credit_class = forms.ChoiceField(label=_("更正后学分类别"), required=False, choices=[("", _("不变"))] + CreditClass.choices)
    year = forms.IntegerField(label=_("更正后年度"), required=False, min_value=1990, max_value=2100)
    reason = forms.CharField(
        label=_("更正原因"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("写明哪里有误、正确的应是什么，省继教办据此审核。"),
    )


class PolicyForm(DigitsFormMixin, forms.ModelForm):
    digit_fields = ("earliest_year", "platform_days", "early_review_deadline")

    class Meta:
        model = CreditPolicy
        fields = ["earliest_year", "platform_days", "early_review_titles", "early_review_deadline", "handles_tcm"]
        widgets = {"early_review_deadline": DATE}


class DeadlineForm(DigitsFormMixin, forms.ModelForm):
    digit_fields = ("year", "deadline")

    class Meta:
        model = EntryDeadline
        fields = ["year", "deadline"]
        widgets = {"deadline": DATE}

    def clean(self):
        cleaned = super().clean()
        year, deadline = cleaned.get("year"), cleaned.get("deadline")
        if year and deadline and deadline.year < year:
            self.add_error("deadline", _("录入截止日期不能早于该年度。"))
        return cleaned


class PlatformForm(forms.ModelForm):
    class Meta:
        model = Platform
        fields = ["name", "aliases", "active"]
