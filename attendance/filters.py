"""Search and filters of the roster queues (django-filter)."""

import django_filters
from django import forms
from django.db.models import Case, DateField, F, Q, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from cme_portal.review.filters import QueueFilterSet


class RosterFilter(QueueFilterSet):
    """Rosters waiting for the unit or the province; ``show=all`` shows every roster in scope."""

    ordering = ("current_due", "pk")

    q = django_filters.CharFilter(
        label=_("搜索"), method="search", widget=forms.TextInput(attrs={"placeholder": _("项目名称、编号或单位")})
    )
    show = django_filters.ChoiceFilter(
        label=_("范围"), choices=[("all", _("全部"))], empty_label=_("待我处理"), method=lambda queryset, name, value: queryset
    )

    def filter_queryset(self, queryset):
        # Whoever holds a roster, its deadline first: the province's once forwarded, the unit's before.
        current = Case(
            When(state="forwarded", then=Coalesce("province_due_date", "due_date")),
            default=F("due_date"),
            output_field=DateField(),
        )
        return super().filter_queryset(queryset.annotate(current_due=current))

    def shows_all(self):
        return self.form.cleaned_data.get("show") == "all"

    def search(self, queryset, name, value):
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(
            Q(session__project__name__icontains=text)
            | Q(session__project__number__icontains=text)
            | Q(unit__name__icontains=text)
        )
