from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cme_portal.errors import DomainError

from .workflow import OWNER


def take_action(request, obj, *, submit, review, back_to, next_prefix):
    """The body of every queue's action endpoint: one transition of ``obj``, told as a message.

    ``submit()`` runs the owner's transition and ``review(action, reason)`` a
    reviewer's; a refusal for lack of right answers 404 (DESIGN.md §3), any
    other refusal is shown. Returns to ``next`` when it stays under
    ``next_prefix``, else to ``back_to``.
    """
    action = request.POST.get("action", "")
    try:
        transition = type(obj).workflow.get(action)
        if transition.actor == OWNER:
            submit()
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
    page = Paginator(request.user.notifications.all(), 20).get_page(request.GET.get("page"))
    unread_ids = [n.pk for n in page if n.read_at is None]
    response = render(request, "review/inbox.html", {"page_obj": page, "unread_ids": set(unread_ids)})
    request.user.notifications.filter(pk__in=unread_ids).update(read_at=timezone.now())
    return response


@require_POST
@login_required
def mark_all_read(request):
    request.user.notifications.filter(read_at__isnull=True).update(read_at=timezone.now())
    return redirect("review:inbox")
