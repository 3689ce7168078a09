"""Search and filters of the problem reports' list (django-filter, like every other list)."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ProblemReportFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("问题概要、反馈人或受理机构"), method="search")
    state = django_filters.ChoiceFilter(
        label=_("状态"), choices=[("open", _("待答复")), ("answered", _("已答复"))], empty_label=_("全部"), method="answered"
    )

    def search(self, queryset, name, value):
        text = value.strip()[:50]
        if not text:
            return queryset
        return queryset.filter(Q(subject__icontains=text) | Q(reporter__name__icontains=text) | Q(org__name__icontains=text))

    def answered(self, queryset, name, value):
        return queryset.filter(answered_at__isnull=value == "open") if value in ("open", "answered") else queryset
