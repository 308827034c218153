"""RSS and Atom feeds for the site, each channel and each creator account (Django's syndication)."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from masthead.accounts.models import Account
from masthead.articles.queries import for_listing
from masthead.channels.models import Channel

FEED_SIZE = 30


class SiteFeed(Feed):
    description = _("最新文章")

    def title(self, obj=None) -> str:
        return str(settings.SITE_NAME)

    def link(self, obj=None) -> str:
        return "/"

    def items(self, obj=None):
        return for_listing().order_by("-published_at")[:FEED_SIZE]

    def item_title(self, item) -> str:
        return item.title

    def item_description(self, item) -> str:
        return item.summary

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_author_name(self, item) -> str:
        return item.account.name

    def item_categories(self, item):
        return [item.channel.name]


class ChannelFeed(SiteFeed):
    def get_object(self, request, slug: str):
        return get_object_or_404(Channel, slug=slug, is_active=True)

    def title(self, obj=None) -> str:
        return f"{obj.name} - {settings.SITE_NAME}"

    def link(self, obj=None) -> str:
        return obj.get_absolute_url()

    def items(self, obj=None):
        return for_listing().filter(channel=obj).order_by("-published_at")[:FEED_SIZE]


class CreatorFeed(SiteFeed):
    def get_object(self, request, handle: str):
        return get_object_or_404(Account, handle=handle)

    def title(self, obj=None) -> str:
        return f"{obj.name} - {settings.SITE_NAME}"

    def link(self, obj=None) -> str:
        return obj.get_absolute_url()

    def description(self, obj=None) -> str:
        return obj.slogan

    def items(self, obj=None):
        return for_listing().filter(account=obj).order_by("-published_at")[:FEED_SIZE]


def atom(feed_class: type[Feed]) -> type[Feed]:
    """The same feed in Atom 1.0."""
    return type(
        f"Atom{feed_class.__name__}", (feed_class,), {"feed_type": Atom1Feed, "subtitle": feed_class.description}
    )
