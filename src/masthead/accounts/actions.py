"""State changes of creator accounts and follows; every write goes through here."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from masthead.accounts.models import Account, Follow
from masthead.web import pagecache


def _purge_after_commit(account_ids: list[int] | None) -> None:
    # After commit: a purge before it would let a reader re-cache the old count in between.
    tags = ["site"] if account_ids is None else [f"account:{pk}" for pk in account_ids]
    transaction.on_commit(lambda: pagecache.purge(*tags))


@transaction.atomic
def recount(account_ids: list[int] | None = None) -> None:
    """Recompute published-article and follower counts from the source tables (idempotent).

    The accounts' rows are locked first, so two transactions counting at once (two readers following,
    two articles published) run one after the other and the second sees the first's rows: without
    the lock, PostgreSQL would let each count miss the other's and the last write would win."""
    from masthead.articles.models import Article

    qs = Account.objects.all() if account_ids is None else Account.objects.filter(pk__in=account_ids)
    if account_ids is not None:
        # NO KEY UPDATE: does not wait on the key-share locks that inserting a Follow takes.
        list(qs.select_for_update(no_key=True).order_by("pk").values_list("pk", flat=True))
    published = (
        Article.objects.filter(account=OuterRef("pk"), status=Article.Status.PUBLISHED)
        .order_by()
        .values("account")
        .annotate(n=Count("pk"))
        .values("n")
    )
    followers = (
        Follow.objects.filter(account=OuterRef("pk")).order_by().values("account").annotate(n=Count("pk")).values("n")
    )
    qs.update(
        article_count=Coalesce(Subquery(published), 0),
        follower_count=Coalesce(Subquery(followers), 0),
    )
    _purge_after_commit(account_ids)


@transaction.atomic
def follow(user, account: Account) -> bool:
    """Follow an account; returns False when the user already followed it (double submits are harmless)."""
    if account.owner_id is not None and account.owner_id == user.pk:
        raise ValidationError(_("不能关注自己的账号。"))
    _follow, created = Follow.objects.get_or_create(user=user, account=account)
    if created:
        recount([account.pk])
    return created


@transaction.atomic
def unfollow(user, account: Account) -> bool:
    """Stop following; returns False when the user did not follow the account."""
    deleted, _counts = Follow.objects.filter(user=user, account=account).delete()
    if deleted:
        recount([account.pk])
    return bool(deleted)
