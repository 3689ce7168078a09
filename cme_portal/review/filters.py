"""The filter base every review queue uses (django-filter).

An empty ``state`` means "what waits for me": the queue states of the viewer's
role; choosing a state shows the whole scope in that state.

A queue pages through ``rows()``: its ``ordering`` read by an index, with the rows that
come first (``first``, a boolean annotation such as early review) as a part of their own
(cme_portal.pagination.Parts), so no page sorts the whole queue (issue 12).
"""

import django_filters

from cme_portal.pagination import Parts


class QueueFilterSet(django_filters.FilterSet):
    ordering = ("state_changed_at", "pk")
    # A boolean annotation whose true rows come before all others (ordering starts with "-<first>").
    first = None
    # Filters that only order the rows: a queue using none of the others shows exactly what waits.
    ordering_filters = ("sort",)

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

    def narrows(self):
        """Whether a filter is in use that keeps fewer rows than "what waits for me"."""
        data = self.form.cleaned_data
        return any(value not in (None, "") for name, value in data.items() if name not in self.ordering_filters)

    def rows(self):
        """The filtered rows in queue order, for the paginator: ``first`` rows, then the rest, each part in
        the order after ``first`` (an index's order) instead of one sort of every row by the flag."""
        queryset = self.qs
        if not self.first:
            return queryset
        rest = [key for key in self.order() if key.lstrip("-") != self.first]
        return Parts(
            queryset.filter(**{self.first: True}).order_by(*rest), queryset.filter(**{self.first: False}).order_by(*rest)
        )

    def filter_state(self, queryset, name, value):
        return queryset.filter(state=value) if value else queryset
