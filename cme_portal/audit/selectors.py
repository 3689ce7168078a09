"""Reading the audit log: the province admin's filters (django-filter), newest first."""

import django_filters
from auditlog.models import LogEntry
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .services import TRACKED

EXPLICIT_KINDS = ("projects.CatalogueImport", "credits.Platform", "certificates.Certificate")


def _kind_choices():
    from django.apps import apps

    labels = sorted({label for label, _options in TRACKED} | set(EXPLICIT_KINDS))
    return [(label, apps.get_model(label)._meta.verbose_name) for label in labels]


class AuditFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("对象或操作人"), method="search")
    kind = django_filters.ChoiceFilter(label=_("对象类型"), choices=_kind_choices, method="by_kind")
    action = django_filters.ChoiceFilter(label=_("操作"), choices=LogEntry.Action.choices)
    since = django_filters.DateFilter(label=_("起始日期"), field_name="timestamp", lookup_expr="date__gte")
    until = django_filters.DateFilter(label=_("截止日期"), field_name="timestamp", lookup_expr="date__lte")

    class Meta:
        model = LogEntry
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(object_repr__icontains=value) | Q(actor__name__icontains=value) | Q(additional_data__event__icontains=value)
        )

    def by_kind(self, queryset, name, value):
        app_label, _dot, model = value.partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model.lower())


def audit_entries(*, filters=None):
    """The log, newest first, filtered by ``filters`` (a QueryDict); returns the FilterSet (``.qs``, ``.form``)."""
    queryset = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")
    return AuditFilter(filters, queryset=queryset)
