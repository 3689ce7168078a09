"""Site-wide pages: the public home page and the health check."""

from django.conf import settings
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


def bad_request(request, exception=None):
    """A 400 in the person's language that says what to do (Django's default page is bare)."""
    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
    from django.utils.translation import gettext as _

    from .middleware import error_page

    if isinstance(exception, TooManyFilesSent):
        message = _("一次最多上传 %(limit)d 个文件，请分次上传。") % {"limit": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
    elif isinstance(exception, RequestDataTooBig):
        message = _("提交的表单内容过大，请精简后重试（文件请通过上传框提交）。")
    elif isinstance(exception, TooManyFieldsSent):
        message = _("提交的表单项过多，请刷新页面后重试。")
    else:
        message = _("请求无法处理，请刷新页面后重试。")
    return error_page(request, status=400, title=_("请求有误"), message=message)


def set_language(request):
    """Django's language switch, remembering the choice on the person's account: what is sent to them later
    (e-mail, SMS, certificates drawn by a task) is written in it (issue 13)."""
    from django.contrib.auth import get_user_model
    from django.utils.translation import check_for_language
    from django.views.i18n import set_language as switch

    response = switch(request)
    language = request.POST.get("language", "")
    if request.method == "POST" and request.user.is_authenticated and language and check_for_language(language):
        chosen = "" if language == settings.LANGUAGE_CODE else language
        if request.user.language != chosen:
            get_user_model().objects.filter(pk=request.user.pk).update(language=chosen)
    return response
