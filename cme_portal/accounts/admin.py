from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import LearnerProfile, Organisation, RoleAssignment, SmsCode, User


class RoleInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["org"]


class ProfileInline(admin.StackedInline):
    model = LearnerProfile
    can_delete = False
    autocomplete_fields = ["unit", "region"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["id_number"]
    list_display = ["id_number", "name", "mobile", "is_active", "claimed", "is_staff"]
    list_filter = ["is_active", "is_staff", "claimed", "roles__role"]
    search_fields = ["id_number", "name", "mobile"]
    readonly_fields = ["last_login", "date_joined", "failed_logins", "locked_until"]
    inlines = [ProfileInline, RoleInline]
    fieldsets = [
        (None, {"fields": ["id_type", "id_number", "name", "mobile", "email", "password"]}),
        (_("状态"), {"fields": ["is_active", "claimed", "failed_logins", "locked_until", "last_login", "date_joined"]}),
        (_("后台权限"), {"fields": ["is_staff", "is_superuser", "groups", "user_permissions"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["id_type", "id_number", "name", "mobile", "password1", "password2"]})
    ]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["indented_name", "kind", "code", "is_grassroots", "is_tertiary"]
    list_filter = ["kind", "is_grassroots", "is_tertiary"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent"]

    @admin.display(description=_("名称"), ordering="path")
    def indented_name(self, obj):
        return "　" * obj.depth + obj.name


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "org", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__name", "user__id_number", "org__name"]
    autocomplete_fields = ["user", "org"]


@admin.register(SmsCode)
class SmsCodeAdmin(admin.ModelAdmin):
    list_display = ["mobile", "purpose", "created_at", "expires_at", "attempts", "used_at", "client_ip"]
    list_filter = ["purpose"]
    search_fields = ["mobile"]
    readonly_fields = [f.name for f in SmsCode._meta.fields]

    def has_add_permission(self, request):
        return False
