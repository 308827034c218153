"""Forms of the writing page: the article (also the no-JavaScript path) and the image upload."""

from django import forms
from django.utils.translation import gettext_lazy as _

from masthead.articles.models import Image, ImageLabel
from masthead.channels.models import Channel
from masthead.studio.writing import check_scheduled_at

LABEL_FIELDS = ("is_original", "is_fiction", "is_ai_generated", "is_news")


class ArticleForm(forms.Form):
    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    title = forms.CharField(
        label=_("标题"), max_length=100, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    summary = forms.CharField(
        label=_("摘要"),
        max_length=300,
        required=False,
        help_text=_("留空则自动取正文开头。"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    channel = forms.TypedChoiceField(label=_("频道"), coerce=int)
    tags = forms.CharField(label=_("标签"), max_length=300, required=False, help_text=_("用逗号分隔，最多 10 个。"))
    cover = forms.TypedChoiceField(label=_("封面图片"), coerce=int, required=False, empty_value=None)
    cover_file = forms.FileField(label=_("上传新封面"), required=False)
    cover_alt = forms.CharField(label=_("封面替代文字"), max_length=200, required=False)
    source = forms.CharField(
        label=_("信息来源"),
        max_length=200,
        required=False,
        help_text=_("头条、军事频道和新闻资讯必须注明信息来源。"),
    )
    is_original = forms.BooleanField(label=_("原创声明：本文由我独立创作"), required=False)
    is_fiction = forms.BooleanField(label=_("虚构/演绎内容"), required=False)
    is_ai_generated = forms.BooleanField(label=_("含AI生成内容"), required=False)
    is_news = forms.BooleanField(label=_("新闻资讯"), required=False)
    body = forms.CharField(label=_("正文"), required=False, strip=False, widget=forms.Textarea(attrs={"rows": 20}))
    scheduled_at = forms.DateTimeField(
        label=_("定时发布时间"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, channels: list[Channel], images: list[Image], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.channels = {c.pk: c for c in channels}
        self.images = {i.pk: i for i in images}
        self.fields["channel"].choices = [(c.pk, c.name) for c in channels]
        self.fields["cover"].choices = [("", _("无封面")), *((i.pk, i.alt) for i in images)]

    def article_fields(self) -> dict:
        """What goes to save_draft: model objects for channel and cover, the title only when given."""
        data = self.cleaned_data
        fields = {name: data[name] for name in ("summary", "source", *LABEL_FIELDS)}
        if data["title"].strip():
            fields["title"] = data["title"]
        fields["channel"] = self.channels[data["channel"]]
        fields["cover"] = self.images.get(data["cover"]) if data["cover"] else None
        return fields

    def clean_scheduled_at(self):
        return check_scheduled_at(self.cleaned_data["scheduled_at"])


class ImageForm(forms.Form):
    file = forms.FileField(label=_("图片文件"), error_messages={"required": _("请选择图片文件。")})
    alt = forms.CharField(
        label=_("替代文字"),
        max_length=200,
        help_text=_("用一句话描述图片内容，方便视障读者。"),
        error_messages={"required": _("请为图片填写替代文字，方便视障读者。")},
    )
    caption = forms.CharField(label=_("图片说明"), max_length=300, required=False)
    label = forms.ChoiceField(label=_("标注"), choices=ImageLabel.choices, required=False)
    credit = forms.CharField(label=_("图片来源"), max_length=100, required=False)
    taken_on = forms.DateField(label=_("拍摄日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    taken_place = forms.CharField(label=_("拍摄地点"), max_length=60, required=False)
    is_ai_generated = forms.BooleanField(label=_("AI生成的图片"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("label") == ImageLabel.AI:
            data["is_ai_generated"] = True
        elif data.get("is_ai_generated") and not data.get("label"):
            data["label"] = ImageLabel.AI
        return data
