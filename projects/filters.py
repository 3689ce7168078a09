"""Search and filters of the project lists (django-filter), with the query strings the pages always had."""

import django_filters
from django import forms
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from cme_portal.review.filters import QueueFilterSet

from . import numbers
from .models import Level, ProjectStatus, SessionState


def search_sessions(queryset, name, value):
    text = (value or "").strip()
    if not text:
        return queryset
    return queryset.filter(
        Q(project__number_key__icontains=numbers.canonical(text))
        | Q(project__name__icontains=text)
        | Q(project__leader__icontains=text)
        | Q(unit__name__icontains=text)
        | Q(venue__icontains=text)
    )


def _q():
    return django_filters.CharFilter(
        label=_("搜索"), method=search_sessions, widget=forms.TextInput(attrs={"placeholder": _("编号、名称、负责人、单位")})
    )


class MySessionFilter(django_filters.FilterSet):
    """The organiser's own applications."""

    q = _q()
    # Seed 001's search line: 项目年份 项目级别 项目名称 项目负责人.
    year = django_filters.NumberFilter(label=_("项目年份"), field_name="project__year")
    level = django_filters.ChoiceFilter(
        label=_("项目级别"), field_name="project__level", choices=Level.choices, empty_label=_("全部")
    )
    name = django_filters.CharFilter(label=_("项目名称"), field_name="project__name", lookup_expr="icontains")
    leader = django_filters.CharFilter(label=_("项目负责人"), field_name="project__leader", lookup_expr="icontains")
    state = django_filters.ChoiceFilter(label=_("状态"), choices=SessionState.choices, empty_label=_("全部"))


SORTS = {"": ("state_changed_at", "pk"), "-state_changed_at": ("-state_changed_at", "pk"), "start_date": ("start_date", "pk")}


class SessionFilter(QueueFilterSet):
    """The unit admin's and province admin's queues of hosting applications."""

    q = _q()
    year = django_filters.NumberFilter(label=_("年份"), field_name="project__year")
    level = django_filters.ChoiceFilter(
        label=_("级别"), field_name="project__level", choices=Level.choices, empty_label=_("全部级别")
    )
    state = django_filters.ChoiceFilter(
        label=_("状态"), choices=SessionState.choices, empty_label=_("待我处理"), method="filter_state"
    )
    sort = django_filters.ChoiceFilter(
        label=_("排序"),
        method=lambda queryset, name, value: queryset,
        empty_label=_("最早提交在前"),
        choices=[("-state_changed_at", _("最近提交在前")), ("start_date", _("举办日期"))],
    )

    def order(self):
        return SORTS.get(self.form.cleaned_data.get("sort") or "", SORTS[""])


class PublicProjectFilter(django_filters.FilterSet):
    """Anonymous project query (seed 001 §1.1): year, level, number, name, discipline, leader, status."""

    year = django_filters.NumberFilter(label=_("项目年份"))
    level = django_filters.ChoiceFilter(label=_("项目级别"), choices=Level.choices, empty_label=_("全部"))
    number = django_filters.CharFilter(label=_("项目编号"), method="filter_number")
    name = django_filters.CharFilter(label=_("项目名称"), method="filter_name")
    discipline = django_filters.CharFilter(label=_("学科"), method="filter_discipline")
    leader = django_filters.CharFilter(label=_("项目负责人"), method="filter_leader")
    status = django_filters.ChoiceFilter(
        label=_("状态"),
        method="filter_status",
        empty_label=_("全部"),
        choices=[("published", _("已公布")), ("approved", _("已获准举办")), ("suspended", _("已暂停"))],
    )

    def filter_number(self, queryset, name, value):
        return queryset.filter(number_key__icontains=numbers.canonical(value)) if value.strip() else queryset

    def filter_name(self, queryset, name, value):
        return queryset.filter(name__icontains=value.strip())

    def filter_leader(self, queryset, name, value):
        return queryset.filter(leader__icontains=value.strip())

    def filter_discipline(self, queryset, name, value):
        term = value.strip()
        return queryset.filter(
            Q(discipline__name__icontains=term)
            | Q(discipline__parent__name__icontains=term)
            | Q(discipline__code__startswith=term)
        )

    def filter_status(self, queryset, name, value):
        if value == "approved":
            return queryset.filter(sessions__state=SessionState.APPROVED).distinct()
        if value in (ProjectStatus.PUBLISHED, ProjectStatus.SUSPENDED):
            return queryset.filter(status=value)
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        return queryset.annotate(approved_sessions=Count("sessions", filter=Q(sessions__state=SessionState.APPROVED))).order_by(
            "-year", "number_key"
        )
