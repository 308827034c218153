from django.db import models
from django.utils.translation import gettext_lazy as _


class ArticleStatHour(models.Model):
    """Views and shares of one article in one hour (UTC), written by the counter flush.

    Feeds the hot list (the last 24 hours) and, later, creators' statistics.
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
