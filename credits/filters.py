"""Search and filters of the credit lists (django-filter)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cme_portal.review.filters import QueueFilterSet

from .models import Category, EntryState
from .rules import ENTERABLE


class EntryFilter(QueueFilterSet):
    """The unit, city and province queues of credit entries; early-review candidates first."""

    ordering = ("-early", "state_changed_at", "pk")

    q = django_filters.CharFilter(
        label=_("搜索"), method="search", widget=forms.TextInput(attrs={"placeholder": _("姓名、证件号、活动名称或编号")})
    )
    year = django_filters.NumberFilter(label=_("年度"))
    category = django_filters.ChoiceFilter(
        label=_("类型"), choices=[(c, Category(c).label) for c in ENTERABLE], empty_label=_("全部类型")
    )
    state = django_filters.ChoiceFilter(
        label=_("状态"), choices=EntryState.choices, empty_label=_("待我审核"), method="filter_state"
    )

    def search(self, queryset, name, value):
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(
            Q(learner__name__icontains=text)
            | Q(learner__id_number=text.upper())
            | Q(activity_name__icontains=text)
            | Q(activity_number__icontains=text)
        )
