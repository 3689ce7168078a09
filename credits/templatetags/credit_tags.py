from django import template

from credits.rules import catalogue_check

register = template.Library()


@register.filter
def catalogue(entry):
    """What the province's lists say of an entry's number: {% with check=entry|catalogue %}."""
    return catalogue_check(entry)


@register.filter
def evidence_labels(items):
    """The labels of the evidence items an entry's merged PDF holds (seed 004's checklist)."""
    from credits.rules import EVIDENCE_ITEMS

    return [str(EVIDENCE_ITEMS[item]) for item in items or () if item in EVIDENCE_ITEMS]
