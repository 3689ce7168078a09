from django import forms
from django.utils.translation import gettext_lazy as _

from cme_portal.accounts.models import Organisation

from .services import ANSWER_MAX, DESCRIPTION_MAX, PAGE_URL_MAX, SUBJECT_MAX


class ProblemReportForm(forms.Form):
    subject = forms.CharField(
        label=_("问题概要"), max_length=SUBJECT_MAX, help_text=_("60 字以内，如：录入学分时提示项目编号格式不正确")
    )
    description = forms.CharField(
        label=_("问题描述"),
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("在哪个页面、做了什么、看到了什么提示；请不要填写密码或验证码。"),
    )
    page_url = forms.CharField(
        label=_("出现问题的页面（可不填）"), max_length=PAGE_URL_MAX, required=False, help_text=_("已按您来的页面自动填写。")
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("答复"),
        max_length=ANSWER_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("学员会在消息通知中看到；请写明原因、已做的处理或下一步该怎么做。"),
    )


class ContactForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["contact_phone", "office_hours", "office_address"]
        widgets = {
            "contact_phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        }
        help_texts = {
            "office_hours": _("如：工作日 8:30-11:30，14:00-17:00"),
            "office_address": _("如：行政楼 3 楼 305 室"),
        }

    def clean_contact_phone(self):
        from cme_portal.accounts.services import clean_contact_phone
        from cme_portal.errors import DomainError

        try:
            return clean_contact_phone(self.cleaned_data["contact_phone"])
        except DomainError as error:
            raise forms.ValidationError(error.message, code=error.code) from error

    def validate_unique(self):
        """Only the contact is edited here; the node's name and parent are not, so nothing else to check."""
