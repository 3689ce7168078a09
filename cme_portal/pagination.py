"""One way to page a list: the page-size choice the seeds show (10 / 20 / 50) and the count.

Every list page calls ``paginate`` and includes ``templates/includes/pagination.html``; the
include keeps the filters across pages, and for a list answered to a POST (the certificate
query: document numbers stay out of addresses) it pages through the same form (``form_id``).

Counts are bounded, as search engines show them (issue 12): a list counts at most
``LIST_COUNT_BOUND`` + 1 rows (``SELECT COUNT(*) FROM (… LIMIT n + 1)``), so a queue of a
million rows costs what one of ten thousand does, and says "10,000+ 条". Past the bound the pages
still work: a page reads one row more than it shows to know whether a next page exists, and
the links jump only within the range the count has seen.
"""

import math
from functools import cached_property

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import models
from django.db.models import IntegerField, Subquery
from django.utils.formats import number_format
from django.utils.translation import gettext as _

PAGE_SIZES = (10, 20, 50)
DEEPEST = 10  # past the bound, pages are served up to ten times the counted range


def count_bound():
    """The most rows a list or a badge counts before it says "N+" (settings.LIST_COUNT_BOUND, 10,000)."""
    return getattr(settings, "LIST_COUNT_BOUND", 10_000)


def bounded_label(count, bound=None):
    """``count`` as a badge shows it: the number, or "10,000+" past the bound."""
    bound = count_bound() if bound is None else bound
    if count > bound:
        # Translators: a count past the bound it was counted to, as "10,000+".
        return _("%(bound)s+") % {"bound": number_format(bound, force_grouping=True)}
    return str(count)


def bounded_count(queryset, limit):
    """How many rows ``queryset`` has, reading at most ``limit`` of them: one query."""
    if limit <= 0:
        return 0
    return queryset.order_by().values("pk")[:limit].count()


class BoundedCount(Subquery):
    """``(SELECT COUNT(*) FROM (<queryset> LIMIT bound + 1))`` as an expression: a badge's count in the
    one query of the navigation, never reading more than ``bound`` + 1 rows."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) bounded)"
    output_field = IntegerField()

    def __init__(self, queryset, bound=None):
        bound = count_bound() if bound is None else bound
        super().__init__(queryset.order_by().values("pk")[: bound + 1])


def window(rows, start, stop):
    """``rows[start:stop]`` as a list. Past the first page of a queryset, the window's keys are found first by
    the ordering alone (an index walk carrying no annotations) and only those rows are read with everything
    the page shows: ``OFFSET 8000`` would otherwise compute each skipped row's subqueries (the catalogue
    look-ups of a credit queue) 8,000 times. Still one query."""
    if isinstance(rows, Parts) or not isinstance(rows, models.QuerySet) or not start or rows.query.combinator:
        return list(rows[start:stop])  # a union cannot be filtered: sliced as it is
    return list(rows.filter(pk__in=rows.values("pk")[start:stop]))


class Parts:
    """Querysets shown one after another, each in its own order, as one list to page through.

    A queue whose first rows are a small set (early-review candidates) and whose rest is in the
    order of an index is two index scans this way, where one ``ORDER BY <flag>, …`` would sort
    every row. Counting and slicing go part by part (one query each); the paginator treats it as
    a queryset.
    """

    def __init__(self, *parts):
        self.parts = parts

    def bounded_count(self, limit):
        total, sizes = 0, []
        for part in self.parts:
            size = bounded_count(part, limit - total)
            sizes.append(size if total + size < limit else None)  # None: counted only up to the bound
            total += size
        if None not in sizes[:-1]:
            self.__dict__["_sizes"] = sizes[:-1]  # the slices need no count of their own
        return total

    @cached_property
    def _sizes(self):
        # The first parts' sizes, needed to slice the later ones: small by design, and bounded all the same
        # (past the bound the later parts start at the bound, as pages past it are only approximately placed).
        return [bounded_count(part, count_bound() + 1) for part in self.parts[:-1]]

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop
        rows, offset = [], 0
        for n, part in enumerate(self.parts):
            size = self._sizes[n] if n < len(self._sizes) else None
            end = None if stop is None else stop - offset
            if (size is None or start - offset < size) and (end is None or end > 0):
                begin = max(start - offset, 0)
                end = end if size is None or end is None else min(end, size)
                rows += window(part, begin, end)
            if size is None:
                break
            offset += size
        return rows


class BoundedPage(Page):
    """A page of a list counted only up to its bound: whether there is a next page is read, not computed."""

    def __init__(self, object_list, number, paginator, *, more):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self):
        return self.more

    def end_index(self):
        return self.start_index() + len(self.object_list) - 1 if self.object_list else 0


class BoundedPaginator(Paginator):
    """A Paginator whose count reads at most ``bound`` + 1 rows; ``exact`` is False past the bound.

    Past the bound, ``num_pages`` is the last page the count has seen (links jump only that far),
    pages after it are still served, and each such page reads ``per_page`` + 1 rows.
    """

    def __init__(self, object_list, per_page, *, bound=None, count=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.bound = count_bound() if bound is None else bound
        if count is not None:
            # Counted already, to the same bound (the navigation's count of an unfiltered queue).
            self.__dict__["count"] = min(count, self.bound + 1)

    @cached_property
    def count(self):
        rows = self.object_list
        if isinstance(rows, Parts):
            return rows.bounded_count(self.bound + 1)
        if isinstance(rows, models.QuerySet):
            return bounded_count(rows, self.bound + 1)
        return super().count

    @property
    def exact(self):
        return self.count <= self.bound

    @property
    def count_label(self):
        """ "共 N 条" with the exact number, or "共 10,000+ 条" past the bound."""
        return bounded_label(self.count, self.bound)

    @cached_property
    def num_pages(self):
        if self.exact:
            return super().num_pages
        return math.ceil(self.bound / self.per_page)

    def validate_number(self, number):
        if self.exact:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(_("页码不是整数")) from None
        if number < 1:
            raise EmptyPage(_("页码小于 1"))
        if number > self.num_pages * DEEPEST:
            # Past ten times the counted range a page is a long OFFSET walk that nobody reaches by 下一页;
            # filters narrow a list that long. (get_page answers with the last counted page.)
            raise EmptyPage(_("该页没有结果"))
        return number

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if self.exact:
            top = bottom + self.per_page
            if top + self.orphans >= self.count:
                top = self.count
            return self._get_page(window(self.object_list, bottom, top), number, self)
        rows = window(self.object_list, bottom, bottom + self.per_page + 1)
        if not rows:
            raise EmptyPage(_("该页没有结果"))
        return BoundedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)

    def get_page(self, number):
        try:
            return self.page(number)
        except PageNotAnInteger:
            return self.page(1)
        except EmptyPage:
            return self.page(self.num_pages)


def page_size(data, default):
    sizes = sorted({*PAGE_SIZES, default})
    value = str(data.get("per_page", "")).strip()
    size = int(value) if value.isdigit() else default
    return size if size in sizes else default, sizes


def paginate(request, queryset, default=20, *, data=None, count=None):
    """The page of ``queryset`` the request asks for (``page``, ``per_page``), with ``page_sizes``.

    The count is bounded (``BoundedPaginator``): "共 10,000+ 条" past ``LIST_COUNT_BOUND``; ``count``,
    when given, is the rows' bounded count already known (no query for it).
    """
    data = request.GET if data is None else data
    size, sizes = page_size(data, default)
    page = BoundedPaginator(queryset, size, count=count).get_page(data.get("page"))
    page.page_sizes = sizes
    page.per_page = size
    return page
