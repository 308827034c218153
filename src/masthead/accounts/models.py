from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from masthead.accounts import fields


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
    field = models.CharField(_("领域"), max_length=20, blank=True, choices=fields.CHOICES)
    intro = models.TextField(_("简介"), max_length=500, blank=True)
    # Regulated fields (finance, health, law, current affairs): the verified qualification shown on the
    # author card; publishing in the field pauses once it expires.
    credential_name = models.CharField(_("资质名称"), max_length=60, blank=True)
    credential_expires_on = models.DateField(_("资质有效期至"), null=True, blank=True)
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

    @property
    def is_regulated(self) -> bool:
        return fields.is_regulated(self.field)

    def credential_valid(self, on=None) -> bool:
        """Whether the account may publish in its regulated field today."""
        from django.utils import timezone

        if not self.credential_name or self.credential_expires_on is None:
            return False
        return self.credential_expires_on >= (on or timezone.localdate())


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


def private_storage():
    """Qualification documents are never public: STORAGES["private"] (a folder outside MEDIA_ROOT, or a
    private bucket: ops/storage.py), and only editors see them."""
    from django.core.files.storage import storages

    return storages["private"]


class Application(models.Model):
    """A reader's application to become a creator (申请入驻), reviewed by an editor."""

    class Status(models.TextChoices):
        PENDING = "pending", _("审核中")
        APPROVED = "approved", _("已通过")
        REJECTED = "rejected", _("未通过")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.CASCADE, related_name="applications"
    )
    name = models.CharField(_("号名称"), max_length=30)
    handle = models.SlugField(_("账号标识"), max_length=40)
    avatar = models.ImageField(_("头像"), upload_to="avatars/applications/%Y/%m/")
    slogan = models.CharField(_("签名"), max_length=60, blank=True)
    field = models.CharField(_("领域"), max_length=20, choices=fields.CHOICES)
    intro = models.TextField(_("简介"), max_length=500)
    credential_name = models.CharField(_("资质名称"), max_length=60, blank=True)
    credential_expires_on = models.DateField(_("资质有效期至"), null=True, blank=True)
    qualification = models.FileField(
        _("资质证明"), storage=private_storage, upload_to="qualifications/%Y/%m/", blank=True
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(_("审核意见"), blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    account = models.OneToOneField(
        Account, verbose_name=_("创建的账号"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("入驻申请")
        verbose_name_plural = _("入驻申请")
        constraints = [
            # One open application per user at a time.
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="pending"), name="one_pending_application"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display()})"


class Notification(models.Model):
    """A message to one user about something that concerns them: a report decided, a takedown, an appeal.

    Created through accounts.notices.notify(); listed on the 我的 page, unread ones counted in the header.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("类型"), max_length=30)
    text = models.CharField(_("内容"), max_length=500)
    link = models.CharField(_("链接"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        indexes = [models.Index(fields=["user", "-created_at"], name="notification_user")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.text[:30]}"
