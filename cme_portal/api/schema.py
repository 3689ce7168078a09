"""How the OpenAPI schema describes the bearer tokens."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "cme_portal.api.auth.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "省继教办在“数据接口令牌”页面创建的令牌（cme_…），仅在创建时显示一次。",
        }
