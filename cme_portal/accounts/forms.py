from itertools import groupby
from operator import attrgetter

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from cme_portal.captcha import CaptchaField
from cme_portal.digits import DigitsFormMixin

from .models import DocumentType, LearnerProfile, Organisation, OrgKind, Sex, User
from .validators import canonical_personnel_number, validate_document, validate_mobile


class GroupedUnitIterator(ModelChoiceIterator):
    """The units under a heading (``<optgroup>``) per city or district, in the tree's order: a province's
    thousand units become a few dozen groups a phone's picker shows as headings."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for _parent, units in groupby(self.queryset.order_by("parent__path", "path"), key=attrgetter("parent_id")):
            units = list(units)
            choices = [self.choice(unit) for unit in units]
            if units[0].parent is None:
                yield from choices
            else:
                yield (units[0].parent.name, choices)


class UnitChoiceField(forms.ModelChoiceField):
    """Units grouped under their city or district (GroupedUnitIterator), so a long list stays readable."""

    iterator = GroupedUnitIterator

    def __init__(self, **kwargs):
        super().__init__(queryset=Organisation.objects.units().select_related("parent"), **kwargs)

    def label_from_instance(self, obj):
        return obj.name


class RegionChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(queryset=Organisation.objects.regions().select_related("parent"), **kwargs)

    def label_from_instance(self, obj):
        return f"{obj.parent.name} · {obj.name}" if obj.kind == OrgKind.DISTRICT else obj.name


class DepartmentSelect(forms.Select):
    """Each department says its unit (data-unit), so the page shows only the picked unit's (js/department-picker.js)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-unit"] = instance.parent_id
        return option


class DepartmentChoiceField(forms.ModelChoiceField):
    """Seed 000's 科室 (请选择科室): the departments the tree holds under the units."""

    widget = DepartmentSelect

    def __init__(self, **kwargs):
        queryset = Organisation.objects.filter(kind=OrgKind.DEPARTMENT).select_related("parent")
        kwargs.setdefault("empty_label", _("请选择科室"))
        super().__init__(queryset=queryset.order_by("parent__name", "name"), **kwargs)

    def label_from_instance(self, obj):
        return f"{obj.parent.name} · {obj.name}" if obj.parent_id else obj.name


def department_fields(required=False):
    """The pair every form that asks 科室 uses: picked from the unit's departments, or typed when not listed."""
    return (
        DepartmentChoiceField(label=_("科室"), required=False),
        forms.CharField(
            label=_("科室（列表中没有时填写）"),
            max_length=50,
            required=required,
            help_text=_("下拉列表中没有您的科室时，请在此填写"),
        ),
    )


class MobileField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("手机号码"))
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})

    def clean(self, value):
        value = super().clean(value)
        return validate_mobile(value) if value else value


class DocumentFieldsMixin:
    """Validates id_type + id_number together and fills birth date and sex from a resident ID."""

    document_facts = None

    def clean_document(self, cleaned):
        id_type, number = cleaned.get("id_type"), cleaned.get("id_number")
        if not id_type or not number:
            return
        try:
            facts = validate_document(id_type, number)
        except ValidationError as error:
            self.add_error("id_number", error)
            return
        self.document_facts = facts
        cleaned["id_number"] = facts.number
        if facts.birth_date:
            cleaned["birth_date"] = facts.birth_date
            cleaned["sex"] = facts.sex


class ProfileFieldsMixin:
    """The unit is picked from the tree or typed; one of the two is needed."""

    def clean_unit_choice(self, cleaned, required=True):
        unit, typed = cleaned.get("unit"), (cleaned.get("unit_name") or "").strip()
        if unit and typed:
            cleaned["unit_name"] = ""
        elif required and not unit and not typed:
            self.add_error("unit", _("请从列表选择工作单位；列表中没有时，在下方“未列出时填写”处输入单位全称。"))

    def clean_department_choice(self, cleaned, required=False):
        """A department picked must be one of the picked unit's; it is kept by name. Typing one stays allowed."""
        picked, typed = cleaned.get("department_pick"), (cleaned.get("department") or "").strip()
        if picked is not None:
            unit = cleaned.get("unit")
            if unit is None or picked.parent_id != unit.pk:
                self.add_error(
                    "department_pick",
                    _("所选科室不属于所选工作单位：请先选择工作单位再选科室；列表中没有时，在“科室（列表中没有时填写）”处输入。"),
                )
                return
            cleaned["department"] = picked.name
        elif required and not typed:
            self.add_error("department_pick", _("请选择科室；列表中没有时，在“科室（列表中没有时填写）”处输入。"))
        else:
            cleaned["department"] = typed

    def pick_known_department(self, unit, name):
        """Show a stored department as picked when it is one of the unit's nodes."""
        if unit is not None and name:
            node = Organisation.objects.filter(kind=OrgKind.DEPARTMENT, parent=unit, name=name).first()
            if node is not None:
                self.initial["department_pick"] = node.pk
                self.initial["department"] = ""


class RegistrationForm(DigitsFormMixin, DocumentFieldsMixin, ProfileFieldsMixin, forms.Form):
    digit_fields = ("birth_date", "sms_code")
    """The registration form of seed 000, field for field."""

    id_type = forms.ChoiceField(label=_("证件类型"), choices=DocumentType.choices)
    id_number = forms.CharField(
        label=_("证件号（用户名）"), max_length=32, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    name = forms.CharField(label=_("姓名"), max_length=50, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    birth_date = forms.DateField(
        label=_("出生日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("居民身份证、港澳台居民居住证将自动读取"),
    )
    sex = forms.ChoiceField(
        label=_("性别"),
        choices=Sex.choices,
        required=False,
        widget=forms.RadioSelect,
        help_text=_("居民身份证、港澳台居民居住证将自动读取"),
    )
    title = forms.ChoiceField(label=_("职称"), choices=LearnerProfile._meta.get_field("title").choices)
    position = forms.ChoiceField(label=_("职务"), choices=LearnerProfile._meta.get_field("position").choices)
    region = RegionChoiceField(label=_("所属区域"))
    unit = UnitChoiceField(label=_("工作单位"), required=False)
    unit_name = forms.CharField(
        label=_("工作单位（列表中没有时填写）"),
        max_length=100,
        required=False,
        help_text=_("下拉列表中没有您的单位时，请在此填写单位全称"),
    )
    mailing_address = forms.CharField(label=_("通讯地址"), max_length=200)
    department_pick, department = department_fields()
    password1 = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少 8 位，不能全是数字，不能与证件号、姓名相近"),
    )
    password2 = forms.CharField(
        label=_("确认密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    mobile = MobileField()
    sms_code = forms.CharField(
        label=_("短信验证码"),
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    def clean(self):
        cleaned = super().clean()
        self.clean_document(cleaned)
        if not self.document_facts or not self.document_facts.birth_date:
            for field, message in (("birth_date", _("请选择出生日期。")), ("sex", _("请选择性别。"))):
                if not cleaned.get(field) and field not in self.errors:
                    self.add_error(field, message)
        self.clean_unit_choice(cleaned)
        self.clean_department_choice(cleaned)
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("两次输入的密码不一致。"))
        elif p1:
            probe = User(id_number=cleaned.get("id_number", ""), name=cleaned.get("name", ""), mobile=cleaned.get("mobile"))
            try:
                password_validation.validate_password(p1, probe)
            except ValidationError as error:
                self.add_error("password1", error)
        if not (cleaned.get("sms_code") or "").strip():
            self.add_error("sms_code", _("请输入短信验证码；还没有收到时，请先点“获取短信验证码”。"))
        return cleaned

    def profile_data(self):
        keys = ("birth_date", "sex", "title", "position", "region", "unit", "unit_name", "mailing_address", "department")
        return {key: self.cleaned_data.get(key) or ("" if key not in ("birth_date", "region", "unit") else None) for key in keys}


class SmsRequestForm(forms.Form):
    """Only the mobile number: checked before a registration code is sent."""

    mobile = MobileField()


class LoginForm(DigitsFormMixin, forms.Form):
    digit_fields = ("identifier",)
    identifier = forms.CharField(
        label=_("证件号或手机号"), max_length=32, widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True})
    )
    password = forms.CharField(
        label=_("密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, *args, needs_captcha=False, **kwargs):
        super().__init__(*args, **kwargs)
        if needs_captcha:
            self.fields["captcha"] = CaptchaField(label=_("验证码"), help_text=_("请输入图中的 4 个字符"))


class PasswordResetForm(DigitsFormMixin, forms.Form):
    digit_fields = ("identifier", "sms_code")
    identifier = forms.CharField(label=_("证件号或手机号"), max_length=32)
    sms_code = forms.CharField(label=_("短信验证码"), max_length=6, required=False)
    new_password1 = forms.CharField(
        label=_("新密码"), strip=False, required=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label=_("确认新密码"), strip=False, required=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        cleaned = super().clean()
        for field, message in (
            ("sms_code", _("请输入短信验证码。")),
            ("new_password1", _("请输入新密码。")),
            ("new_password2", _("请再次输入新密码。")),
        ):
            if not cleaned.get(field):
                self.add_error(field, message)
        p1, p2 = cleaned.get("new_password1"), cleaned.get("new_password2")
        if p1 and p2 and p1 != p2:
            self.add_error("new_password2", _("两次输入的密码不一致。"))
        elif p1:
            try:
                password_validation.validate_password(p1)
            except ValidationError as error:
                self.add_error("new_password1", error)
        return cleaned


class ProfileForm(DigitsFormMixin, ProfileFieldsMixin, forms.ModelForm):
    digit_fields = ("birth_date",)
    """The learner completes what is missing. Birth date and sex are read from a resident ID."""

    email = forms.EmailField(label=_("电子邮箱"), required=False)
    region = RegionChoiceField(label=_("所属区域"), required=False)
    unit = UnitChoiceField(label=_("工作单位"), required=False)
    department_pick = DepartmentChoiceField(label=_("科室"), required=False)

    class Meta:
        model = LearnerProfile
        fields = [
            "sex",
            "birth_date",
            "title",
            "position",
            "education",
            "region",
            "unit",
            "unit_name",
            "department",
            "unit_location",
            "grassroots",
            "mailing_address",
            "personnel_number",
        ]
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "sex": forms.RadioSelect,
            "grassroots": forms.RadioSelect(choices=[(True, _("是")), (False, _("否"))]),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["email"].initial = user.email
        self.fields["sex"].choices = Sex.choices
        self.fields["grassroots"] = forms.TypedChoiceField(
            label=_("是否来自基层"),
            required=False,
            widget=forms.RadioSelect,
            choices=[(True, _("是")), (False, _("否"))],
            coerce=lambda value: value in (True, "True", "true", "1"),
            empty_value=None,
        )
        # 科室: picked from the unit's departments, typed when not listed (seed 000).
        self.fields["department"].label = _("科室（列表中没有时填写）")
        self.fields["department"].help_text = _("下拉列表中没有您的科室时，请在此填写")
        names = [name for name in self.fields if name != "department_pick"]
        names.insert(names.index("department"), "department_pick")
        self.order_fields(names)
        if self.instance.pk:
            self.pick_known_department(self.instance.unit, self.instance.department)
        if self.document_fixes_birth():
            for field in ("sex", "birth_date"):
                self.fields[field].disabled = True
                self.fields[field].help_text = _("由证件号读取，不可修改")

    def clean_personnel_number(self):
        return canonical_personnel_number(self.cleaned_data.get("personnel_number"))

    def document_fixes_birth(self):
        return self.user.id_type in (DocumentType.RESIDENT_ID, DocumentType.HMT_RESIDENCE_PERMIT)

    def clean(self):
        cleaned = super().clean()
        self.clean_unit_choice(cleaned, required=False)
        self.clean_department_choice(cleaned)
        return cleaned


class HandoverForm(forms.Form):
    """A unit admin hands an account over to the real holder of its document number, who stands at the desk."""

    id_number = forms.CharField(label=_("证件号"), max_length=32)
    new_mobile = MobileField(label=_("本人手机号"), help_text=_("验证码发到这个手机号，由本人当面读出。"))
    sms_code = forms.CharField(label=_("短信验证码"), max_length=6, required=False)
    name = forms.CharField(label=_("姓名（需更正时填写）"), max_length=50, required=False)
    reason = forms.CharField(label=_("移交理由"), max_length=200, widget=forms.Textarea(attrs={"rows": 2}))
    document_checked = forms.BooleanField(label=_("已当面核验本人身份证件"), required=False)
