"""The audit log: every change that is not a review transition, with who, from where and when.

Models are tracked by django-auditlog (one LogEntry table, MIT licence): role assignments,
organisations, requirement rules, attendance plans, survey templates, disciplines, the province's
catalogue settings (platforms, entry policy and deadlines). Things that are not one model's save —
imports, certificate revocations (also the ones a correction makes in bulk) — are written as explicit
events with ``record_event``. The actor and the address come from ``AuditMiddleware`` (the address
the portal trusts, ``cme_portal.ratelimit.client_ip``, not a header anyone can forge).
"""

import logging

from auditlog.context import set_actor
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib.contenttypes.models import ContentType

log = logging.getLogger("cme.audit")

TRACKED = (
    ("accounts.RoleAssignment", {}),
    ("accounts.Organisation", {"exclude_fields": ["path"]}),
    ("credits.RequirementRule", {}),
    ("credits.CreditPolicy", {}),
    ("credits.EntryDeadline", {}),
    ("credits.Platform", {}),
    ("attendance.AttendancePlan", {}),
    ("attendance.SurveyTemplate", {}),
    ("projects.Discipline", {}),
)


def register_models():
    for label, options in TRACKED:
        model = apps.get_model(label)
        if not auditlog.contains(model):
            auditlog.register(model, **options)


def record_event(obj, event, *, actor=None, **data):
    """Write one explicit event about ``obj`` (an import finished, a certificate revoked); return the LogEntry.

    ``event`` is a stable code (filters and exports rely on it); ``data`` is kept as it is given.
    """
    entry = LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_pk=str(obj.pk),
        object_id=obj.pk if isinstance(obj.pk, int) else None,
        object_repr=str(obj)[:200],
        action=LogEntry.Action.UPDATE,
        changes={},
        actor=actor if getattr(actor, "pk", None) else None,
        additional_data={"event": event, **data},
    )
    log.info("audit_event", extra={"event": event, "object_id": obj.pk, "actor_id": getattr(actor, "pk", None)})
    return entry


class AuditMiddleware:
    """Every change a signed-in person's request makes is logged with them as its actor and their address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        from cme_portal.ratelimit import client_ip

        with set_actor(user, remote_addr=client_ip(request)):
            return self.get_response(request)
