"""Search of the province's certificate list (django-filter)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CertificateFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("搜索"), method="search", widget=forms.TextInput(attrs={"placeholder": _("证书编号、姓名或项目名称")})
    )

    def search(self, queryset, name, value):
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(Q(number=text.upper()) | Q(learner__name=text) | Q(record__activity_name__icontains=text))
