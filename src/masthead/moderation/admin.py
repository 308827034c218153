from django.contrib import admin

from masthead.moderation.models import AuditEntry


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
