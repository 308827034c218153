from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One decision or change made by an editor, an admin or the system: append-only from the site."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(_("操作人名称"), max_length=150, blank=True)  # kept if the user is deleted
    action = models.CharField(_("操作"), max_length=60, db_index=True)
    target_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    target_id = models.CharField(_("对象编号"), max_length=40, blank=True)
    target_repr = models.CharField(_("对象"), max_length=200, blank=True)
    reason = models.TextField(_("理由"), blank=True)
    before = models.JSONField(_("修改前"), default=dict, blank=True)
    after = models.JSONField(_("修改后"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("audit entries are append-only")


class SensitiveTerm(models.Model):
    """One entry of the editors' sensitive-word list (see screening.py for how text is matched).

    ``term`` is stored folded (full-width → half-width, lower case, no spaces or punctuation), so two
    spellings of one word cannot both be on the list. Change the list through the functions in
    screening.py: they record the audit entry and tell every app server to rebuild its automaton.
    """

    class Action(models.TextChoices):
        BLOCK = "block", _("拦截")
        REVIEW = "review", _("送审")

    term = models.CharField(_("词语"), max_length=100, unique=True)
    action = models.CharField(_("处理方式"), max_length=10, choices=Action.choices, default=Action.REVIEW)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("添加人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("添加时间"), auto_now_add=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("敏感词")
        verbose_name_plural = _("敏感词")

    def __str__(self) -> str:
        return self.term

    def save(self, *args, **kwargs):
        from masthead.moderation.screening import normalise_term

        self.term = normalise_term(self.term)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from masthead.moderation.screening import normalise_term

        self.term = normalise_term(self.term)
        if not self.term:
            raise ValidationError({"term": _("词语不能只有空格、标点或符号。")})


class Report(models.Model):
    """A reader's 举报 of an article, a comment or an account; an editor decides and the reporter is told."""

    class Category(models.TextChoices):
        FALSE_INFO = "false", _("虚假信息")
        INFRINGEMENT = "infringe", _("侵权")
        HARASSMENT = "harass", _("人身攻击")
        PORNOGRAPHY = "porn", _("色情低俗")
        ILLEGAL = "illegal", _("违法犯罪")
        SPAM = "spam", _("垃圾广告")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        UPHELD = "upheld", _("举报属实")
        DISMISSED = "dismissed", _("未发现违规")

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("举报人"), on_delete=models.CASCADE, related_name="reports"
    )
    article = models.ForeignKey(
        "articles.Article", verbose_name=_("文章"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    comment = models.ForeignKey(
        "engagement.Comment", verbose_name=_("跟帖"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("账号"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.CharField(_("类别"), max_length=10, choices=Category.choices)
    details = models.TextField(_("详细说明"), max_length=1000, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    decision = models.TextField(_("处理结果"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("举报时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("举报")
        verbose_name_plural = _("举报")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(article__isnull=False, comment__isnull=True, account__isnull=True)
                    | models.Q(article__isnull=True, comment__isnull=False, account__isnull=True)
                    | models.Q(article__isnull=True, comment__isnull=True, account__isnull=False)
                ),
                name="report_one_target",
            ),
            # One open report per reader and target: a double submit cannot file two.
            *(
                models.UniqueConstraint(
                    fields=["reporter", target], condition=models.Q(status="open"), name=f"one_open_report_{target}"
                )
                for target in ("article", "comment", "account")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} #{self.pk}"

    @property
    def target(self):
        return self.article or self.comment or self.account


class Appeal(models.Model):
    """A creator's or commenter's one appeal (申诉) against a takedown; an editor decides."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待处理")
        GRANTED = "granted", _("申诉成功，已恢复")
        DENIED = "denied", _("维持原决定")

    appellant = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申诉人"), on_delete=models.CASCADE, related_name="appeals"
    )
    article = models.OneToOneField(
        "articles.Article",
        verbose_name=_("文章"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="appeal",
    )
    comment = models.OneToOneField(
        "engagement.Comment",
        verbose_name=_("跟帖"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="appeal",
    )
    # The takedown reason as it stood when the appeal was made (the target may change after).
    takedown_reason = models.CharField(_("下架原因"), max_length=300, blank=True)
    text = models.TextField(_("申诉理由"), max_length=1000)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    decision = models.TextField(_("处理意见"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("申诉时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("申诉")
        verbose_name_plural = _("申诉")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(article__isnull=False, comment__isnull=True)
                | models.Q(article__isnull=True, comment__isnull=False),
                name="appeal_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} #{self.pk}"

    @property
    def target(self):
        return self.article or self.comment
