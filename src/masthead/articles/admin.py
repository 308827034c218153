from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from masthead.articles import actions
from masthead.articles.models import Article, Image, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["__str__", "label", "width", "height", "account", "created_at"]
    list_filter = ["label"]
    search_fields = ["alt", "caption", "credit"]
    readonly_fields = ["width", "height", "renditions", "created_at"]
    raw_id_fields = ["account"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "account", "channel", "status", "published_at", "view_count", "share_count"]
    list_filter = ["status", "channel", "is_original", "is_ai_generated"]
    search_fields = ["title", "account__name"]
    date_hierarchy = "published_at"
    raw_id_fields = ["account", "cover", "images"]
    readonly_fields = ["status", "view_count", "share_count", "like_count", "comment_count", "created_at", "updated_at"]
    autocomplete_fields = ["tags"]
    list_select_related = ["account", "channel"]
    actions = ["publish_selected"]

    def save_model(self, request, obj, form, change):
        # The body goes through the same sanitiser as everywhere else.
        fields = {f: form.cleaned_data[f] for f in actions.EDITABLE_FIELDS if f in form.cleaned_data}
        if change:
            actions.update_article(obj, body=form.cleaned_data.get("body_html", ""), **fields)
        else:
            new = actions.create_article(
                account=form.cleaned_data["account"],
                body=form.cleaned_data.get("body_html", ""),
                **fields,
            )
            obj.__dict__.update({k: v for k, v in new.__dict__.items() if not k.startswith("_")})

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        actions.purge_pages(form.instance)  # once tags are saved too

    @admin.action(description=_("发布所选文章"))
    def publish_selected(self, request, queryset):
        for article in queryset:
            try:
                actions.publish(article)
            except ValidationError as exc:
                self.message_user(request, f"{article}: {' '.join(exc.messages)}", messages.WARNING)
