from html import escape as _escape

from django import forms
from django.forms.utils import flatatt
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from cme_portal.accounts.forms import DocumentFieldsMixin, MobileField, UnitChoiceField
from cme_portal.accounts.models import DocumentType, Education, Position, Sex, Title

from .models import AttendancePlan, DoorPolicy, SurveyTemplate

BIG = {"class": "form-control form-control-lg"}


class IdentifyForm(forms.Form):
    identifier = forms.CharField(
        label=_("身份证号码"),
        max_length=32,
        widget=forms.TextInput(attrs={**BIG, "autocomplete": "off", "autofocus": True, "inputmode": "text"}),
    )


class CheckOutIdentifyForm(IdentifyForm):
    identifier = forms.CharField(
        label=_("手机号或身份证号码"),
        max_length=32,
        widget=forms.TextInput(attrs={**BIG, "autocomplete": "off", "autofocus": True}),
    )


class DoorRegistrationForm(DocumentFieldsMixin, forms.Form):
    """Seed 001's check-in form for a learner the portal does not know yet."""

    id_type = forms.ChoiceField(label=_("证件类型"), choices=DocumentType.choices, initial=DocumentType.RESIDENT_ID)
    id_number = forms.CharField(label=_("身份证号码"), max_length=32)
    name = forms.CharField(label=_("姓名"), max_length=50)
    sex = forms.ChoiceField(
        label=_("性别"),
        choices=Sex.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text=_("身份证号码可自动读取，其他证件请选择"),
    )
    age = forms.IntegerField(
        label=_("年龄"), min_value=16, max_value=100, required=False, help_text=_("身份证号码可自动读取，其他证件请填写")
    )
    mobile = MobileField()
    sms_code = forms.CharField(
        label=_("短信验证码"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=_("先点“获取验证码”，验证码发到上面填写的手机号；以后只能用这个手机号认领账号。"),
    )
    unit = UnitChoiceField(label=_("单位"), required=False)
    unit_name = forms.CharField(label=_("单位（列表中没有时填写）"), max_length=100, required=False)
    department = forms.CharField(label=_("科室"), max_length=50)
    unit_location = forms.CharField(label=_("单位所在地"), max_length=50)
    grassroots = forms.TypedChoiceField(
        label=_("是否来自基层"),
        choices=[("1", _("是")), ("0", _("否"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    title = forms.ChoiceField(label=_("职称"), choices=Title.choices)
    position = forms.ChoiceField(label=_("职务"), choices=[("", "—")] + Position.choices, required=False)
    education = forms.ChoiceField(label=_("学历"), choices=[("", "—")] + Education.choices, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .selectors import door_unit_choices

        # The list as shown, kept a minute (the unit picked is still looked up in the database when submitted).
        self.fields["unit"].choices = door_unit_choices(self.fields["unit"])

    def clean(self):
        cleaned = super().clean()
        self.clean_document(cleaned)
        facts = self.document_facts
        if facts and facts.birth_date:
            from datetime import date

            today = date.today()
            born = facts.birth_date
            cleaned["age"] = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        else:
            for field, message in (("sex", _("请选择性别。")), ("age", _("请填写年龄。"))):
                if not cleaned.get(field) and field not in self.errors:
                    self.add_error(field, message)
        if not cleaned.get("unit") and not (cleaned.get("unit_name") or "").strip():
            self.add_error("unit", _("请选择单位；列表中没有时，在下一栏填写单位全称。"))
        return cleaned


class SurveyForm(forms.Form):
    """Built from a SurveyTemplate: radio buttons, or checkboxes for "choose two"."""

    def __init__(self, *args, template, **kwargs):
        super().__init__(*args, **kwargs)
        for number, question in enumerate(template.questions, start=1):
            choices = [(option, template.shown(option)) for option in question["options"]]
            label = f"{number}. {template.shown(question['text'])}"
            if int(question.get("choose", 1)) > 1:
                self.fields[question["key"]] = forms.MultipleChoiceField(
                    label=label, choices=choices, widget=forms.CheckboxSelectMultiple, required=False
                )
            else:
                self.fields[question["key"]] = forms.ChoiceField(
                    label=label, choices=choices, widget=forms.RadioSelect, required=False
                )

    def answers(self):
        data = {}
        for key in self.fields:
            value = self.data.getlist(key) if hasattr(self.data, "getlist") else self.data.get(key, [])
            data[key] = value if isinstance(value, list) else [value]
        return data


class PlanForm(forms.ModelForm):
    refresh_minutes = forms.IntegerField(
        label=_("投影二维码刷新周期（分钟）"),
        min_value=1,
        max_value=1440,
        help_text=_(
            "默认 2 分钟：投影的二维码拍照转发后很快失效。打印的海报使用当天有效的二维码，名单会标明用海报码扫码的学员。"
        ),
    )
    survey = forms.ModelChoiceField(
        label=_("撤离调查问卷"), queryset=SurveyTemplate.objects.all(), required=False, empty_label=_("默认问卷")
    )

    class Meta:
        model = AttendancePlan
        fields = ["mode", "day_start", "day_end", "required_hours", "grace_minutes", "one_device_one_person"]
        widgets = {"day_start": forms.TimeInput(attrs={"type": "time"}), "day_end": forms.TimeInput(attrs={"type": "time"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["refresh_minutes"].initial = self.instance.refresh_seconds // 60

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("day_start") and cleaned.get("day_end") and cleaned["day_end"] <= cleaned["day_start"]:
            self.add_error("day_end", _("每日结束时间应晚于开始时间。"))
        return cleaned

    def save(self, commit=True):
        self.instance.refresh_seconds = self.cleaned_data["refresh_minutes"] * 60
        return super().save(commit)


class SurveyTemplateForm(forms.ModelForm):
    """Questions as text, one a line: 题目 | 选项一/选项二/… | 选几项."""

    text = forms.CharField(
        label=_("题目"),
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("每行一题：题目 | 选项一/选项二/选项三 | 选几项（1 或 2）"),
    )

    class Meta:
        model = SurveyTemplate
        fields = ["name", "is_default"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["text"].initial = "\n".join(
                f"{q['text']} | {'/'.join(q['options'])} | {q.get('choose', 1)}" for q in self.instance.questions
            )

    def clean_text(self):
        questions = []
        for number, line in enumerate(self.cleaned_data["text"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")]
            options = [o.strip() for o in parts[1].split("/") if o.strip()] if len(parts) > 1 else []
            choose = parts[2] if len(parts) > 2 else "1"
            if len(parts) not in (2, 3) or len(options) < 2 or not choose.isdigit() or not 1 <= int(choose) < len(options):
                raise forms.ValidationError(
                    _("第 %(n)s 行格式不对：应为“题目 | 选项一/选项二 | 选几项”，至少两个选项。") % {"n": number}
                )
            questions.append({"key": f"q{len(questions) + 1}", "text": parts[0], "options": options, "choose": int(choose)})
        if not questions:
            raise forms.ValidationError(_("请至少填写一道题。"))
        return questions

    def save(self, commit=True):
        self.instance.questions = self.cleaned_data["text"]
        return super().save(commit)


class DoorPolicyForm(forms.ModelForm):
    class Meta:
        model = DoorPolicy
        fields = ["grace_minutes"]


class DrawnField:
    """One field of a door form as templates/attendance/register.html draws it: the bound field (label, errors,
    help text) and its control's HTML, built here in one pass.

    The door's registration form is the page every first-timer at a conference's door fills (and sees again
    after asking for the SMS code); drawn with crispy-forms and Django's widget templates it took two thirds of
    their CPU at the door (issue 12, item 4). The markup is crispy's Bootstrap 5 markup: the same ids, classes
    and ARIA attributes (Django's ``BoundField.build_widget_attrs``: required, aria-invalid, aria-describedby).
    """

    def __init__(self, bound):
        self.field = bound
        widget = bound.field.widget
        self.kind = (
            "radios" if isinstance(widget, forms.RadioSelect) else "select" if isinstance(widget, forms.Select) else "input"
        )
        self.control = self._control(bound, widget)

    @staticmethod
    def _chosen(bound):
        value = bound.value()
        return {str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v is not None}

    def _control(self, bound, widget):
        errors = " is-invalid" if bound.errors else ""
        if self.kind == "radios":
            chosen, attrs = self._chosen(bound), flatatt(bound.build_widget_attrs({}))
            name, auto_id = escape(bound.html_name), escape(bound.auto_id)
            return mark_safe(
                "".join(
                    f'<div class="form-check"><input type="radio" class="form-check-input{errors}" name="{name}" '
                    f'value="{escape(value)}" id="{auto_id}_{i}"{attrs}{" checked" if str(value) in chosen else ""}>'
                    f'<label for="{auto_id}_{i}" class="form-check-label">{escape(label)}</label></div>'
                    for i, (value, label) in enumerate(bound.field.choices)
                )
            )
        attrs = bound.build_widget_attrs({**widget.attrs, "id": bound.auto_id})
        if self.kind == "select":
            chosen = self._chosen(bound)

            def option(value, label):
                return f'<option value="{escape(value)}"{" selected" if str(value) in chosen else ""}>{escape(label)}</option>'

            options = "".join(
                f'<optgroup label="{escape(value)}">{"".join(option(*choice) for choice in label)}</optgroup>'
                if isinstance(label, list | tuple)
                else option(value, label)
                for value, label in bound.field.choices
            )
            return mark_safe(
                f'<select name="{escape(bound.html_name)}" class="select form-select{errors}"{flatatt(attrs)}>{options}</select>'
            )
        value = widget.format_value(bound.value())
        if value is not None and widget.input_type != "password":
            attrs["value"] = value
        return mark_safe(
            f'<input type="{escape(widget.input_type)}" name="{escape(bound.html_name)}" '
            f'class="{escape(widget.input_type)}input form-control{errors}"{flatatt(attrs)}>'
        )


def escape(value):
    """HTML-escaped text of ``value`` (a lazy translation, a number, a choice's value), quotes included."""
    return _escape(str(value))


def drawn_fields(form):
    """``DrawnField`` for each of ``form``'s visible fields, in order."""
    return [DrawnField(bound) for bound in form if not bound.is_hidden]
