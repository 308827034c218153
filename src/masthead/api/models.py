from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    """What a personal access token may do; a session (the site's own JavaScript) may do all of it."""

    READ = "read", _("读取：我的关注、收藏、通知和创作数据")
    COMMENT = "comment", _("互动：跟帖、点赞、收藏、关注、举报")
    DRAFTS = "drafts", _("写作：草稿、上传图片、提交审核")
    PUBLISH = "publish", _("发布：按账号等级直接发布")
    REVIEW = "review", _("审核：编辑的审核与举报队列")


class AccessToken(models.Model):
    """A personal access token. Only a SHA-256 digest is kept: the token is shown once, on creation."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("名称"), max_length=60)
    # The first characters of the token, shown so an owner can tell tokens apart; not a secret.
    prefix = models.CharField(_("前缀"), max_length=16)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.CharField(_("权限范围"), max_length=100)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("访问令牌")
        verbose_name_plural = _("访问令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scope_list


class IdempotentRequest(models.Model):
    """The first answer to a POST sent with an Idempotency-Key, replayed when the client repeats it."""

    principal = models.CharField(max_length=40)  # "u<user id>": keys are per user, not global
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # method, path and body: a reused key with other content is refused
    status = models.PositiveSmallIntegerField(default=0)  # 0 while the first request is still running
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["principal", "key"], name="unique_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.principal} {self.key}"
