from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def state_badge(obj, extra=""):
    """A reviewable object's state as a badge, coloured by its workflow (Workflow.style_of)."""
    return format_html(
        '<span class="badge text-bg-{}{}">{}</span>',
        obj.workflow.style_of(obj.state),
        f" {extra}" if extra else "",
        obj.get_state_display(),
    )
