from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Tag(models.Model):
    name = models.CharField(_("名称"), max_length=20, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("标签")
        verbose_name_plural = _("标签")

    def __str__(self) -> str:
        return self.name


class ImageLabel(models.TextChoices):
    NONE = "", _("无")
    FILE = "file", _("资料图")
    ILLUSTRATION = "illustration", _("示意图")
    AUTHOR = "author", _("作者供图")
    AI = "ai", _("AI生成")


class Image(models.Model):
    """An uploaded picture with its caption, credit and label, and WebP renditions for srcset."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("上传账号"), null=True, blank=True, on_delete=models.SET_NULL
    )
    file = models.ImageField(_("文件"), upload_to="images/%Y/%m/")
    width = models.PositiveIntegerField(_("宽"), default=0)
    height = models.PositiveIntegerField(_("高"), default=0)
    alt = models.CharField(_("替代文字"), max_length=200)
    caption = models.CharField(_("图片说明"), max_length=300, blank=True)
    credit = models.CharField(_("图片来源"), max_length=100, blank=True)
    label = models.CharField(_("标注"), max_length=16, choices=ImageLabel.choices, blank=True)
    # [{"w": 640, "h": 360, "name": "<storage name>"}, …], smallest first; no query needed to build srcset.
    renditions = models.JSONField(_("缩略图"), default=list, blank=True)
    is_ai_generated = models.BooleanField(_("AI生成"), default=False)
    # For the creator's own photos, instead of a credit: when and where it was taken.
    taken_on = models.DateField(_("拍摄日期"), null=True, blank=True)
    taken_place = models.CharField(_("拍摄地点"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("图片")
        verbose_name_plural = _("图片")

    def __str__(self) -> str:
        return self.alt or self.file.name

    @property
    def srcset(self) -> str:
        return ", ".join(f"{default_storage.url(r['name'])} {r['w']}w" for r in self.renditions)

    def url_for_width(self, width: int) -> str:
        """URL of the smallest rendition at least `width` wide (the largest when none is)."""
        for rendition in self.renditions:
            if rendition["w"] >= width:
                return default_storage.url(rendition["name"])
        if self.renditions:
            return default_storage.url(self.renditions[-1]["name"])
        return self.file.url


class Mark(models.TextChoices):
    NONE = "", _("无")
    RUMOUR = "rumour", _("谣言")
    DISPUTED = "disputed", _("争议")


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PENDING = "pending", _("待审核")
        SCHEDULED = "scheduled", _("定时发布")
        PUBLISHED = "published", _("已发布")
        REJECTED = "rejected", _("未通过")
        REMOVED = "removed", _("已下架")

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("作者账号"), on_delete=models.PROTECT, related_name="articles"
    )
    channel = models.ForeignKey(
        "channels.Channel", verbose_name=_("频道"), on_delete=models.PROTECT, related_name="articles"
    )
    title = models.CharField(_("标题"), max_length=100)
    summary = models.CharField(_("摘要"), max_length=300, blank=True)
    # Sanitised on save by articles.body.render_body(); never trusted on render beyond that.
    body_html = models.TextField(_("正文"), blank=True)
    body_text = models.TextField(_("正文纯文本"), blank=True, editable=False)
    tags = models.ManyToManyField(Tag, verbose_name=_("标签"), blank=True, related_name="articles")
    images = models.ManyToManyField(Image, verbose_name=_("正文图片"), blank=True, related_name="articles")
    cover = models.ForeignKey(
        Image, verbose_name=_("封面"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    source = models.CharField(_("信息来源"), max_length=200, blank=True)
    is_original = models.BooleanField(_("原创"), default=False)
    is_fiction = models.BooleanField(_("虚构/演绎"), default=False)
    is_ai_generated = models.BooleanField(_("AI生成"), default=False)
    is_news = models.BooleanField(_("新闻资讯"), default=False)
    ip_region = models.CharField(_("IP属地"), max_length=20, blank=True)
    removal_reason = models.CharField(_("下架原因"), max_length=300, blank=True)
    # Where an imported article came from (a hash of the source's guid, id or link): a re-import
    # finds it even when the source has since changed its title.
    import_key = models.CharField(_("导入来源"), max_length=40, blank=True, editable=False)
    # Editors' marks (moderation.marks): a rumour or disputed article carries a notice and, when set,
    # a link to the article that sets the record straight; limited reach keeps it out of the hot list
    # and recommendations while it stays readable.
    mark = models.CharField(_("标记"), max_length=10, choices=Mark.choices, blank=True, default="")
    mark_note = models.CharField(_("标记说明"), max_length=300, blank=True)
    debunked_by = models.ForeignKey(
        "self", verbose_name=_("辟谣文章"), null=True, blank=True, on_delete=models.SET_NULL, related_name="debunks"
    )
    reach_limited = models.BooleanField(_("限制推荐"), default=False, db_index=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    scheduled_at = models.DateTimeField(_("定时发布时间"), null=True, blank=True, db_index=True)
    # Trusted creators publish at once; an editor still looks afterwards (先发后审).
    needs_review = models.BooleanField(_("待复审"), default=False, db_index=True)
    # Bumped on every save of the draft: a second tab saving an older version is told, not overwritten.
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    view_count = models.PositiveIntegerField(_("阅读数"), default=0)
    share_count = models.PositiveIntegerField(_("分享数"), default=0)
    like_count = models.PositiveIntegerField(_("点赞数"), default=0)
    comment_count = models.PositiveIntegerField(_("跟帖数"), default=0)

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("文章")
        verbose_name_plural = _("文章")
        indexes = [
            models.Index(fields=["status", "-published_at"], name="article_status_pub"),
            models.Index(fields=["channel", "status", "-published_at"], name="article_channel_pub"),
            models.Index(fields=["account", "status", "-published_at"], name="article_account_pub"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["import_key"], condition=~models.Q(import_key=""), name="unique_import_key")
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("web:article", args=[self.pk])

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class Revision(models.Model):
    """A saved state of an article's text, for history, diff and restore."""

    class Kind(models.TextChoices):
        AUTOSAVE = "autosave", _("自动保存")
        SAVE = "save", _("手动保存")
        SUBMIT = "submit", _("提交审核")
        PUBLISH = "publish", _("发布")
        RESTORE = "restore", _("恢复")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField(_("版本"))
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.AUTOSAVE)
    title = models.CharField(_("标题"), max_length=100)
    summary = models.CharField(_("摘要"), max_length=300, blank=True)
    body_html = models.TextField(_("正文"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("保存人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("修订版本")
        verbose_name_plural = _("修订版本")
        indexes = [models.Index(fields=["article", "-created_at"], name="revision_article")]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.version} {self.kind}"
