from django.contrib import admin

from .models import Notification, ReviewEvent


@admin.register(ReviewEvent)
class ReviewEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "content_type", "object_id", "action", "from_state", "to_state", "actor", "reason"]
    list_filter = ["content_type", "action"]
    search_fields = ["reason", "actor__name"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "message", "read_at"]
    search_fields = ["message", "user__name"]
