"""The demo site: its JSON content, what `masthead demo` loads, and what readers then see."""

import io
import json
import re
import time
from html import escape

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, Q
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from PIL import Image as PILImage

from masthead.accounts.models import Account, Follow
from masthead.articles.models import Article
from masthead.channels.models import Channel
from masthead.demo import art
from masthead.demo.loader import CONTENT_DIR, DEMO_NOTE, load_accounts, load_channel_articles

HAN = re.compile(r"[\u4e00-\u9fff]")
ARTICLE_KEYS = {"title", "summary", "author", "tags", "original", "fiction", "ai_generated", "source", "cover", "body"}
ACCOUNT_KEYS = {"handle", "name", "slogan", "field", "badge", "verified", "ip_region"}
BLOCK_KEYS = {"p", "h", "quote", "ul", "ol", "figure"}


def _schema_list(heading: str) -> set[str]:
    """An allowed-values list as SCHEMA.md states it, e.g. "- Motifs (…): city, mountains, …"."""
    text = (CONTENT_DIR / "SCHEMA.md").read_text(encoding="utf-8")
    match = re.search(rf"^- {heading}[^:]*:(.*?)(?=^- |\Z)", text, re.M | re.S)
    assert match, heading
    return {re.sub(r"\s*\(.*\)", "", item).strip().rstrip(".") for item in match.group(1).split(",")}


def _han(text: str) -> int:
    return len(HAN.findall(text))


def _block_text(block: dict) -> str:
    return "".join(block.get(k, "") for k in ("p", "h", "quote")) + "".join(block.get("ul", []) + block.get("ol", []))


# --- The content files, read directly (no database) -------------------------------------------


def test_schema_lists_match_the_picture_generator():
    assert _schema_list("Motifs") == set(art.MOTIFS)
    assert _schema_list("Labels") == {"资料图", "示意图", "作者供图"}


def test_accounts_file_is_complete_and_unique():
    accounts = load_accounts()
    assert len(accounts) >= 10
    for spec in accounts:
        assert set(spec) >= ACCOUNT_KEYS, spec
        assert spec["name"].strip() and spec["slogan"].strip() and spec["field"].strip()
        assert re.fullmatch(r"[a-z0-9-]+", spec["handle"]), spec["handle"]
        assert spec.get("palette") is None or spec["palette"] in art.PALETTES
    assert len({a["handle"] for a in accounts}) == len(accounts)
    assert len({a["name"] for a in accounts}) == len(accounts)


def test_article_files_follow_the_schema():
    motifs, labels = _schema_list("Motifs"), _schema_list("Labels")
    handles = {a["handle"] for a in load_accounts()}
    files = sorted(p for p in CONTENT_DIR.glob("*.json") if p.name != "accounts.json")
    assert len(files) == 12
    titles = []
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["channel"] == path.stem, path.name  # one file per channel, named after its slug
        for item in data["articles"]:
            where = f"{path.name}: {item.get('title')}"
            assert set(item) == ARTICLE_KEYS, where
            assert 12 <= len(item["title"]) <= 30, where
            assert 30 <= len(item["summary"]) <= 80, where  # as SCHEMA.md asks
            assert item["author"] in handles, where
            assert 2 <= len(item["tags"]) <= 4 and all(0 < len(t) <= 20 for t in item["tags"]), where
            assert all(isinstance(item[k], bool) for k in ("original", "fiction", "ai_generated")), where
            assert isinstance(item["source"], str), where
            assert item["cover"]["motif"] in motifs and item["cover"]["alt"].strip(), where
            figures = [b["figure"] for b in item["body"] if "figure" in b]
            assert 1 <= len(figures) <= 2, where
            for fig in figures:
                assert fig["motif"] in motifs, where
                assert fig["label"] in labels, where
                assert fig["caption"].strip() and fig["alt"].strip(), where
            for block in item["body"]:
                assert len(block) == 1 and set(block) <= BLOCK_KEYS, (where, block)
            assert _han("".join(_block_text(b) for b in item["body"])) >= 400, where
            titles.append(item["title"])
    assert len(titles) >= 60
    assert len(set(titles)) == len(titles)


# --- The loaded demo ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_media(django_db_setup, django_db_blocker, tmp_path_factory):
    """Load the demo once for this module (about 25 s) and roll it back afterwards.

    Each test still runs in its own savepoint, so what a test adds (synthetic articles, a second
    load attempt) is gone before the next one.
    """
    media = tmp_path_factory.mktemp("demo-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        call_command("demo", stdout=io.StringIO())
        yield media
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_media, settings, db):
    settings.MEDIA_ROOT = demo_media  # the pictures were written there, not to the per-test folder
    settings.MASTHEAD_PAGE_CACHE_SECONDS = 0  # every request renders, so each one checks the page
    settings.MASTHEAD_COUNTER_FLUSH_SECONDS = 10**9  # no counter flush inside a counted request
    return demo_media


def _demo_articles():
    titles = [spec["title"] for _, spec in load_channel_articles()]
    return Article.objects.filter(title__in=titles)


def _section(html: str, start: str, end: str) -> str:
    begin = html.index(start)
    return html[begin : html.index(end, begin)]


def _hot_items(html: str) -> int:
    hot = _section(html, '<ol class="hot-list">', "</ol>")
    return hot.count("<li>")


def test_demo_has_sixty_long_articles_in_all_twelve_channels(demo):
    published = Article.objects.filter(status=Article.Status.PUBLISHED)
    assert published.count() >= 60
    for item in published:
        assert _han(item.body_text) >= 400, item.title
        assert item.cover_id is not None and item.tags.exists(), item.title
    active = Channel.objects.filter(is_active=True)
    assert active.count() == 12
    empty = active.annotate(n=Count("articles", filter=Q(articles__status="published"))).filter(n=0)
    assert list(empty) == []


def test_demo_accounts_have_names_slogans_and_avatars_that_decode(demo):
    accounts = list(Account.objects.all())
    assert len(accounts) >= 10
    assert len({a.name for a in accounts}) == len(accounts)
    for account in accounts:
        assert account.slogan and account.field, account.handle
        assert account.avatar, account.handle
        with PILImage.open(account.avatar.path) as picture:
            picture.load()
            assert picture.width == picture.height >= 64
        assert account.articles.filter(status=Article.Status.PUBLISHED).exists(), account.handle


def test_follower_and_article_counts_are_the_real_counts(demo, client):
    for account in Account.objects.all():
        followers = Follow.objects.filter(account=account).count()
        articles = Article.objects.filter(account=account, status=Article.Status.PUBLISHED).count()
        assert followers > 0
        assert (account.follower_count, account.article_count) == (followers, articles), account.handle
    account = Account.objects.order_by("-follower_count").first()
    html = client.get(account.get_absolute_url()).content.decode()
    assert f"<dd>{account.article_count}</dd>" in html and f"<dd>{account.follower_count}</dd>" in html
    assert account.slogan in html and account.avatar.url in html


def test_every_demo_article_page_shows_figures_labels_related_hot_and_demo_note(demo, client):
    specs = {spec["title"]: spec for _, spec in load_channel_articles()}
    items = list(_demo_articles().select_related("channel"))
    assert len(items) == len(specs)
    for item in items:
        response = client.get(item.get_absolute_url())
        assert response.status_code == 200, item.title
        html = response.content.decode()
        assert DEMO_NOTE in html, item.title
        assert 'class="figure cover"' in html and "（示意图）" in html, item.title
        for block in specs[item.title]["body"]:
            if "figure" in block:
                fig = block["figure"]
                assert f'<span class="caption">{escape(fig["caption"])}</span>' in html, item.title
                assert f"（{fig['label']}）" in html, item.title
                assert f'alt="{escape(fig["alt"])}"' in html, item.title
        related = _section(html, '<section class="related"', "</section>")
        assert related.count('class="item"') >= 3, item.title
        assert _hot_items(html) >= 5, item.title


def test_home_channel_and_creator_pages_are_full_and_marked_as_demo(demo, client):
    home = client.get("/").content.decode()
    assert 'class="lead"' in home and _hot_items(home) == 10
    assert "演示站点" in home
    for channel in Channel.objects.filter(is_active=True):
        html = client.get(channel.get_absolute_url()).content.decode()
        assert html.count('class="item"') >= 5, channel.slug
        assert "演示站点" in html
        assert f'id="block-{channel.slug}"' in home
    creator = client.get(Account.objects.first().get_absolute_url()).content.decode()
    assert 'class="item"' in creator and "演示站点" in creator


def test_demo_if_empty_leaves_a_site_with_articles_alone(demo):
    before = (Article.objects.count(), Account.objects.count(), Follow.objects.count())
    out = io.StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "not loaded" in out.getvalue()
    assert (Article.objects.count(), Account.objects.count(), Follow.objects.count()) == before


def test_loading_the_demo_twice_refuses_instead_of_duplicating(demo):
    before = (Article.objects.count(), Account.objects.count())
    with pytest.raises(CommandError, match="already"):
        call_command("demo", stdout=io.StringIO())
    assert (Article.objects.count(), Account.objects.count()) == before


def _page_queries(client, urls: list[str]) -> list[int]:
    counts = []
    for url in urls:
        cache.clear()  # cold fragments: every query the page can make
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200, url
        counts.append(len(captured))
    return counts


def test_demo_articles_500_adds_tagged_articles_fast_and_pages_still_answer(demo, client):
    demo_item = _demo_articles().first()
    account = Account.objects.order_by("pk").first()
    urls = ["/", "/c/tech/", account.get_absolute_url(), demo_item.get_absolute_url()]
    queries_before = _page_queries(client, urls)
    before = Article.objects.count()

    started = time.monotonic()
    call_command("demo", "--articles", "500", stdout=io.StringIO())
    assert time.monotonic() - started < 20

    assert Article.objects.count() == before + 500
    assert Article.objects.filter(status=Article.Status.PUBLISHED).count() == before + 500
    assert not Article.objects.annotate(n=Count("tags")).filter(n=0).exists()
    synthetic = Article.objects.order_by("-pk").first()
    assert DEMO_NOTE in synthetic.body_text and _han(synthetic.body_text) >= 400
    assert client.get(synthetic.get_absolute_url()).status_code == 200
    # More articles, same number of queries on every page.
    assert _page_queries(client, urls) == queries_before
    account.refresh_from_db()
    assert account.article_count == account.articles.filter(status=Article.Status.PUBLISHED).count()
