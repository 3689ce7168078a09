"""The filter base every review queue uses (django-filter).

An empty ``state`` means "what waits for me": the queue states of the viewer's
role; choosing a state shows the whole scope in that state.
"""

import django_filters


class QueueFilterSet(django_filters.FilterSet):
    ordering = ("state_changed_at", "pk")

    def __init__(self, data=None, queryset=None, *, role, **kwargs):
        self.role = role
        super().__init__(data, queryset, **kwargs)

    def shows_all(self):
        return bool(self.form.cleaned_data.get("state"))

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.shows_all():
            queryset = queryset.filter(state__in=queryset.model.workflow.queue_states(self.role))
        return queryset.order_by(*self.order())

    def order(self):
        return self.ordering

    def filter_state(self, queryset, name, value):
        return queryset.filter(state=value) if value else queryset
