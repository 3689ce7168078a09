"""Site-wide guards that must hold on every response: the request-size cap and no-store for personal data; and
Django's messages made only for the requests that use them."""

from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import FileResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.functional import SimpleLazyObject, empty
from django.utils.translation import gettext as _


def error_page(request, *, status, title, message):
    """The portal's own page for a refusal that happens before any form (too large, too many files)."""
    return render(request, "error.html", {"title": title, "message": message, "status": status}, status=status)


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body is larger than ``MAX_REQUEST_BYTES``, before reading it.

    The cap sits just above the largest upload the portal accepts (one 50 MB file with its form), so
    a 400 MB upload is answered at once, in Chinese, instead of being received whole and then refused.
    Django's own DATA_UPLOAD_MAX_MEMORY_SIZE and DATA_UPLOAD_MAX_NUMBER_FILES still apply to what passes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            limit = settings.MAX_REQUEST_BYTES // (1024 * 1024)
            return error_page(
                request,
                status=413,
                title=_("提交的内容过大"),
                message=_("一次提交的内容不能超过 %(limit)d MB（每个文件最大 50 MB）。请压缩文件或分次上传。") % {"limit": limit},
            )
        return self.get_response(request)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every page and file that may carry personal data.

    That is every response to a signed-in person, every file download, and the anonymous pages that
    show a person's details (the door, certificate query and verification: ``NO_STORE_PATHS``).
    Static files and the public home page stay cacheable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        personal = (
            (user is not None and user.is_authenticated)
            or isinstance(response, FileResponse)
            or response.get("Content-Disposition", "").startswith("attachment")
            or request.path.startswith(tuple(settings.NO_STORE_PATHS))
        )
        if personal and not request.path.startswith(settings.STATIC_URL):
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True, private=True)
        return response


class LazyMessageMiddleware(MessageMiddleware):
    """Django's messages, their storage made when something first reads or adds one.

    Most requests never do (the door's steps, the API, the health checks); making the cookie and session
    storages for each of them, and asking them to save nothing afterwards, was two per cent of the door's CPU
    (issue 12, item 4). A request whose messages were touched is answered exactly as by Django's middleware."""

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)
