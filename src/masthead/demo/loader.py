"""Load Masthead's own demo content: accounts, readers, 60 articles with pictures, simulated reading.

The articles live as JSON in `content/` (original text written for the demo, marked as such on
every page); the pictures are drawn by `art.py`. Everything is deterministic for a given seed.
"""

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from masthead.accounts import actions as account_actions
from masthead.accounts.models import Account, Follow
from masthead.articles import actions
from masthead.articles.images import create_image
from masthead.articles.models import Article, Image, ImageLabel
from masthead.channels.models import Channel
from masthead.demo import art
from masthead.discovery import rebuild
from masthead.engagement import daily
from masthead.engagement.models import ArticleStatDay, ArticleStatHour

CONTENT_DIR = Path(__file__).with_name("content")
DEMO_NOTE = "（本文为 Masthead 演示内容，由项目为演示而原创撰写。）"
LABELS = {"资料图": ImageLabel.FILE, "示意图": ImageLabel.ILLUSTRATION, "作者供图": ImageLabel.AUTHOR}
READERS = 40
DEMO_HANDLE = "qinghe-shequ"  # the first demo account: its presence means the demo is loaded


def content_files() -> list[Path]:
    return sorted(p for p in CONTENT_DIR.glob("*.json") if p.name != "accounts.json")


def load_accounts() -> list[dict]:
    return json.loads((CONTENT_DIR / "accounts.json").read_text(encoding="utf-8"))["accounts"]


def load_channel_articles() -> list[tuple[str, dict]]:
    """(channel slug, article dict) for every demo article, in file order."""
    items = []
    for path in content_files():
        data = json.loads(path.read_text(encoding="utf-8"))
        items += [(data["channel"], article) for article in data["articles"]]
    return items


def _picture(
    motif: str,
    seed: int,
    *,
    alt: str,
    account: Account,
    size: tuple[int, int],
    caption: str = "",
    label: str = "",
    palette: str | None = None,
) -> Image:
    image = art.illustration(motif, seed, size=size, palette=palette)
    return create_image(
        art.to_bytes(image),
        filename=f"{motif}-{seed}.jpg",
        alt=alt,
        account=account,
        caption=caption,
        label=LABELS.get(label, label),
        credit="" if label == "作者供图" else "Masthead 演示插图",
    )


def body_html(blocks: list[dict], figure: Callable[[dict], int]) -> str:
    """Turn the JSON body blocks into the HTML a creator's editor would send."""
    parts = []
    for block in blocks:
        if "p" in block:
            parts.append(f"<p>{escape(block['p'])}</p>")
        elif "h" in block:
            parts.append(f"<h2>{escape(block['h'])}</h2>")
        elif "quote" in block:
            parts.append(f"<blockquote><p>{escape(block['quote'])}</p></blockquote>")
        elif "ul" in block or "ol" in block:
            tag = "ul" if "ul" in block else "ol"
            items = "".join(f"<li>{escape(item)}</li>" for item in block[tag])
            parts.append(f"<{tag}>{items}</{tag}>")
        elif "figure" in block:
            parts.append(f'<figure><img data-image="{figure(block["figure"])}"></figure>')
    parts.append(f"<p><em>{DEMO_NOTE}</em></p>")
    return "\n".join(parts)


@transaction.atomic
def load_demo(*, seed: int = 2026, limit_per_channel: int | None = None, log: Callable[[str], None] = print) -> dict:
    """Create the demo site; returns counts of what was created."""
    rng = random.Random(seed)
    now = timezone.now()
    channels = {c.slug: c for c in Channel.objects.all()}

    accounts: dict[str, Account] = {}
    palettes: dict[str, str | None] = {}
    for i, spec in enumerate(load_accounts()):
        palettes[spec["handle"]] = spec.get("palette")
        account = Account(
            handle=spec["handle"], name=spec["name"], slogan=spec["slogan"], field=spec["field"],
            badge=spec["badge"], verified=spec["verified"], ip_region=spec["ip_region"],
            credential_name=spec.get("credential_name", ""),
            credential_expires_on=now.date() + timedelta(days=365) if spec.get("credential_name") else None,
        )  # fmt: skip
        avatar = art.avatar(seed + i, size=256, palette=spec.get("palette"))
        account.avatar.save(f"{spec['handle']}.png", ContentFile(art.to_bytes(avatar, "PNG")), save=False)
        account.save()
        accounts[spec["handle"]] = account
    log(f"{len(accounts)} creator accounts")

    per_channel: dict[str, int] = {}
    articles: list[Article] = []
    items = load_channel_articles()
    for n, (slug, spec) in enumerate(items):
        per_channel[slug] = per_channel.get(slug, 0) + 1
        if limit_per_channel and per_channel[slug] > limit_per_channel:
            continue
        account = accounts[spec["author"]]
        palette = palettes[spec["author"]]
        figure_seed = iter(range(seed * 100 + n * 10, seed * 100 + n * 10 + 10))

        def figure(fig: dict, account=account, palette=palette, seeds=figure_seed) -> int:
            return _picture(
                fig["motif"], next(seeds), alt=fig["alt"], account=account, size=(960, 540),
                caption=fig.get("caption", ""), label=fig.get("label", ""), palette=palette,
            ).pk  # fmt: skip

        cover = _picture(
            spec["cover"]["motif"], seed + n, alt=spec["cover"]["alt"], account=account,
            size=(1200, 675), label="示意图", palette=palette,
        )  # fmt: skip
        article = actions.create_article(
            account=account,
            channel=channels[slug],
            title=spec["title"],
            summary=spec["summary"],
            body=body_html(spec["body"], figure),
            tags=spec["tags"],
            cover=cover,
            source=spec.get("source", ""),
            is_original=spec.get("original", True),
            is_fiction=spec.get("fiction", False),
            is_ai_generated=spec.get("ai_generated", False),
            ip_region=account.ip_region,
        )
        # Spread publication over the last ten days; a third within the last day.
        hours_ago = rng.uniform(0.5, 24) if n % 3 == 0 else rng.uniform(24, 240)
        actions.publish(article, at=now - timedelta(hours=hours_ago))
        articles.append(article)
    log(f"{len(articles)} articles")

    simulate_audience(rng, articles, list(accounts.values()), now)
    rebuild.after_bulk_load(log)
    account_actions.recount()
    return {"accounts": len(accounts), "articles": len(articles), "readers": READERS}


def simulate_audience(rng: random.Random, articles: list[Article], accounts: list[Account], now: datetime) -> None:
    """Readers who follow accounts, and hourly reads and shares so counts and the hot list are alive."""
    User = get_user_model()
    readers = [User(username=f"demo-reader-{i:02d}", first_name=f"读者{i:02d}") for i in range(1, READERS + 1)]
    for reader in readers:
        reader.set_unusable_password()
    User.objects.bulk_create(readers)
    readers = list(User.objects.filter(username__startswith="demo-reader-"))
    follows = [
        Follow(user=reader, account=account)
        for reader in readers
        for account in rng.sample(accounts, rng.randint(1, min(6, len(accounts))))
    ]
    Follow.objects.bulk_create(follows, ignore_conflicts=True)

    hour_now = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    stats = []
    for article in articles:
        appeal = rng.uniform(0.3, 3.0)
        views = shares = 0
        published_hour = article.published_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        age_hours = int((hour_now - published_hour).total_seconds() // 3600)
        # Reading peaks after publication and fades over three days, as news reading does.
        for k in range(min(age_hours, 72) + 1):
            v = int(rng.uniform(5, 60) * appeal / (1 + k / 12))
            s = int(v * rng.uniform(0.0, 0.06))
            if v:
                at = published_hour + timedelta(hours=k)
                stats.append(ArticleStatHour(article=article, hour=at, views=v, shares=s))
            views, shares = views + v, shares + s
        Article.objects.filter(pk=article.pk).update(view_count=views + rng.randint(0, 500), share_count=shares)
    ArticleStatHour.objects.bulk_create(stats)
    daily.days_from_hours()
    # Simulated readers: most read once a day, a fifth of page views report how far they scrolled.
    ArticleStatDay.objects.update(
        readers=F("views") * 4 / 5, depth_count=F("views") / 5, depth_sum=F("views") / 5 * rng.randint(55, 75)
    )
