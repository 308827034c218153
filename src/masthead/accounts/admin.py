from django.contrib import admin

from masthead.accounts.join_forms import AccountAdminForm
from masthead.accounts.models import Account
from masthead.web import pagecache


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    form = AccountAdminForm  # screens the name, slogan and introduction for sensitive terms
    list_display = ["name", "handle", "field", "badge", "verified", "article_count", "follower_count"]
    list_filter = ["badge", "verified", "field"]
    search_fields = ["name", "handle"]
    readonly_fields = ["article_count", "follower_count", "created_at", "updated_at"]
    raw_id_fields = ["owner"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        pagecache.purge(f"account:{obj.pk}", "fronts")
