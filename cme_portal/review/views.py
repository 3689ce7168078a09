from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cme_portal.accounts.models import Role
from cme_portal.accounts.permissions import role_required
from cme_portal.errors import DomainError
from cme_portal.pagination import paginate

from . import registry
from .workflow import OWNER

PAGE_SIZE = 20


def queue(request, *, kind, level):
    """The one review queue: what waits for the viewer's level of ``kind``, in scope only.

    Each workflow declares its levels, a selector for its rows, a FilterSet and a
    results template; anyone not holding the level's role gets 404.
    """
    model = registry.workflow_named(kind)
    spec = model.workflow.level(level) if model else None
    if spec is None:
        raise Http404
    return role_required(spec.role)(_queue)(request, model, spec)


def _queue(request, model, level):
    workflow = model.workflow
    rows = import_string(workflow.selector)().in_scope_of(request.user, level.role)
    filterset = import_string(workflow.filterset)(request.GET, queryset=rows, role=level.role)
    page = paginate(request, filterset.qs, PAGE_SIZE)
    for obj in page:
        obj.actions = workflow.available(obj, request.user)
    return render(
        request,
        "review/queue.html",
        {
            "form": filterset.form,
            "page_obj": page,
            "workflow": workflow,
            "level": level,
            "role_label": Role(level.role).label,
            "results_template": workflow.results_template,
            "waiting": registry.counts(request).get(f"{workflow.name}:{level.slug}", 0),
        },
    )


def take_action(request, obj, *, submit, review, back_to, next_prefix):
    """The body of every queue's action endpoint: one transition of ``obj``, told as a message.

    ``submit(action, reason)`` runs an owner's transition and ``review(action, reason)`` a
    reviewer's; a refusal for lack of right answers 404 (DESIGN.md §3), any
    other refusal is shown. Returns to ``next`` when it stays under
    ``next_prefix``, else to ``back_to``.
    """
    action = request.POST.get("action", "")
    try:
        transition = type(obj).workflow.get(action)
        if transition.actor == OWNER:
            submit(action, request.POST.get("reason", ""))
        else:
            review(action, request.POST.get("reason", ""))
    except DomainError as error:
        if error.code == "forbidden":
            raise Http404 from None
        messages.error(request, error.message)
    else:
        messages.success(request, _("“%(subject)s”：%(action)s。") % {"subject": obj, "action": transition.label})
    target = request.POST.get("next", "")
    return redirect(target if target.startswith(next_prefix) else back_to)


@login_required
def inbox(request):
    """The person's notifications, newest first; opening the page marks them read."""
    page = paginate(request, request.user.notifications.all(), 20)
    unread_ids = [n.pk for n in page if n.read_at is None]
    response = render(request, "review/inbox.html", {"page_obj": page, "unread_ids": set(unread_ids)})
    request.user.notifications.filter(pk__in=unread_ids).update(read_at=timezone.now())
    return response


@require_POST
@login_required
def mark_all_read(request):
    request.user.notifications.filter(read_at__isnull=True).update(read_at=timezone.now())
    return redirect("review:inbox")
