from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Channel(models.Model):
    """A section of the site (头条, 军事, 体育, …); the twelve defaults are created by a migration."""

    name = models.CharField(_("名称"), max_length=20, unique=True)
    slug = models.SlugField(_("网址标识"), max_length=40, unique=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=100)
    description = models.CharField(_("简介"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("频道")
        verbose_name_plural = _("频道")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("web:channel", args=[self.slug])
