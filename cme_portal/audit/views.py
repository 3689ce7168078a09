from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from cme_portal.accounts.models import Role
from cme_portal.accounts.permissions import role_required
from cme_portal.exports import stamp, xlsx_response
from cme_portal.pagination import paginate

from .selectors import audit_entries


def _what(entry):
    event = (entry.additional_data or {}).get("event")
    return event or entry.get_action_display()


def _changes(entry):
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    parts = [
        f"{field}: {values[0]} → {values[1]}"
        for field, values in changes.items()
        if isinstance(values, list) and len(values) == 2
    ]
    extra = {k: v for k, v in (entry.additional_data or {}).items() if k != "event"}
    return "; ".join(parts + [f"{k}: {v}" for k, v in extra.items()])


@role_required(Role.PROVINCE_ADMIN)
def audit_log(request, export=False):
    """The province admin reads, filters and exports who changed what (issue 16, item 7)."""
    found = audit_entries(filters=request.GET)
    if export:
        rows = (
            [
                timezone.localtime(e.timestamp).strftime("%Y-%m-%d %H:%M:%S"),
                e.actor.name if e.actor_id else "",
                e.remote_addr or "",
                e.content_type.name if e.content_type_id else "",
                e.object_repr,
                _what(e),
                _changes(e),
            ]
            for e in found.qs.iterator(chunk_size=2000)
        )
        return xlsx_response(
            filename=f"audit-{stamp()}.xlsx",
            title=_("操作日志"),
            headers=[_("时间"), _("操作人"), _("地址"), _("对象类型"), _("对象"), _("操作"), _("内容")],
            rows=rows,
        )
    page = paginate(request, found.qs, 50)
    entries = [(e, _what(e), _changes(e)) for e in page]
    return render(request, "audit/log.html", {"filter": found, "page_obj": page, "entries": entries})
