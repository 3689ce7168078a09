from django.contrib import admin

from .models import Delivery, Preference


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The outbox, for a superuser to see what is pending or failed (sending is the tasks' business)."""

    list_display = ["created_at", "notification", "channel", "state", "attempts", "next_attempt_at", "last_error", "sent_at"]
    list_filter = ["state", "channel"]
    raw_id_fields = ["notification"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "by_email", "by_sms", "daily_digest"]
    raw_id_fields = ["user"]
