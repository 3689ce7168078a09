"""Writes of the API: tokens made, rotated and revoked by the province admin; calls recorded."""

import logging
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cme_portal.accounts.models import OrgKind, Role
from cme_portal.errors import DomainError

from .models import ApiCall, ApiToken, TokenKind, hash_key

log = logging.getLogger("cme.api")


def _new_key():
    prefix = "cme_" + secrets.token_hex(4)
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


def _check_admin(admin, token_org=None):
    province = admin.scope_nodes(Role.PROVINCE_ADMIN).first()
    if province is None:
        raise DomainError(_("只有省继教办可以管理接口令牌。"), code="forbidden")
    if token_org is not None and not admin.in_scope(Role.PROVINCE_ADMIN, token_org.path):
        raise DomainError(_("只能为本省的机构创建令牌。"), code="forbidden", field="org")


def create_token(*, admin, kind, name, platform=None, org=None, include_personal=False, replaces=None):
    """Make a token; return (ApiToken, the key to show once). Raises DomainError when the scope does not fit."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("请填写用途说明，如“华医网学分推送”。"), code="name_required", field="name")
    if kind == TokenKind.PLATFORM:
        if platform is None:
            raise DomainError(_("请选择平台。"), code="platform_required", field="platform")
        org, include_personal = None, False
        _check_admin(admin)
    elif kind == TokenKind.UNIT:
        if org is None or org.kind == OrgKind.DEPARTMENT:
            raise DomainError(_("请选择单位、区县、地市或省。"), code="org_required", field="org")
        platform = None
        _check_admin(admin, org)
    else:
        raise DomainError(_("请选择令牌类型。"), code="kind_required", field="kind")
    prefix, key = _new_key()
    token = ApiToken.objects.create(
        kind=kind,
        name=name[:100],
        platform=platform,
        org=org,
        include_personal=bool(include_personal),
        prefix=prefix,
        key_hash=hash_key(key),
        created_by=admin,
        replaces=replaces,
    )
    log.info("api_token_created", extra={"token_id": token.pk, "kind": kind, "actor_id": admin.pk, "prefix": prefix})
    return token, key


def revoke_token(token, admin):
    """Stop ``token`` at once (idempotent). Raises DomainError for anyone but a province admin."""
    _check_admin(admin, token.org)
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now(), revoked_by=admin)
    token.refresh_from_db()
    if updated:
        log.info("api_token_revoked", extra={"token_id": token.pk, "actor_id": admin.pk})
    return token


def rotate_token(token, admin):
    """Replace ``token`` by a new one of the same scope and revoke it; return (new token, its key)."""
    if not token.active:
        raise DomainError(_("该令牌已停用，不能轮换；请新建令牌。"), code="revoked")
    with transaction.atomic():
        revoke_token(token, admin)
        return create_token(
            admin=admin,
            kind=token.kind,
            name=token.name,
            platform=token.platform,
            org=token.org,
            include_personal=token.include_personal,
            replaces=token,
        )


def record_call(*, token, method, path, operation, status, counts, client_ip):
    """Keep one call of ``token`` (a row the province sees) and log it as one structured line."""
    fields = {
        "token_id": getattr(token, "pk", None),
        "kind": getattr(token, "kind", ""),
        "method": method,
        "path": path[:200],
        "operation": operation,
        "status": status,
        "records": counts.get("records", 0),
        "imported": counts.get("imported", 0),
        "skipped": counts.get("skipped", 0),
        "refused": counts.get("refused", 0),
    }
    log.info("api_call", extra=fields)
    if token is None:
        return None
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    fields.pop("token_id"), fields.pop("kind")
    return ApiCall.objects.create(token=token, client_ip=client_ip, **fields)
