"""Editors' admin: every write goes through the same actions and image intake as the rest of the site."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from masthead.articles import actions
from masthead.articles.images import prepare_image, store_image
from masthead.articles.models import Article, Image, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class ImageAdminForm(forms.ModelForm):
    class Meta:
        model = Image
        fields = ["account", "file", "alt", "caption", "credit", "label"]

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload and "file" in self.changed_data:
            upload.seek(0)
            self.prepared = prepare_image(upload.read())  # checked, metadata stripped, renditions made
        return upload


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    form = ImageAdminForm
    list_display = ["__str__", "label", "width", "height", "account", "created_at"]
    list_filter = ["label"]
    search_fields = ["alt", "caption", "credit"]
    readonly_fields = ["width", "height", "renditions", "created_at"]
    raw_id_fields = ["account"]

    def get_readonly_fields(self, request, obj=None):
        # Figures already rendered into article bodies point at this file's renditions: keep it.
        return [*self.readonly_fields, "file"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        prepared = getattr(form, "prepared", None)
        if prepared is None:
            super().save_model(request, obj, form, change)
        else:
            store_image(obj, prepared, filename=form.cleaned_data["file"].name)
        if change and form.changed_data:  # the figures in article bodies carry the old words
            actions.refresh_figures(obj)


class ArticleAdminForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = [
            "account", "channel", "title", "summary", "body_html", "tags", "cover", "source", "is_original",
            "is_fiction", "is_ai_generated", "ip_region",
        ]  # fmt: skip

    def clean(self):
        data = super().clean()
        if self.instance.pk and self.instance.status == Article.Status.REMOVED:
            raise ValidationError(_("已下架的文章不能编辑。"))
        account = data.get("account") or (self.instance.account if self.instance.account_id else None)
        if account is not None:
            fields = {f: data[f] for f in actions.EDITABLE_FIELDS if f in data}
            try:
                data.update(actions.clean_fields(account.pk, fields))
            except ValidationError as exc:
                self.add_error(None, exc)
        return data


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    form = ArticleAdminForm
    list_display = ["title", "account", "channel", "status", "published_at", "view_count", "share_count"]
    list_filter = ["status", "channel", "is_original", "is_ai_generated"]
    search_fields = ["title", "account__name"]
    date_hierarchy = "published_at"
    raw_id_fields = ["account", "cover"]
    # The workflow owns status, publication time and reason; the body owns its images.
    readonly_fields = [
        "status", "published_at", "removal_reason", "images", "view_count", "share_count", "like_count",
        "comment_count", "created_at", "updated_at",
    ]  # fmt: skip
    autocomplete_fields = ["tags"]
    list_select_related = ["account", "channel"]
    actions = ["publish_selected"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "account"] if obj else self.readonly_fields

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
