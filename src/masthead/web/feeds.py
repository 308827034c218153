"""RSS and Atom feeds for the site, each channel and each creator account (Django's syndication)."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Atom1Feed, SyndicationFeed
from django.utils.html import escape
from django.utils.translation import gettext as _

from masthead.accounts.models import Account
from masthead.articles.queries import for_listing
from masthead.channels.models import Channel
from masthead.web.pagecache import cache_page_for_readers

FEED_SIZE = 30


def _public(path: str) -> str:
    """Absolute on MASTHEAD_SITE_URL when set; otherwise left to Django, which adds the request's host."""
    return settings.SITE_URL.rstrip("/") + path if settings.SITE_URL else path


class SiteFeed(Feed):
    # RSS 2.0 wants an RFC 1766 code; "zh-hans" (Django's LANGUAGE_CODE) is not one readers know.
    language = "zh-cn"

    def __call__(self, request, *args, **kwargs):
        # Feed readers poll; serve them from the page cache, which publishing purges ("fronts").
        response = super().__call__(request, *args, **kwargs)
        return cache_page_for_readers(response, getattr(request, "feed_cache_tags", ["fronts"]))

    def cache_tags(self, obj) -> list[str]:
        return ["fronts"]

    def get_feed(self, obj, request) -> SyndicationFeed:
        request.feed_cache_tags = self.cache_tags(obj)  # the request, not self: one Feed serves all threads
        feed = super().get_feed(obj, request)
        if settings.SITE_URL:
            # Django builds the rel="self" link from the request's host; the public address wins.
            feed.feed["feed_url"] = _public(request.path)
        return feed

    def title(self, obj=None) -> str:
        return str(settings.SITE_NAME)

    def link(self, obj=None) -> str:
        return _public("/")

    def description(self, obj=None) -> str:
        return _("%(site)s最新文章") % {"site": settings.SITE_NAME}

    def subtitle(self, obj=None) -> str:
        # Atom's counterpart of the RSS <description>; RSS ignores it.
        return self.description(obj)

    def items(self, obj=None):
        return for_listing().order_by("-published_at", "-pk")[:FEED_SIZE]

    def item_title(self, item) -> str:
        return item.title

    def item_link(self, item) -> str:
        return _public(item.get_absolute_url())

    def item_description(self, item) -> str:
        # Readers treat <description> (and Atom's type="html" summary) as HTML; the summary is plain text.
        return escape(item.summary or item.title)

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        # Never before the publication (an import may publish with a later date than the last save).
        return max(filter(None, [item.updated_at, item.published_at]))

    def item_author_name(self, item) -> str:
        return item.account.name

    def item_author_link(self, item) -> str:
        return _public(item.account.get_absolute_url())

    def item_categories(self, item):
        return [item.channel.name]


class ChannelFeed(SiteFeed):
    def get_object(self, request, slug: str) -> Channel:
        return get_object_or_404(Channel, slug=slug, is_active=True)

    def title(self, obj=None) -> str:
        return f"{obj.name} - {settings.SITE_NAME}"

    def link(self, obj=None) -> str:
        return _public(obj.get_absolute_url())

    def description(self, obj=None) -> str:
        return obj.description or _("%(site)s%(name)s频道最新文章") % {"site": settings.SITE_NAME, "name": obj.name}

    def items(self, obj=None):
        return for_listing().filter(channel=obj).order_by("-published_at", "-pk")[:FEED_SIZE]


class CreatorFeed(SiteFeed):
    def get_object(self, request, handle: str) -> Account:
        return get_object_or_404(Account, handle=handle)

    def title(self, obj=None) -> str:
        return f"{obj.name} - {settings.SITE_NAME}"

    def link(self, obj=None) -> str:
        return _public(obj.get_absolute_url())

    def description(self, obj=None) -> str:
        # RSS requires a non-empty channel description; many accounts have no slogan.
        latest = _("%(name)s在%(site)s发布的最新文章") % {"name": obj.name, "site": settings.SITE_NAME}
        return f"{obj.slogan} - {latest}" if obj.slogan else latest

    def cache_tags(self, obj) -> list[str]:
        return ["fronts", f"account:{obj.pk}"]  # the creator page's tags: renaming the account purges both

    def author_name(self, obj=None) -> str:
        return obj.name

    def author_link(self, obj=None) -> str:
        return _public(obj.get_absolute_url())

    def items(self, obj=None):
        return for_listing().filter(account=obj).order_by("-published_at", "-pk")[:FEED_SIZE]


def atom(feed_class: type[Feed]) -> type[Feed]:
    """The same feed in Atom 1.0."""
    return type(f"Atom{feed_class.__name__}", (feed_class,), {"feed_type": Atom1Feed})
