"""The desk (签到台) for people without a phone, and every learner's personal code (我的签到码).

Desk staff, named by the organiser, read a learner's personal code with the
phone's camera (zxing-wasm, vendored) or type a document number; each scan
carries an id made on the device, so a scan queued while the network was down
and sent twice is recorded once.
"""

import json
import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.csp import CSP
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_POST

from cme_portal import ratelimit
from cme_portal.accounts.models import Role
from cme_portal.accounts.permissions import role_required
from cme_portal.errors import DomainError
from cme_portal.ratelimit import client_ip
from projects.selectors import get_session

from . import posters, selectors, services, tokens

# The desk page compiles the QR reader's WebAssembly; nothing else of the portal needs it.
DESK_CSP = {
    **settings.SECURE_CSP,
    "script-src": [*settings.SECURE_CSP.get("script-src", [CSP.SELF]), CSP.WASM_UNSAFE_EVAL],
    "media-src": [CSP.SELF, "blob:", "mediastream:"],
}


# A desk scans a person every few seconds at most; a script turning numbers into check-ins meets this.
DESK_SCANS_PER_MINUTE = 60


@never_cache
@csp_override(DESK_CSP)
@login_required
def desk(request, pk):
    session = selectors.get_desk_session(request.user, pk)
    return render(
        request,
        "attendance/desk.html",
        {"session": session, "scans": selectors.recent_desk_scans(session, request.user), "today": timezone.localdate()},
    )


def _scan_moment(value):
    """The device's time of the scan (milliseconds since the epoch), or None."""
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


@require_POST
@login_required
def desk_scan(request, pk):
    """One scan from the desk page, as JSON: {"scan_id", "direction", "text", "scanned_at"}."""
    session = selectors.get_desk_session(request.user, pk)
    try:
        payload = json.loads(request.body or b"{}")
        scan_id = uuid.UUID(str(payload.get("scan_id", "")))
        direction = payload.get("direction")
        text = str(payload.get("text", ""))[:64]
        if direction not in tokens.DIRECTIONS or not text.strip():
            raise ValueError
    except (ValueError, TypeError, AttributeError, RecursionError):
        return JsonResponse({"ok": False, "message": _("请求有误：请刷新签到台页面后重试。")}, status=400)
    if not ratelimit.hit("desk-scan", f"{session.pk}:{request.user.pk}", limit=DESK_SCANS_PER_MINUTE, period=60):
        return JsonResponse({"ok": False, "message": _("扫码过于频繁，请稍后再试。")}, status=429)
    try:
        scan = services.desk_scan(
            session=session,
            staff=request.user,
            scan_id=scan_id,
            direction=direction,
            text=text,
            scanned_at=_scan_moment(payload.get("scanned_at")),
            now=timezone.now(),
            client_ip=client_ip(request),
        )
    except DomainError as error:
        return JsonResponse({"ok": False, "message": error.message}, status=400)
    ok = scan.outcome in ("done", "repeat")
    return JsonResponse(
        {
            "ok": ok,
            "scan_id": str(scan.scan_id),
            "outcome": scan.outcome,
            "message": scan.message,
            # A refusal names nobody: the desk is not a way to turn numbers into names.
            "name": scan.learner.name if ok and scan.learner_id else "",
            "time": timezone.localtime(scan.scanned_at).strftime("%H:%M:%S"),
        }
    )


@require_POST
@login_required
def desk_staff(request, pk):
    """The organiser names or removes desk staff for an approved session of theirs."""
    session = get_session(request.user, pk, own=True, approved=True)
    try:
        if request.POST.get("remove"):
            services.remove_desk_staff(session, request.user, int(request.POST["remove"]))
            messages.success(request, _("已移除签到台工作人员。"))
        else:
            staff = services.add_desk_staff(session, request.user, request.POST.get("identifier", ""))
            messages.success(request, _("已添加签到台工作人员：%(name)s。") % {"name": staff.user.name})
    except DomainError as error:
        messages.error(request, error.message)
    except ValueError:
        messages.error(request, _("请求有误。"))
    return redirect("attendance:codes", pk)


@never_cache
@role_required(Role.LEARNER)
def my_code(request):
    """我的签到码: a personal code that turns every minute (the page renews itself), and the desks one staffs."""
    now = timezone.now()
    code = tokens.personal_code(request.user.pk, now)
    return render(
        request,
        "attendance/my_code.html",
        {
            "svg": mark_safe(posters.qr_svg(code)),
            "refresh": tokens.PERSONAL_PERIOD_SECONDS - int(now.timestamp()) % tokens.PERSONAL_PERIOD_SECONDS + 1,
            "desk_sessions": selectors.desk_sessions(request.user).filter(end_date__gte=timezone.localdate()),
        },
    )


@never_cache
@role_required(Role.LEARNER)
def my_code_print(request):
    """The paper version: valid a year from today, for learners without a smartphone."""
    today = timezone.localdate()
    code = tokens.printed_personal_code(request.user.pk, today)
    return render(
        request,
        "attendance/my_code_print.html",
        {
            "svg": mark_safe(posters.qr_svg(code)),
            "printed_on": today,
            "valid_days": tokens.PRINTED_VALID_DAYS,
            "person": services.masked(request.user),
        },
    )
