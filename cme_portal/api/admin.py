from django.contrib import admin

from .models import ApiCall, ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only here: tokens are made, rotated and revoked on the province admin's page (the key is shown once)."""

    list_display = ["prefix", "name", "kind", "platform", "org", "include_personal", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["kind"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ApiCall)
class ApiCallAdmin(admin.ModelAdmin):
    list_display = ["created_at", "token", "method", "path", "status", "records", "imported", "skipped", "refused"]
    list_filter = ["status", "method"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
