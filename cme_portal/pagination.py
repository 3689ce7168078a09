"""One way to page a list: the page-size choice the seeds show (10 / 20 / 50) and the count.

Every list page calls ``paginate`` and includes ``templates/includes/pagination.html``; the
include keeps the filters across pages, and for a list answered to a POST (the certificate
query: document numbers stay out of addresses) it pages through the same form (``form_id``).
"""

from django.core.paginator import Paginator

PAGE_SIZES = (10, 20, 50)


def page_size(data, default):
    sizes = sorted({*PAGE_SIZES, default})
    value = str(data.get("per_page", "")).strip()
    size = int(value) if value.isdigit() else default
    return size if size in sizes else default, sizes


def paginate(request, queryset, default=20, *, data=None):
    """The page of ``queryset`` the request asks for (``page``, ``per_page``), with ``page_sizes``."""
    data = request.GET if data is None else data
    size, sizes = page_size(data, default)
    page = Paginator(queryset, size).get_page(data.get("page"))
    page.page_sizes = sizes
    page.per_page = size
    return page
