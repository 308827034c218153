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
