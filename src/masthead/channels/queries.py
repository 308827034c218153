"""Channel reads shared by pages: the navigation and the top stories of every channel."""

from dataclasses import dataclass

from masthead.articles.models import Article
from masthead.articles.queries import by_ids, latest_ids_per_group
from masthead.channels.models import Channel
from masthead.web.pagecache import cached_fragment


@dataclass
class ChannelBlock:
    channel: Channel
    articles: list[Article]


def active_channels() -> list[Channel]:
    return cached_fragment("channels", ["fronts"], lambda: list(Channel.objects.filter(is_active=True)))


def _build_blocks(per_channel: int) -> list[ChannelBlock]:
    channels = active_channels()
    ids = latest_ids_per_group("channel_id", [c.pk for c in channels], per_channel)
    by_channel: dict[int, list[Article]] = {c.pk: [] for c in channels}
    for article in sorted(by_ids(ids), key=lambda a: a.published_at, reverse=True):
        by_channel[article.channel_id].append(article)
    return [ChannelBlock(c, by_channel[c.pk]) for c in channels]


def channel_blocks(per_channel: int = 5) -> list[ChannelBlock]:
    """Top stories of each active channel (three queries when the cache is cold, none when warm)."""
    return cached_fragment(f"blocks:{per_channel}", ["fronts"], lambda: _build_blocks(per_channel))
