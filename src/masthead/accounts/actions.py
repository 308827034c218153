"""State changes of creator accounts and follows; every write goes through here."""

from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from masthead.accounts.models import Account, Follow
from masthead.web import pagecache


def recount(account_ids: list[int] | None = None) -> None:
    """Recompute published-article and follower counts from the source tables (idempotent)."""
    from masthead.articles.models import Article

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
    qs = Account.objects.all() if account_ids is None else Account.objects.filter(pk__in=account_ids)
    qs.update(
        article_count=Coalesce(Subquery(published), 0),
        follower_count=Coalesce(Subquery(followers), 0),
    )
    if account_ids:
        for pk in account_ids:
            pagecache.purge(f"account:{pk}")
    else:
        pagecache.purge("site")


@transaction.atomic
def follow(user, account: Account) -> bool:
    """Follow an account; returns False when the user already followed it (double submits are harmless)."""
    _, created = Follow.objects.get_or_create(user=user, account=account)
    if created:
        recount([account.pk])
    return created


@transaction.atomic
def unfollow(user, account: Account) -> bool:
    deleted, _ = Follow.objects.filter(user=user, account=account).delete()
    if deleted:
        recount([account.pk])
    return bool(deleted)
