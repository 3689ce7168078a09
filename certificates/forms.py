from captcha.fields import CaptchaField
from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from projects.models import Session


class ByDocumentForm(forms.Form):
    id_number = forms.CharField(label=gettext_lazy("证件号"), max_length=32)
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=50)
    captcha = CaptchaField(label=gettext_lazy("验证码"))


class ByProjectForm(forms.Form):
    project_number = forms.CharField(label=gettext_lazy("项目编号"), max_length=64)
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=50)
    captcha = CaptchaField(label=gettext_lazy("验证码"))


class BulkForm(forms.Form):
    session = forms.ModelChoiceField(label=gettext_lazy("按期次"), queryset=Session.objects.none(), required=False)
    year = forms.IntegerField(label=gettext_lazy("或按年度（本单位全部）"), required=False, min_value=2000, max_value=2100)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("session") and not cleaned.get("year"):
            raise forms.ValidationError(_("请选择期次，或填写年度。"))
        return cleaned
