"""Personal access tokens: created, named, scoped and revoked by their owner; stored as digests."""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from masthead.api.models import AccessToken, Scope

TOKEN_PREFIX = "mh_"
MAX_TOKENS = 20  # live tokens per user: enough for every app and script, few enough to review
NAME_MAX = 60
# last_used_at is written at most this often per token, so reading with a token costs no write per request.
TOUCH_EVERY = timedelta(minutes=1)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def clean_scopes(scopes) -> list[str]:
    chosen = [s for s in Scope.values if s in set(scopes)]
    unknown = set(scopes) - set(Scope.values)
    if unknown:
        raise ValidationError(_("未知的权限范围：%(names)s") % {"names": ", ".join(sorted(unknown))}, code="scope")
    if not chosen:
        raise ValidationError(_("请至少选择一项权限范围。"), code="scope")
    return chosen


@transaction.atomic
def create_token(user, name: str, scopes) -> tuple[AccessToken, str]:
    """A new token for `user`; returns the row and the token itself, which is never shown again."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(_("请给令牌起个名字，例如“手机客户端”。"), code="name")
    if len(name) > NAME_MAX:
        raise ValidationError(_("令牌名称最多 %(n)d 个字。") % {"n": NAME_MAX}, code="name")
    chosen = clean_scopes(scopes)
    # Serialise the count check per user (get_user_model: request.user is a lazy wrapper, not the class).
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    if AccessToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_TOKENS:
        raise ValidationError(_("最多可以有 %(n)d 个有效令牌，请先撤销不用的。") % {"n": MAX_TOKENS}, code="limit")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken.objects.create(
        user=user, name=name, prefix=raw[:10], digest=digest(raw), scopes=" ".join(chosen)
    )
    return token, raw


def revoke(user, token: AccessToken) -> bool:
    """Revoke one of the user's own tokens; it stops working with the next request."""
    if token.user_id != user.pk:
        raise PermissionError("not your token")
    return bool(AccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()))


def authenticate(raw: str) -> AccessToken | None:
    """The live token `raw` names (its user loaded), or None; records the use."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = (
        AccessToken.objects.select_related("user")
        .filter(digest=digest(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def live_tokens(user):
    return AccessToken.objects.filter(user=user, revoked_at__isnull=True)
