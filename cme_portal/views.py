"""Site-wide pages: the public home page and the health check."""

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from .celery import app as celery_app


def home(request):
    return render(request, "home.html")


def _database_state():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error means "down" to a load balancer
        return {"status": "down", "error": error.__class__.__name__}
    return {"status": "ok", "vendor": connection.vendor}


def _broker_state():
    if celery_app.conf.task_always_eager:
        return {"status": "ok", "mode": "eager"}
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as error:
        return {"status": "down", "error": error.__class__.__name__}
    return {"status": "ok", "mode": "broker"}


@never_cache
def healthz_db(request):
    """Reads one row: a database probe without the broker, and the floor of the check-in benchmark."""
    from cme_portal.accounts.models import Organisation

    node = Organisation.objects.only("pk").order_by("pk").first()
    return JsonResponse({"status": "ok", "row": node.pk if node else None})


@never_cache
def healthz(request):
    """JSON with the state of the database and the broker; 503 when the database is down.

    A broker outage degrades the portal (tasks wait) but pages still serve, so
    it is reported without failing the check.
    """
    database = _database_state()
    broker = _broker_state()
    if database["status"] != "ok":
        status = "down"
    elif broker["status"] != "ok":
        status = "degraded"
    else:
        status = "ok"
    return JsonResponse(
        {"status": status, "database": database, "broker": broker},
        status=503 if database["status"] != "ok" else 200,
    )
