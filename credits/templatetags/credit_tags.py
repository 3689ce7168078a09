from django import template

from credits.rules import catalogue_check

register = template.Library()


@register.filter
def catalogue(entry):
    """What the province's lists say of an entry's number: {% with check=entry|catalogue %}."""
    return catalogue_check(entry)
