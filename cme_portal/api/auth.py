"""Bearer tokens for the API: who is calling, what they may do, and how often."""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions, throttling

from cme_portal import ratelimit

from .models import ApiToken, TokenKind, hash_key


class TokenClient:
    """The caller behind a token (DRF's ``request.user``): never a person, never staff."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    pk = None

    def __init__(self, token):
        self.token = token

    def __str__(self):
        return f"token {self.token.prefix}"


class BearerTokenAuthentication:
    """``Authorization: Bearer cme_…``: the key's SHA-256 finds the token; a revoked one is refused."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != self.keyword.lower():
            raise exceptions.AuthenticationFailed(_("请在 Authorization 头中提供 “Bearer 令牌”。"))
        token = ApiToken.objects.select_related("platform", "org").filter(key_hash=hash_key(parts[1])).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("令牌无效。"))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("令牌已停用，请联系省继教办。"))
        return TokenClient(token), token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class _KindPermission(permissions.BasePermission):
    kind = None
    message = ""

    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken):
            return False
        if token.kind != self.kind:
            self.message = self.wrong_kind()
            return False
        return True


class PlatformToken(_KindPermission):
    """A platform's token, for a platform the province still has connected."""

    kind = TokenKind.PLATFORM

    def wrong_kind(self):
        return _("该接口只接受远程教育平台的令牌。")

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if not request.auth.platform.active:
            self.message = _("平台“%(name)s”已停止数据对接，请联系省继教办。") % {"name": request.auth.platform.name}
            return False
        return True


class UnitToken(_KindPermission):
    kind = TokenKind.UNIT

    def wrong_kind(self):
        return _("该接口只接受单位系统的只读令牌。")


class AnyToken(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, ApiToken)


class TokenRateThrottle(throttling.BaseThrottle):
    """API_RATE_LIMIT calls a minute per token, counted in the shared cache (cme_portal.ratelimit)."""

    period = 60

    def allow_request(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        return ratelimit.hit("api", token.pk, limit=settings.API_RATE_LIMIT_PER_MINUTE, period=self.period)

    def wait(self):
        return self.period
