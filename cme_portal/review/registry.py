"""Every reviewable kind of the portal, found from the installed models, and the
queue counts the navigation shows, all in one query per request, each bounded.

A kind joins by subclassing ``Reviewable`` and declaring a Workflow with its
``levels``; nothing here names an app.
"""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.urls import reverse

from cme_portal.pagination import BoundedCount

from .models import Notification, Reviewable


def reviewable_models():
    return [model for model in apps.get_models() if issubclass(model, Reviewable) and model.workflow is not None]


def workflow_named(name):
    for model in reviewable_models():
        if model.workflow.name == name:
            return model
    return None


def _count_of(queryset):
    # Bounded as the lists' counts are (cme_portal/pagination.py): a badge reads at most bound + 1 rows.
    return BoundedCount(queryset)


def counts(request):
    """{"<workflow>:<level>": waiting, …, "unread": n} for the signed-in person, once per request.

    Each count stops at ``LIST_COUNT_BOUND`` + 1 (shown "10,000+" by the ``bounded`` filter).

    One query however many roles the person holds (the role look-up that scope
    needs is the other, and is cached on the user).
    """
    cached = getattr(request, "_review_counts", None)
    if cached is not None:
        return cached
    user = request.user
    columns = {"unread": _count_of(Notification.objects.filter(user_id=user.pk, read_at__isnull=True))}
    for model in reviewable_models():
        workflow = model.workflow
        for level in workflow.levels:
            if user.has_role(level.role):
                columns[f"{workflow.name}:{level.slug}"] = _count_of(model.objects.waiting_for(user, level.role))
    aliases = {key: f"c{index}" for index, key in enumerate(columns)}
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(**{aliases[key]: expression for key, expression in columns.items()})
        .values(*aliases.values())
        .first()
    ) or {}
    request._review_counts = {key: row.get(alias, 0) for key, alias in aliases.items()}
    return request._review_counts


def queue_links(request, model):
    """Navigation entries for ``model``'s queues the person holds, with their counts."""
    workflow = model.workflow
    waiting = counts(request)
    return [
        {
            "label": level.nav_label,
            "url": reverse(workflow.url_name, args=[level.slug]),
            "count": waiting.get(f"{workflow.name}:{level.slug}", 0),
            "role": level.role,
        }
        for level in workflow.levels
        if request.user.has_role(level.role)
    ]
