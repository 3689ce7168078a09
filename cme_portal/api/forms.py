from django import forms
from django.utils.translation import gettext_lazy as _

from cme_portal.accounts.models import Organisation, OrgKind
from credits.models import Platform

from .models import TokenKind


class TokenForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=TokenKind.choices, widget=forms.RadioSelect, initial=TokenKind.PLATFORM)
    name = forms.CharField(label=_("用途说明"), max_length=100, help_text=_("如“华医网学分推送”“某院人事系统”"))
    platform = forms.ModelChoiceField(label=_("平台"), queryset=Platform.objects.none(), required=False)
    org = forms.ModelChoiceField(
        label=_("可读范围"),
        queryset=Organisation.objects.none(),
        required=False,
        help_text=_("单位令牌：该机构及其下级单位的学员"),
    )
    include_personal = forms.BooleanField(
        label=_("可见完整证件号和手机号"), required=False, help_text=_("仅在省继教办决定该单位系统确需完整信息时勾选")
    )

    def __init__(self, *args, province=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].queryset = Platform.objects.filter(active=True).order_by("name")
        if province is not None:
            self.fields["org"].queryset = Organisation.objects.subtree(province).exclude(kind=OrgKind.DEPARTMENT).order_by("path")
