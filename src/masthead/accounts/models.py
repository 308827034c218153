from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Badge(models.IntegerChoices):
    NEWCOMER = 0, _("新人")
    GROWING = 1, _("成长")
    QUALITY = 2, _("优质")
    CERTIFIED = 3, _("认证")


class Account(models.Model):
    """A creator account (号): the public identity articles are published under."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("所属用户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="account",
    )
    handle = models.SlugField(_("账号标识"), max_length=40, unique=True)
    name = models.CharField(_("号名称"), max_length=30, unique=True)
    avatar = models.ImageField(_("头像"), upload_to="avatars/%Y/%m/", blank=True)
    slogan = models.CharField(_("签名"), max_length=60, blank=True)
    field = models.CharField(_("领域"), max_length=20, blank=True)
    badge = models.PositiveSmallIntegerField(_("等级"), choices=Badge.choices, default=Badge.NEWCOMER)
    verified = models.BooleanField(_("已认证"), default=False)
    ip_region = models.CharField(_("IP属地"), max_length=20, blank=True)
    # Denormalised for the author card; kept right by accounts.actions.recount().
    article_count = models.PositiveIntegerField(_("文章数"), default=0)
    follower_count = models.PositiveIntegerField(_("粉丝数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("创作者账号")
        verbose_name_plural = _("创作者账号")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("web:creator", args=[self.handle])


class Follow(models.Model):
    """A reader following a creator account."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="follows")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("关注")
        verbose_name_plural = _("关注")
        constraints = [models.UniqueConstraint(fields=["user", "account"], name="unique_follow")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.account_id}"
