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
    if request.method == "POST":
        return _batch(request, model, level)
    workflow = model.workflow
    rows = import_string(workflow.selector)().in_scope_of(request.user, level.role)
    filterset = import_string(workflow.filterset)(request.GET, queryset=rows, role=level.role)
    waiting = registry.counts(request).get(f"{workflow.name}:{level.slug}", 0)
    # Unfiltered, the queue is what the navigation has just counted (the same rows, the same bound): not twice.
    known = None if not filterset.is_valid() or filterset.narrows() else waiting
    page = paginate(request, filterset.rows(), PAGE_SIZE, count=known)
    batch = workflow.batch_transitions(level.role)
    for obj in page:
        obj.actions = workflow.available(obj, request.user)
        obj.batchable = any(t in batch for t in obj.actions)
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
            "waiting": waiting,
            "batch_plain": [t for t in batch if not t.reason_required],
            "batch_reasoned": [t for t in batch if t.reason_required],
            "batchable": [obj for obj in page if obj.batchable],
        },
    )


BATCH_LIMIT = PAGE_SIZE * 5


def _chosen(values):
    """{pk: version} from the form's "pk:version" tokens; anything else is dropped."""
    chosen = {}
    for value in values[:BATCH_LIMIT]:
        pk, _sep, version = value.partition(":")
        if pk.isdigit() and version:
            chosen.setdefault(int(pk), version)
    return chosen


def _batch(request, model, level):
    """Several objects of the queue decided at once: each through ``Workflow.review`` in its own transaction.

    The ids are read back through the queue's own scoped queryset (anything outside the viewer's
    scope is never loaded); an object whose state changed since the page showed it, or that the
    viewer may not decide, is refused by name and the rest go through.
    """
    workflow = model.workflow
    back = request.get_full_path()
    transition = next((t for t in workflow.batch_transitions(level.role) if t.action == request.POST.get("action")), None)
    chosen = _chosen(request.POST.getlist("page_ids" if request.POST.get("all") else "ids"))
    reason = request.POST.get("batch_reason", "").strip()
    if transition is None:
        messages.error(request, _("未知的操作。"))
        return redirect(back)
    if not chosen:
        messages.error(request, _("请先勾选要处理的条目。"))
        return redirect(back)
    if transition.reason_required and not reason:
        messages.error(request, _("请填写理由，写明需要修改或不通过的原因。所选条目均未处理。"))
        return redirect(back)
    rows = import_string(workflow.selector)().in_scope_of(request.user, level.role).filter(pk__in=list(chosen))
    found = {obj.pk: obj for obj in rows}
    done = 0
    for pk, seen in chosen.items():
        obj = found.get(pk)
        if obj is None:
            continue
        try:
            workflow.review(obj, request.user, transition.action, reason, seen=seen)
        except DomainError as error:
            messages.error(request, _("“%(subject)s”未处理：%(reason)s") % {"subject": obj, "reason": error.message})
        else:
            done += 1
    if done:
        messages.success(request, _("%(action)s：%(n)s 件。") % {"action": transition.label, "n": done})
    missing = len(chosen) - len(found)
    if missing:
        messages.warning(request, _("%(n)s 件不在您的审核范围内或已不存在，未处理。") % {"n": missing})
    return redirect(back)


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
