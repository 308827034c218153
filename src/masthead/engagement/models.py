from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ArticleStatHour(models.Model):
    """Views and shares of one article in one hour (UTC), written by the counter flush.

    Feeds the hot list (the last 24 hours).
    """

    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="hourly_stats")
    hour = models.DateTimeField(_("小时"))
    views = models.PositiveIntegerField(_("阅读"), default=0)
    shares = models.PositiveIntegerField(_("分享"), default=0)

    class Meta:
        verbose_name = _("每小时统计")
        verbose_name_plural = _("每小时统计")
        constraints = [models.UniqueConstraint(fields=["article", "hour"], name="unique_article_hour")]
        indexes = [models.Index(fields=["hour"], name="stat_hour")]

    def __str__(self) -> str:
        return f"{self.article_id}@{self.hour:%Y-%m-%d %H}:00"


class ArticleStatDay(models.Model):
    """One article on one day (Asia/Shanghai): what creators' statistics read.

    Days, not hours, because unique readers only add up within the period they were counted in (a
    reader seen at 9:00 and 15:00 is one reader of the day, not two), and a day is what a creator asks
    about. Views and shares are added by every flush; `readers` is the day's distinct readers, written
    as the larger of the stored and the newly counted value; read completion is kept as a sum of
    depths (0–100) and the number of reports, so any period's average is sum / count.
    """

    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="daily_stats")
    day = models.DateField(_("日期"))
    views = models.PositiveIntegerField(_("阅读"), default=0)
    shares = models.PositiveIntegerField(_("分享"), default=0)
    readers = models.PositiveIntegerField(_("独立读者"), default=0)
    depth_sum = models.PositiveBigIntegerField(_("阅读深度合计"), default=0)
    depth_count = models.PositiveIntegerField(_("阅读深度上报数"), default=0)

    class Meta:
        verbose_name = _("每日统计")
        verbose_name_plural = _("每日统计")
        constraints = [models.UniqueConstraint(fields=["article", "day"], name="unique_article_day")]
        indexes = [models.Index(fields=["day"], name="stat_day")]

    def __str__(self) -> str:
        return f"{self.article_id}@{self.day:%Y-%m-%d}"


class ArticleReader(models.Model):
    """A reader of an article on a day, for counting distinct readers without Redis.

    `reader` is an HMAC under a salt that exists for one day only (see engagement.readers), never an
    address or a user id, and rows are deleted two days later once counted into ArticleStatDay.
    """

    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("日期"))
    reader = models.CharField(_("读者摘要"), max_length=32)

    class Meta:
        verbose_name = _("当日读者")
        verbose_name_plural = _("当日读者")
        constraints = [models.UniqueConstraint(fields=["article", "day", "reader"], name="unique_article_day_reader")]
        indexes = [models.Index(fields=["day"], name="reader_day")]

    def __str__(self) -> str:
        return f"{self.article_id}@{self.day:%Y-%m-%d}"


class ArticleLike(models.Model):
    """A reader's 点赞 on an article (Article.like_count is the count of these rows)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("点赞")
        verbose_name_plural = _("点赞")
        constraints = [models.UniqueConstraint(fields=["user", "article"], name="unique_article_like")]
        indexes = [models.Index(fields=["created_at"], name="like_created")]  # the hot list's window

    def __str__(self) -> str:
        return f"{self.user_id} ♥ {self.article_id}"


class Favorite(models.Model):
    """A reader's 收藏 of an article, listed on the 我的 page."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favorites")
    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("收藏")
        verbose_name_plural = _("收藏")
        constraints = [models.UniqueConstraint(fields=["user", "article"], name="unique_favorite")]
        indexes = [models.Index(fields=["user", "-created_at"], name="favorite_user")]

    def __str__(self) -> str:
        return f"{self.user_id} ☆ {self.article_id}"


class ReadingHistory(models.Model):
    """The last time a signed-in reader opened an article; the reader can delete entries or all of it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reading_history")
    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(_("阅读时间"))

    class Meta:
        verbose_name = _("阅读历史")
        verbose_name_plural = _("阅读历史")
        constraints = [models.UniqueConstraint(fields=["user", "article"], name="unique_history")]
        indexes = [models.Index(fields=["user", "-read_at"], name="history_user")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.article_id}"


class ArticleSharer(models.Model):
    """A reader who shared an article on a day: a share counts once per reader, article and day.

    `reader` is the same daily-salted digest as ArticleReader's (engagement.readers)."""

    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("日期"))
    reader = models.CharField(_("读者摘要"), max_length=32)

    class Meta:
        verbose_name = _("当日分享者")
        verbose_name_plural = _("当日分享者")
        constraints = [models.UniqueConstraint(fields=["article", "day", "reader"], name="unique_article_day_sharer")]
        indexes = [models.Index(fields=["day"], name="sharer_day")]

    def __str__(self) -> str:
        return f"{self.article_id}@{self.day:%Y-%m-%d}"


class Comment(models.Model):
    """A 跟帖 under an article. Replies are one level deep: `thread` is the top-level comment a reply
    belongs to, `reply_to` the comment it answers (shown quoted), which may itself be a reply."""

    class Status(models.TextChoices):
        VISIBLE = "visible", _("已发布")
        HELD = "held", _("待审核")  # a 'review' sensitive term: only the writer sees it until an editor decides
        DELETED = "deleted", _("已删除")  # by its writer
        REMOVED = "removed", _("已移除")  # by the article's author or an editor, with a reason

    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="comments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    thread = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies", verbose_name=_("所属跟帖")
    )
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("回复")
    )
    body = models.TextField(_("内容"), max_length=1000)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.VISIBLE)
    removal_reason = models.CharField(_("移除原因"), max_length=300, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip_region = models.CharField(_("IP属地"), max_length=20, blank=True)
    like_count = models.PositiveIntegerField(_("点赞数"), default=0)
    reply_count = models.PositiveIntegerField(_("回复数"), default=0)
    # A random token from the form: the same form submitted twice makes one comment.
    client_token = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("跟帖")
        verbose_name_plural = _("跟帖")
        indexes = [
            models.Index(fields=["article", "thread", "-created_at"], name="comment_article_new"),
            models.Index(fields=["article", "thread", "-like_count"], name="comment_article_hot"),
            models.Index(fields=["user", "-created_at"], name="comment_user"),
            # Held queue (status, oldest first) and the hot list's window (visible, since yesterday).
            models.Index(fields=["status", "created_at"], name="comment_status_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "client_token"], condition=~models.Q(client_token=""), name="unique_comment_token"
            )
        ]

    def __str__(self) -> str:
        return self.body[:30]


class CommentLike(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("跟帖点赞")
        verbose_name_plural = _("跟帖点赞")
        constraints = [models.UniqueConstraint(fields=["user", "comment"], name="unique_comment_like")]

    def __str__(self) -> str:
        return f"{self.user_id} ♥ c{self.comment_id}"
