from django import forms
from django.utils.translation import gettext_lazy as _

from cme_portal.digits import DigitsFormMixin

from .models import CreditClass, Discipline, MaterialKind, Session

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DisciplineChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        queryset = Discipline.objects.filter(parent__isnull=False).select_related("parent").order_by("-year", "code")
        super().__init__(queryset=queryset, **kwargs)

    def label_from_instance(self, obj):
        return f"{obj.year} · {obj.code} {obj.parent.name}/{obj.name}"


class SessionFieldsForm(DigitsFormMixin, forms.ModelForm):
    digit_fields = ("start_date", "end_date", "credits", "hours", "number", "year", "sequence")

    class Meta:
        model = Session
        fields = ["venue", "start_date", "end_date", "credits", "hours", "remarks"]
        widgets = {"start_date": DATE, "end_date": DATE, "remarks": forms.Textarea(attrs={"rows": 3})}

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("结束日期不能早于开始日期。"))
        return cleaned


class NationalProjectForm(SessionFieldsForm):
    """Seed 001 §1.2: number, session, name, discipline, leader, venue, dates, credits."""

    number = forms.CharField(label=_("项目编号"), max_length=64, help_text=_("例如 2021-03-05-129（国），（国）不可省略"))
    name = forms.CharField(label=_("项目名称"), max_length=200)
    discipline = DisciplineChoiceField(label=_("二/三级学科"))
    leader = forms.CharField(label=_("项目负责人"), max_length=50)
    year = forms.IntegerField(label=_("项目年份"), min_value=1990, max_value=2100)
    credit_class = forms.ChoiceField(label=_("学分类别"), choices=CreditClass.choices, initial=CreditClass.I)
    sequence = forms.IntegerField(label=_("期数"), min_value=1, max_value=99, initial=1)

    field_order = [
        "number",
        "sequence",
        "name",
        "discipline",
        "leader",
        "year",
        "credit_class",
        "venue",
        "start_date",
        "end_date",
        "credits",
        "hours",
        "remarks",
    ]


class MaterialForm(forms.Form):
    kind = forms.ChoiceField(label=_("材料类型"), choices=MaterialKind.choices)
    file = forms.FileField(
        label=_("文件"),
        help_text=_("PDF、JPEG 或 PNG，最大 50 MB。会议通知请上传带红章的扫描件或照片。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}),
    )


class DisciplineForm(DigitsFormMixin, forms.ModelForm):
    digit_fields = ("year", "code")

    class Meta:
        model = Discipline
        fields = ["year", "code", "name", "parent"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Discipline.objects.filter(parent__isnull=True).order_by("-year", "code")
        self.fields["parent"].required = False

    def clean(self):
        cleaned = super().clean()
        code, parent, year = cleaned.get("code", ""), cleaned.get("parent"), cleaned.get("year")
        if parent and (not code.startswith(parent.code + "-") or parent.year != year):
            self.add_error("code", _("三级学科代码应为“二级代码-两位序号”，且与二级学科同一年度，例如 03-05。"))
        if not parent and code and "-" in code:
            self.add_error("parent", _("三级学科请选择所属的二级学科。"))
        return cleaned


class ImportForm(DigitsFormMixin, forms.Form):
    digit_fields = ("as_of",)
    file = forms.FileField(label=_("Excel 文件（.xlsx）"))
    as_of = forms.DateField(label=_("名单截止日期"), required=False, widget=DATE, help_text=_("名单所列项目截至的日期，可留空"))
    entry = forms.ChoiceField(
        label=_("项目性质"),
        choices=[
            ("national_list", _("国家级公布项目")),
            ("declared", _("申报项目")),
            ("filed", _("备案项目")),
            ("remote_filed", _("异地备案项目")),
        ],
    )
