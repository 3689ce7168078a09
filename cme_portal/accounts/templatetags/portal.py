from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def query_replace(context, **changes):
    """The current query string with ``changes`` applied: keeps filters across pages and sorts."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


@register.filter
def mask_id(value):
    from cme_portal.accounts.validators import mask_id_number

    return mask_id_number(value)


@register.filter
def mask_phone(value):
    from cme_portal.accounts.validators import mask_mobile

    return mask_mobile(value)


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` in a template (or nothing)."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def id_region_note(value):
    """A reviewer's note when a resident ID's region code is unknown (never a refusal)."""
    from cme_portal.accounts.validators import region_note

    return region_note(value)


@register.simple_tag
def punct(char):
    """A Chinese punctuation mark in the page's language: {% punct "：" %} is ": " in English."""
    from cme_portal.punctuation import mark

    return mark(char)


@register.filter
def join_punct(items, char="、"):
    """{{ items|join_punct:"、" }}: joined by the list mark of the page's language."""
    from cme_portal.punctuation import join

    return join(items, char)


@register.filter
def with_note(text, note):
    """{{ name|with_note:number }}: "name（number）" in Chinese, "name (number)" in English."""
    from cme_portal.punctuation import with_note as note_after

    return note_after(text, note)


# Query parameters that move through a list without filtering it.
NOT_FILTERS = {"page", "per_page", "sort", "order"}


@register.filter
def filters_in_use(query):
    """Whether a list's query string filters it (its folded filters then open on a phone)."""
    return any(value for key in query for value in query.getlist(key) if key not in NOT_FILTERS)


@register.filter
def bounded(count):
    """A waiting count as a badge shows it: the number, or "10,000+" past LIST_COUNT_BOUND (counts stop there)."""
    from cme_portal.pagination import bounded_label

    return bounded_label(count or 0)
