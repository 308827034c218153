"""Discovery's tables: article term vectors and precomputed 相关推荐, the hot list's editor overrides and
scores, and what the personal feed knows about a reader (interests, 不感兴趣, the on/off switch).

The search index lives in search_models.py (and, for SQLite, an FTS5 table made by a migration).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from masthead.discovery.search_models import *  # noqa: F403


class ArticleVector(models.Model):
    """An article's weighted terms (TF-IDF over our segmentation), kept for 相关推荐 and interest tags."""

    article = models.OneToOneField("articles.Article", on_delete=models.CASCADE, related_name="vector")
    terms = models.JSONField(_("词项权重"), default=dict)  # {term: weight}, L2-normalised, top terms only
    keywords = models.JSONField(_("关键词"), default=list)  # the strongest few, for "why" lines
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("文章词向量")
        verbose_name_plural = _("文章词向量")

    def __str__(self) -> str:
        return f"vector {self.article_id}"


class TermStat(models.Model):
    """Document frequency of one term over the published corpus (the IDF of TF-IDF)."""

    term = models.CharField(max_length=40, unique=True)
    df = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("词频统计")
        verbose_name_plural = _("词频统计")

    def __str__(self) -> str:
        return f"{self.term}:{self.df}"


class RelatedArticle(models.Model):
    """One precomputed 相关推荐 entry: `related` is recommended under `article` at `rank`, because of `reason`."""

    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="related_entries")
    related = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField(default=0)
    reason = models.JSONField(default=list)  # shared keywords, or ["co-read"]

    class Meta:
        ordering = ["article", "rank"]
        verbose_name = _("相关推荐")
        verbose_name_plural = _("相关推荐")
        constraints = [models.UniqueConstraint(fields=["article", "related"], name="unique_related")]

    def __str__(self) -> str:
        return f"{self.article_id} → {self.related_id}"


class HotOverride(models.Model):
    """An editor's pin (at a position) or removal of an article on the hot list; changes are audited."""

    class Kind(models.TextChoices):
        PIN = "pin", _("置顶")
        REMOVE = "remove", _("移出")

    article = models.OneToOneField("articles.Article", on_delete=models.CASCADE, related_name="hot_override")
    kind = models.CharField(_("操作"), max_length=10, choices=Kind.choices)
    position = models.PositiveSmallIntegerField(_("榜单位置"), default=1)
    reason = models.CharField(_("理由"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("热榜干预")
        verbose_name_plural = _("热榜干预")

    def __str__(self) -> str:
        return f"{self.kind} {self.article_id}"


class HotScore(models.Model):
    """The hot list as last computed by the refresh task (one row per ranked article)."""

    article = models.OneToOneField("articles.Article", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(db_index=True)
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="+")
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-score"]
        verbose_name = _("热度")
        verbose_name_plural = _("热度")
        indexes = [models.Index(fields=["channel", "-score"], name="hot_channel_score")]

    def __str__(self) -> str:
        return f"{self.article_id}:{self.score:.3f}"


class FeedPreference(models.Model):
    """Whether the reader wants a personalised feed (the default is yes; one click turns it off)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_preference")
    personalized = models.BooleanField(_("个性化推荐"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("推荐设置")
        verbose_name_plural = _("推荐设置")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.personalized}"


class Interest(models.Model):
    """An interest tag inferred about a reader (a term with a weight); the reader sees and can delete each."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="interests")
    term = models.CharField(_("兴趣标签"), max_length=40)
    weight = models.FloatField(default=0)
    # Deleted by the reader: kept (weight 0) so that reading does not bring it back.
    blocked = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-weight"]
        verbose_name = _("兴趣标签")
        verbose_name_plural = _("兴趣标签")
        constraints = [models.UniqueConstraint(fields=["user", "term"], name="unique_interest")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.term}"


class Dismissal(models.Model):
    """不感兴趣: the reader does not want this article (and less of its account) in the feed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dismissals")
    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("不感兴趣")
        verbose_name_plural = _("不感兴趣")
        constraints = [models.UniqueConstraint(fields=["user", "article"], name="unique_dismissal")]

    def __str__(self) -> str:
        return f"{self.user_id} ✕ {self.article_id}"
