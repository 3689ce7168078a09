"""Search and filters of the credit lists (django-filter)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cme_portal.accounts.models import StaffCategory
from cme_portal.review.filters import QueueFilterSet

from .models import Category, CorrectionState, EntryState
from .rules import ENTERABLE


class EntryFilter(QueueFilterSet):
    """The unit, city and province queues of credit entries; early-review candidates first."""

    ordering = ("-early", "state_changed_at", "pk")
    first = "early"

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


def _keep(queryset, name, value):
    """Read by the selector before filtering (it picks the year's sums and the subtree)."""
    return queryset


class ComplianceFilter(django_filters.FilterSet):
    """The compliance report's filters: year and unit choose what is summed, the rest filter the learners."""

    year = django_filters.NumberFilter(label=_("年度"), method=_keep)
    unit = django_filters.ModelChoiceFilter(label=_("单位"), queryset=None, empty_label=_("全部单位"), method=_keep)
    staff_category = django_filters.ChoiceFilter(label=_("人员类别"), choices=StaffCategory.choices, empty_label=_("全部"))
    compliant = django_filters.ChoiceFilter(
        label=_("达标"), choices=[("yes", _("已达标")), ("no", _("未达标"))], empty_label=_("全部"), method="filter_compliant"
    )
    q = django_filters.CharFilter(label=_("姓名或证件号"), method="search")

    def __init__(self, data=None, queryset=None, *, units, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.filters["unit"].queryset = units
        self.form.fields["unit"].queryset = units

    def filter_compliant(self, queryset, name, value):
        return queryset.filter(compliant=value == "yes") if value in ("yes", "no") else queryset

    def search(self, queryset, name, value):
        text = value.strip()
        return queryset.filter(Q(user__name__icontains=text) | Q(user__id_number=text.upper())) if text else queryset

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset).order_by("unit__path", "user__name", "pk")


class CorrectionFilter(QueueFilterSet):
    """The province's queue of correction requests."""

    ordering = ("state_changed_at", "pk")

    q = django_filters.CharFilter(
        label=_("搜索"), method="search", widget=forms.TextInput(attrs={"placeholder": _("姓名、证件号或活动名称")})
    )
    state = django_filters.ChoiceFilter(
        label=_("状态"), choices=CorrectionState.choices, empty_label=_("待我审核"), method="filter_state"
    )

    def search(self, queryset, name, value):
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(
            Q(learner__name__icontains=text) | Q(learner__id_number=text.upper()) | Q(record__activity_name__icontains=text)
        )
