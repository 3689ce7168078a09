"""Queue a Celery task after the commit, and never turn a broker outage into a 500 after a commit.

``enqueue(task, *args)`` sends the task once the surrounding transaction commits (at once outside one).
If the broker cannot take it, the work already committed stays committed, the failure is logged, and
the request is told (``QueueingMiddleware`` adds a truthful message to the page); the periodic
reconciler (``certificates.tasks.reconcile``) finds what the lost task should have done and queues it
again once the broker is back. Eager mode (tests, ``make run``) runs the task as before, errors and all.
"""

import logging
import threading

from django.db import transaction
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

_state = threading.local()


def _broker_errors():
    import kombu.exceptions
    import redis.exceptions

    return (
        kombu.exceptions.OperationalError,
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        ConnectionError,
        TimeoutError,
    )


def _send(task, args, kwargs, quiet=False):
    if task.app.conf.task_always_eager:
        task.apply_async(args, kwargs)
        return True
    try:
        task.apply_async(args, kwargs)
    except _broker_errors() as error:
        log.warning("task_not_queued", extra={"task": task.name, "error": error.__class__.__name__})
        failed = getattr(_state, "failed", None)
        if failed is not None and not quiet:
            failed.append(task.name)
        return False
    return True


def enqueue(task, *args, quiet=False, **kwargs):
    """Send ``task`` after the commit. Returns True/False (sent or not) when sent now, outside a transaction;
    None when it waits for the commit. ``quiet``: the caller tells the person itself (no page message)."""
    if not transaction.get_connection().in_atomic_block:
        return _send(task, args, kwargs, quiet)
    transaction.on_commit(lambda: _send(task, args, kwargs, quiet))
    return None


class QueueingMiddleware:
    """Tells the person when their committed action's background work could not be queued yet."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _state.failed = []
        try:
            response = self.get_response(request)
            if _state.failed and hasattr(request, "_messages"):
                from django.contrib import messages

                messages.warning(
                    request,
                    _("操作已保存。后台任务（证书生成、通知等）暂时无法排队，系统恢复后会自动补做，无需重复操作。"),
                )
            return response
        finally:
            _state.failed = None
