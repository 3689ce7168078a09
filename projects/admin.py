from django.contrib import admin

from .models import Discipline, Material, Project, Session


@admin.register(Discipline)
class DisciplineAdmin(admin.ModelAdmin):
    list_display = ["year", "code", "name", "parent"]
    list_filter = ["year"]
    search_fields = ["code", "name"]


class SessionInline(admin.TabularInline):
    model = Session
    extra = 0
    fields = ["sequence", "venue", "start_date", "end_date", "credits", "hours", "state", "unit"]
    readonly_fields = ["state"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "level", "credit_class", "entry", "status", "year", "leader", "holding_unit"]
    list_filter = ["level", "entry", "status", "year"]
    search_fields = ["number", "number_key", "name", "leader"]
    inlines = [SessionInline]


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ["project", "sequence", "venue", "start_date", "end_date", "state", "unit", "organiser"]
    list_filter = ["state"]
    search_fields = ["project__name", "project__number", "venue"]
    # State changes go through the review mechanism, never through this form, and what
    # review decided (dates, credits, unit) is not edited behind its back.
    readonly_fields = ["state", "state_changed_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.state not in ("draft", "returned"):
            return [f.name for f in Session._meta.fields]
        return self.readonly_fields


@admin.register(Material)
class MaterialAdmin(admin.ModelAdmin):
    list_display = ["session", "kind", "original_name", "content_type", "size", "uploaded_at"]
    readonly_fields = [f.name for f in Material._meta.fields]
