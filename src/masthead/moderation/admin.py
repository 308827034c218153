from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from masthead.accounts.roles import is_editor
from masthead.moderation import audit, screening
from masthead.moderation.models import AuditEntry, SensitiveTerm


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only, including for superusers."""

    list_display = ["created_at", "actor_name", "action", "target_type", "target_repr", "reason"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_name", "target_repr", "reason", "target_id"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SensitiveTerm)
class SensitiveTermAdmin(admin.ModelAdmin):
    """Editors manage the list here or at /review/terms/; every change is audited and reaches all servers."""

    list_display = ["term", "action", "is_active", "note", "created_by", "created_at"]
    list_filter = ["action", "is_active"]
    search_fields = ["term", "note"]
    fields = ["term", "action", "note", "is_active"]
    actions = ["activate", "deactivate"]

    # Editors (the "editors" group) may not hold model permissions: being an editor is the permission.
    def has_module_permission(self, request):
        return is_editor(request.user)

    def has_view_permission(self, request, obj=None):
        return is_editor(request.user)

    def has_add_permission(self, request):
        return is_editor(request.user)

    def has_change_permission(self, request, obj=None):
        return is_editor(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_editor(request.user)

    def get_readonly_fields(self, request, obj=None):
        return ["term"] if obj is not None else []  # a changed word is a new entry: add it, delete the old one

    def save_model(self, request, obj, form, change):
        before = screening.term_snapshot(SensitiveTerm.objects.get(pk=obj.pk)) if change else {}
        if not change:
            obj.created_by = request.user
        with transaction.atomic():
            obj.save()
            audit.record(
                request.user,
                "term.change" if change else "term.add",
                obj,
                before=before,
                after=screening.term_snapshot(obj),
            )
            screening.bump()

    def delete_model(self, request, obj):
        screening.delete_term(obj, request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for term in queryset:
                screening.delete_term(term, request.user)

    @admin.action(description=_("启用所选敏感词"))
    def activate(self, request, queryset):
        with transaction.atomic():
            for term in queryset:
                screening.set_active(term, True, request.user)

    @admin.action(description=_("停用所选敏感词"))
    def deactivate(self, request, queryset):
        with transaction.atomic():
            for term in queryset:
                screening.set_active(term, False, request.user)
