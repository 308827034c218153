"""Synthetic articles for benchmarks: `masthead demo --articles 100000`.

Bodies are recombined from the demo paragraphs, so pages have realistic sizes; rows are written
with bulk inserts in batches, reusing the demo pictures, so 100,000 articles take about a minute.
"""

import random
from datetime import timedelta
from html import escape

from django.db import transaction
from django.utils import timezone

from masthead.accounts import actions as account_actions
from masthead.accounts.models import Account
from masthead.articles.body import plain_text
from masthead.articles.models import Article, Image, Tag
from masthead.channels.models import Channel
from masthead.demo.loader import load_channel_articles

BATCH = 2000


def generate_articles(count: int, *, seed: int = 2026, log=print) -> int:
    rng = random.Random(seed + count)
    channels = list(Channel.objects.all())
    accounts = list(Account.objects.all())
    covers = list(Image.objects.filter(width__gte=1000)[:200])
    if not accounts:
        raise RuntimeError("load the demo content first (it provides the accounts and pictures)")
    specs = [spec for _, spec in load_channel_articles()]
    paragraphs = [b["p"] for s in specs for b in s["body"] if "p" in b]
    titles = [s["title"] for s in specs]
    tags = list(Tag.objects.all())
    now = timezone.now()
    made = 0
    while made < count:
        batch = []
        for _ in range(min(BATCH, count - made)):
            paras = rng.sample(paragraphs, 5)
            html = "".join(f"<p>{escape(p)}</p>" for p in paras)
            title = f"{rng.choice(titles)[:18]}（{made + len(batch) + 1}）"
            cover = rng.choice(covers) if covers and rng.random() < 0.7 else None
            batch.append(
                Article(
                    account=rng.choice(accounts),
                    channel=rng.choice(channels),
                    title=title,
                    summary=paras[0][:100],
                    body_html=html,
                    body_text=plain_text(html),
                    cover=cover,
                    status=Article.Status.PUBLISHED,
                    is_original=rng.random() < 0.6,
                    published_at=now - timedelta(seconds=rng.randint(3600, 365 * 86400)),
                    view_count=rng.randint(0, 5000),
                    share_count=rng.randint(0, 200),
                )
            )
        with transaction.atomic():
            created = Article.objects.bulk_create(batch)
            if tags and created[0].pk is not None:
                through = Article.tags.through
                links = [
                    through(article_id=a.pk, tag_id=t.pk) for a in created for t in rng.sample(tags, min(3, len(tags)))
                ]
                through.objects.bulk_create(links, ignore_conflicts=True)
        made += len(batch)
        log(f"{made}/{count}")
    account_actions.recount()
    return made
