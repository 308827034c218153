"""Synthetic articles for benchmarks: `masthead demo --articles 100000`.

Each synthetic article is a variation of one demo article: its channel, its author (when that
account exists), its tags and a body recombined from paragraphs of the same channel, so pages,
related articles and creator pages see realistic sizes and distributions. Rows are written with
bulk inserts in batches, reusing the demo pictures as covers; 100,000 articles take well under a
minute on SQLite. The newest ones also get hourly reading stats, so the hot list has real work to do.
"""

import random
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import escape

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from masthead.accounts import actions as account_actions
from masthead.accounts.models import Account
from masthead.articles.body import plain_text
from masthead.articles.models import Article, Image, Tag
from masthead.channels.models import Channel
from masthead.demo.loader import DEMO_NOTE, load_channel_articles
from masthead.discovery import rebuild
from masthead.engagement import daily
from masthead.engagement.models import ArticleStatDay, ArticleStatHour

BATCH = 2000
MIN_HAN = 400  # the same floor as the hand-written demo articles
SPREAD = timedelta(days=365)  # publication times are spread over the last year…
RECENT = timedelta(hours=48)  # …and articles younger than this get hourly stats for the hot list
_HAN = re.compile(r"[\u4e00-\u9fff]")


def _han_count(text: str) -> int:
    return len(_HAN.findall(text))


class _Source:
    """What the generator draws from: demo specs, paragraphs per channel, existing rows."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.specs = load_channel_articles()
        if not self.specs:
            raise RuntimeError("no demo articles to derive synthetic ones from")
        self.accounts = list(Account.objects.order_by("pk"))
        if not self.accounts:
            raise RuntimeError("load the demo content first (it provides the accounts and pictures)")
        self.by_handle = {a.handle: a for a in self.accounts}
        self.channels = {c.slug: c for c in Channel.objects.order_by("pk")}
        self.covers = list(Image.objects.filter(width__gte=1000).order_by("pk")[:200])
        self.paragraphs: dict[str, list[str]] = {}
        self.siblings: dict[str, list[dict]] = {}
        for slug, spec in self.specs:
            self.paragraphs.setdefault(slug, []).extend(b["p"] for b in spec["body"] if "p" in b)
            self.siblings.setdefault(slug, []).append(spec)
        names = {name for _, spec in self.specs for name in spec["tags"]}
        Tag.objects.bulk_create([Tag(name=n) for n in sorted(names)], ignore_conflicts=True)
        self.tag_ids = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))

    def body(self, slug: str, spec: dict) -> str:
        own = [b["p"] for b in spec["body"] if "p" in b]
        paras = self.rng.sample(own, min(3, len(own)))
        pool = self.paragraphs[slug]
        while _han_count("".join(paras)) < MIN_HAN or len(paras) < 5:
            paras.append(self.rng.choice(pool))
        return "".join(f"<p>{escape(p)}</p>" for p in paras) + f"<p><em>{escape(DEMO_NOTE)}</em></p>"

    def article(self, number: int, now: datetime) -> tuple[Article, list[int], list[ArticleStatHour]]:
        slug, spec = self.rng.choice(self.specs)
        channel = self.channels.get(slug) or self.rng.choice(list(self.channels.values()))
        # Creators mostly write in their own field; one in five articles comes from anyone.
        account = self.by_handle.get(spec["author"])
        if account is None or self.rng.random() < 0.2:
            account = self.rng.choice(self.accounts)
        html = self.body(slug, spec)
        tags = list(spec["tags"])
        if self.rng.random() < 0.3:  # a tag borrowed from another article of the channel
            tags.append(self.rng.choice(self.rng.choice(self.siblings[slug])["tags"]))
        article = Article(
            account=account,
            channel=channel,
            title=f"{spec['title']}（{number}）",
            summary=spec["summary"],
            body_html=html,
            body_text=plain_text(html),
            cover=self.rng.choice(self.covers) if self.covers and self.rng.random() < 0.7 else None,
            status=Article.Status.PUBLISHED,
            source=spec.get("source", ""),
            is_original=spec.get("original", True),
            is_fiction=spec.get("fiction", False),
            is_ai_generated=spec.get("ai_generated", False),
            ip_region=account.ip_region,
            published_at=now - timedelta(seconds=self.rng.randint(600, int(SPREAD.total_seconds()))),
            view_count=self.rng.randint(0, 5000),
            share_count=self.rng.randint(0, 200),
        )
        stats = _recent_stats(self.rng, article, now) if now - article.published_at <= RECENT else []
        article.view_count += sum(s.views for s in stats)
        article.share_count += sum(s.shares for s in stats)
        return article, sorted({self.tag_ids[t] for t in tags}), stats


def _recent_stats(rng: random.Random, article: Article, now: datetime) -> list[ArticleStatHour]:
    """Hourly reads of a young article, fading with age (as the demo loader simulates them)."""
    hour_now = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    age_hours = int((now - article.published_at).total_seconds() // 3600)
    appeal = rng.uniform(0.2, 2.0)
    stats = []
    for h in range(age_hours + 1):
        views = int(rng.uniform(5, 60) * appeal / (1 + h / 12))
        if views:
            shares = int(views * rng.uniform(0.0, 0.06))
            hour = hour_now - timedelta(hours=h)
            stats.append(ArticleStatHour(article=article, hour=hour, views=views, shares=shares))
    return stats


def generate_articles(count: int, *, seed: int = 2026, log: Callable[[str], None] = print) -> int:
    """Add `count` published synthetic articles with tags (and recent reading stats); returns how many."""
    if count <= 0:
        return 0
    rng = random.Random(f"masthead-synthetic:{seed}:{count}")
    source = _Source(rng)
    now = timezone.now()
    number = Article.objects.count()  # titles keep counting across repeated runs
    through = Article.tags.through
    made = 0
    while made < count:
        size = min(BATCH, count - made)
        pairs = [source.article(number + made + i + 1, now) for i in range(size)]
        with transaction.atomic():
            created = Article.objects.bulk_create([a for a, _, _ in pairs])
            if created and created[0].pk is None:  # a backend that cannot return ids
                raise RuntimeError("the database backend did not return ids from bulk_create")
            through.objects.bulk_create(
                [through(article_id=a.pk, tag_id=t) for a, tag_ids, _ in pairs for t in tag_ids],
                ignore_conflicts=True,
            )
            # The stats were built before the articles had ids; bulk_create picks the ids up now.
            ArticleStatHour.objects.bulk_create([s for _, _, stats in pairs for s in stats], batch_size=1000)
        made += size
        if made == count or made % (BATCH * 5) == 0:
            log(f"{made}/{count}")
    daily.days_from_hours()
    # Simulated readers, as the demo loader's: most read once a day.
    ArticleStatDay.objects.filter(readers=0).update(readers=F("views") * 4 / 5)
    account_actions.recount()
    rebuild.after_bulk_load(log, related_limit=20_000)
    return made
