from django.contrib import admin

from .models import CreditEntry, CreditRecord, EarlyReviewRequest, PlatformRecord, RequirementRule


@admin.register(CreditRecord)
class CreditRecordAdmin(admin.ModelAdmin):
    """The ledger is read-only here: corrections go through credits.services.correct_record."""

    list_display = ["learner", "year", "credit_class", "level", "category", "credits", "source", "status", "activity_number"]
    list_filter = ["year", "credit_class", "source", "status", "category"]
    search_fields = ["learner__name", "learner__id_number", "activity_number", "activity_name"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin):
    list_display = ["learner", "activity_name", "category", "credits", "state", "unit", "created_at"]
    list_filter = ["state", "category", "source", "year"]
    search_fields = ["learner__name", "activity_name", "activity_number"]
    readonly_fields = ["state", "state_changed_at"]

    def has_change_permission(self, request, obj=None):
        # Reviewed entries change only through the review mechanism.
        return obj is None or obj.state in ("draft", "returned")


@admin.register(PlatformRecord)
class PlatformRecordAdmin(admin.ModelAdmin):
    list_display = ["platform", "record_id", "learner", "imported_at"]
    search_fields = ["record_id", "learner__name"]


@admin.register(EarlyReviewRequest)
class EarlyReviewRequestAdmin(admin.ModelAdmin):
    list_display = ["unit", "reason", "deadline", "requested_by", "created_at"]


@admin.register(RequirementRule)
class RequirementRuleAdmin(admin.ModelAdmin):
    list_display = ["province", "year", "staff_category", "min_total", "min_class_i", "min_class_ii", "five_year_national"]
    list_filter = ["year", "staff_category"]
