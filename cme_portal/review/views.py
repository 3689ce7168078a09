from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST


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
