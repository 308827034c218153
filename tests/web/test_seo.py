"""Page metadata (titles, descriptions, canonical URLs, Open Graph, JSON-LD) and the share block,
read from the rendered HTML as a crawler or a share service would."""

import json
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import pytest
import segno
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from masthead.articles import actions
from masthead.web import share
from tests import factories

pytestmark = pytest.mark.django_db

EVIL_TITLE = '注意</script><script>alert(1)</script>"引号" & <!-- 注释'


class Head(HTMLParser):
    """The parts of a page that crawlers and share previews read."""

    def __init__(self, html: str):
        super().__init__()
        self.titles: list[str] = []
        self.meta: dict[str, list[str]] = {}
        self.canonical: list[str] = []
        self.json_ld: list[str] = []
        self.qr_svg = ""
        self._capture: str | None = None
        self._buffer: list[str] = []
        self.feed(html)
        self.close()
        self.qr_svg = _between(html, '<div class="qr"', "</div>")

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "title":
            self._capture, self._buffer = "title", []
        elif tag == "script" and attrs.get("type") == "application/ld+json":
            self._capture, self._buffer = "ld", []
        elif tag == "meta" and (attrs.get("property") or attrs.get("name")):
            self.meta.setdefault(attrs.get("property") or attrs["name"], []).append(attrs.get("content"))
        elif tag == "link" and attrs.get("rel") == "canonical":
            self.canonical.append(attrs["href"])

    def handle_data(self, data):
        if self._capture:
            self._buffer.append(data)

    def handle_endtag(self, tag):
        if self._capture == "title" and tag == "title":
            self.titles.append("".join(self._buffer))
            self._capture = None
        elif self._capture == "ld" and tag == "script":
            self.json_ld.append("".join(self._buffer))
            self._capture = None

    def one(self, key: str) -> str:
        values = self.meta.get(key, [])
        assert len(values) == 1, (key, values)
        return values[0]


def _between(html: str, start: str, end: str) -> str:
    at = html.find(start)
    return html[at : html.index(end, at)] if at >= 0 else ""


def _head(client, url: str) -> Head:
    response = client.get(url)
    assert response.status_code == 200, url
    return Head(response.content.decode())


def _with_avatar(account):
    account.avatar.save("avatar.jpg", ContentFile(factories.image_bytes((200, 200))), save=True)
    return account


@pytest.fixture
def site():
    writer = _with_avatar(factories.account(name="星河观察", slogan="把技术讲清楚"))
    other = factories.account(name="江南笔记", slogan="把技术讲清楚")  # same slogan, different account
    cover = factories.image(account=writer)
    item = factories.article(
        account_=writer, title="如何看懂天气预报", summary="气象台的术语，一次讲明白。", cover=cover
    )
    factories.article(account_=other, title="没有封面的文章", channel_=factories.channel("sports"))
    return {"writer": writer, "other": other, "article": item}


def _pages(site) -> dict[str, str]:
    item = site["article"]
    return {
        "home": "/",
        "channel": item.channel.get_absolute_url(),
        "sports": "/c/sports/",
        "creator": site["writer"].get_absolute_url(),
        "other creator": site["other"].get_absolute_url(),
        "article": item.get_absolute_url(),
    }


def test_every_page_has_its_own_title_description_canonical_and_open_graph(client, settings, site):
    heads = {name: _head(client, url) for name, url in _pages(site).items()}

    for name, head in heads.items():
        url = _pages(site)[name]
        assert len(head.titles) == 1 and head.titles[0].strip(), name
        assert head.one("description").strip(), name
        assert head.canonical == [f"http://testserver{url}"], name
        assert head.one("og:url") == head.canonical[0], name
        assert head.one("og:title") == head.titles[0], name
        assert head.one("og:description") == head.one("description"), name
    titles = [h.titles[0] for h in heads.values()]
    descriptions = [h.one("description") for h in heads.values()]
    assert len(set(titles)) == len(titles), titles
    assert len(set(descriptions)) == len(descriptions), descriptions

    assert heads["article"].titles[0].startswith("如何看懂天气预报 - 星河观察 - ")
    assert heads["article"].one("description") == "气象台的术语，一次讲明白。"
    assert heads["creator"].one("description").startswith("星河观察")
    assert {name: h.one("og:type") for name, h in heads.items()} == {
        "home": "website", "channel": "website", "sports": "website",
        "creator": "profile", "other creator": "profile", "article": "article",
    }  # fmt: skip

    # og:image only where there is a picture: the article's cover, the creator's avatar.
    cover = heads["article"].one("og:image")
    assert cover.startswith("http://testserver/media/") and cover.endswith(".webp")
    assert default_storage.exists(urlsplit(cover).path.removeprefix(settings.MEDIA_URL))
    assert heads["creator"].one("og:image").startswith("http://testserver/media/avatars/")
    for name in ("home", "channel", "other creator"):
        assert "og:image" not in heads[name].meta, name


def test_public_site_url_is_used_for_canonical_and_open_graph(client, settings, site):
    settings.SITE_URL = "https://news.example.com"
    for name, url in _pages(site).items():
        head = _head(client, url)
        assert head.canonical == [f"https://news.example.com{url}"], name
        assert head.one("og:url") == f"https://news.example.com{url}", name
    head = _head(client, site["article"].get_absolute_url())
    assert head.one("og:image").startswith("https://news.example.com/media/")
    data = json.loads(head.json_ld[0])
    assert data["mainEntityOfPage"] == f"https://news.example.com{site['article'].get_absolute_url()}"
    assert data["author"]["url"] == f"https://news.example.com{site['writer'].get_absolute_url()}"


def test_media_already_on_another_host_is_not_prefixed(rf, settings, site):
    from masthead.web import seo

    settings.SITE_URL = "https://news.example.com"
    request = rf.get("/")
    assert seo.absolute_url(request, "https://cdn.example.net/x.webp") == "https://cdn.example.net/x.webp"
    assert seo.absolute_url(request, "/a/1/") == "https://news.example.com/a/1/"


def test_later_listing_pages_are_their_own_canonical_pages(client):
    writer = factories.account(name="日更作者")
    for _ in range(21):
        factories.article(account_=writer)
    for url in ("/", "/c/tech/", writer.get_absolute_url()):
        first, second = _head(client, url), _head(client, f"{url}?page=2")
        assert first.canonical == [f"http://testserver{url}"]
        assert second.canonical == [f"http://testserver{url}?page=2"]
        assert "第2页" in second.titles[0] and first.titles[0] != second.titles[0]
        assert _head(client, f"{url}?page=abc").canonical == first.canonical


def test_article_json_ld_is_a_complete_news_article(client, site):
    item = site["article"]
    data = json.loads(_head(client, item.get_absolute_url()).json_ld[0])

    assert data["@context"] == "https://schema.org" and data["@type"] == "NewsArticle"
    assert data["headline"] == "如何看懂天气预报"
    published = datetime.fromisoformat(data["datePublished"])
    assert published.utcoffset() == timedelta(hours=8)  # shown in Asia/Shanghai, offset included
    assert published == item.published_at.replace(microsecond=0)
    assert datetime.fromisoformat(data["dateModified"]) >= published
    assert data["author"] == {
        "@type": "Organization",
        "name": "星河观察",
        "url": "http://testserver/u/" + item.account.handle + "/",
    }
    assert data["publisher"]["name"] and data["publisher"]["url"] == "http://testserver/"
    assert len(data["image"]) == 1 and data["image"][0].startswith("http://testserver/media/")
    assert data["mainEntityOfPage"] == f"http://testserver{item.get_absolute_url()}"
    assert data["articleSection"] == "科技"


def test_a_hostile_title_cannot_break_out_of_the_json_ld_script(client):
    item = factories.article(title=EVIL_TITLE, summary=EVIL_TITLE)
    html = client.get(item.get_absolute_url()).content.decode()
    head = Head(html)

    assert len(head.json_ld) == 1
    data = json.loads(head.json_ld[0])  # the script element ended where it should
    assert data["headline"] == EVIL_TITLE and data["description"] == EVIL_TITLE
    assert "<script>alert(1)" not in html
    assert head.titles[0].startswith(EVIL_TITLE)  # escaped in <title>, shown to the reader as typed
    assert head.one("og:title").startswith(EVIL_TITLE)


def test_removed_article_has_no_news_article_markup(client):
    item = factories.article(title="下架文章")
    actions.remove(item, reason="不实信息")
    response = client.get(item.get_absolute_url())
    assert response.status_code == 410
    assert Head(response.content.decode()).json_ld == []


# --- the share block ------------------------------------------------------------------------


def _query(url: str) -> dict[str, str]:
    """Query parameters decoded the way the share pages' JavaScript does (decodeURIComponent: no '+')."""
    pairs = (part.split("=", 1) for part in urlsplit(url).query.split("&"))
    return {unquote(k): unquote(v) for k, v in pairs}


@pytest.mark.parametrize(
    "target,host,path",
    [("weibo", "service.weibo.com", "/share/share.php"), ("qq", "connect.qq.com", "/widget/shareqq/index.html")],
)
def test_share_links_carry_the_article_address_and_title_encoded(client, target, host, path):
    title = "C++ 入门 & 进阶 #1：100% 讲透?"
    item = factories.article(title=title)

    response = client.get(reverse("web:share", args=[item.pk, target]))

    assert response.status_code == 302
    location = response["Location"]
    assert urlsplit(location).scheme == "https" and urlsplit(location).netloc == host
    assert urlsplit(location).path == path
    params = _query(location)
    assert params["url"] == f"http://testserver{item.get_absolute_url()}"
    assert params["title"] == title
    assert not re.search(r"[ #&+:?/]", urlsplit(location).query.replace("&", "").replace("=", ""))


def test_share_redirect_is_only_for_known_targets_and_published_articles(client):
    item = factories.article()
    draft = factories.article(publish=False)
    assert client.get(reverse("web:share", args=[item.pk, "facebook"])).status_code == 404
    assert client.get(reverse("web:share", args=[draft.pk, "weibo"])).status_code == 404


def test_share_targets_use_the_public_site_url(client, settings):
    settings.SITE_URL = "https://news.example.com"
    item = factories.article()
    public = f"https://news.example.com{item.get_absolute_url()}"
    location = client.get(reverse("web:share", args=[item.pk, "weibo"]))["Location"]
    assert _query(location)["url"] == public
    assert decode_qr(_svg_matrix(_head(client, item.get_absolute_url()).qr_svg)) == public


# --- the WeChat QR code: decoded independently of segno ----------------------------------------


def _svg_matrix(svg: str) -> list[list[bool]]:
    """Dark modules of a segno SVG: 'M x y' / 'm dx dy' move, 'h n' draws n dark modules on row y-0.5."""
    size = int(re.search(r'd="M0 0h(\d+)v', svg).group(1))
    dark = re.search(r'class="qrline"[^>]*d="([^"]+)"', svg).group(1)
    grid = [[False] * size for _ in range(size)]
    x = y = 0.0
    for command, a, b in re.findall(r"([MmhH])(-?[\d.]+)(?:\s(-?[\d.]+))?", dark):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            for column in range(int(x), int(x + float(a))):
                grid[int(y)][column] = True
            x += float(a)
    border = next(i for i in range(size) if any(grid[i]))
    return [row[border : size - border] for row in grid[border : size - border]]


# (blocks, data codewords per block) for versions 1–4, where all blocks of a level are the same size.
_BLOCKS = {
    1: {"L": (1, 19), "M": (1, 16), "Q": (1, 13), "H": (1, 9)},
    2: {"L": (1, 34), "M": (1, 28), "Q": (1, 22), "H": (1, 16)},
    3: {"L": (1, 55), "M": (1, 44), "Q": (2, 17), "H": (2, 13)},
    4: {"L": (1, 80), "M": (2, 32), "Q": (2, 24), "H": (4, 9)},
}
_LEVEL_BITS = {"L": 1, "M": 0, "Q": 3, "H": 2}
_MASKS = [
    lambda x, y: (x + y) % 2 == 0,
    lambda x, y: y % 2 == 0,
    lambda x, y: x % 3 == 0,
    lambda x, y: (x + y) % 3 == 0,
    lambda x, y: (x // 3 + y // 2) % 2 == 0,
    lambda x, y: x * y % 2 + x * y % 3 == 0,
    lambda x, y: (x * y % 2 + x * y % 3) % 2 == 0,
    lambda x, y: ((x + y) % 2 + x * y % 3) % 2 == 0,
]


def _format_bits(level: str, mask: int) -> int:
    data = _LEVEL_BITS[level] << 3 | mask
    rem = data
    for _ in range(10):
        rem = (rem << 1) ^ ((rem >> 9) * 0x537)
    return (data << 10 | rem) ^ 0x5412


def decode_qr(m: list[list[bool]]) -> str:
    """Read a byte-mode QR code (versions 1–4) as a phone would: format, unmask, zigzag, de-interleave."""
    size = len(m)
    version = (size - 17) // 4
    assert size == 17 + 4 * version and version in _BLOCKS, f"not a QR code of version 1-4: {size}×{size}"
    at = lambda x, y: int(m[y][x])  # noqa: E731 (x = column, y = row, as in the standard)
    bits = [at(8, i) for i in range(6)] + [at(8, 7), at(8, 8), at(7, 8)] + [at(14 - i, 8) for i in range(9, 15)]
    read = sum(bit << i for i, bit in enumerate(bits))
    level, mask = next((lv, mk) for lv in _LEVEL_BITS for mk in range(8) if _format_bits(lv, mk) == read)

    function = [[False] * size for _ in range(size)]
    for y in range(size):
        for x in range(size):
            corner = (x < 9 and y < 9) or (x >= size - 8 and y < 9) or (x < 9 and y >= size - 8)
            function[y][x] = corner or x == 6 or y == 6
    if version > 1:
        c = size - 7
        for y in range(c - 2, c + 3):
            for x in range(c - 2, c + 3):
                function[y][x] = True

    stream = []
    right = size - 1
    while right >= 1:
        if right == 6:
            right = 5
        for vert in range(size):
            for j in range(2):
                x = right - j
                y = size - 1 - vert if ((right + 1) & 2) == 0 else vert
                if not function[y][x]:
                    stream.append(at(x, y) ^ int(_MASKS[mask](x, y)))
        right -= 2
    codewords = [int("".join(map(str, stream[i : i + 8])), 2) for i in range(0, len(stream) - 7, 8)]
    blocks, per_block = _BLOCKS[version][level]
    data = [codewords[i * blocks + b] for b in range(blocks) for i in range(per_block)]

    bitstring = "".join(f"{c:08b}" for c in data)
    assert bitstring[:4] == "0100", "byte mode"
    length = int(bitstring[4:12], 2)
    return bytes(int(bitstring[12 + 8 * i : 20 + 8 * i], 2) for i in range(length)).decode()


def test_wechat_qr_code_scans_to_the_article_address(client):
    item = factories.article(title="扫码阅读")
    head = _head(client, item.get_absolute_url())
    url = f"http://testserver{item.get_absolute_url()}"

    matrix = _svg_matrix(head.qr_svg)
    assert decode_qr(matrix) == url
    assert matrix == [[bool(v) for v in row] for row in segno.make_qr(url, error="m").matrix]


@pytest.mark.parametrize("url", ["http://t/a/1/", "https://news.example.com/a/123456/"])
def test_qr_code_is_always_a_full_qr_code_even_for_short_addresses(url):
    # segno.make would choose a Micro QR code for very short text; WeChat does not read those.
    assert decode_qr(_svg_matrix(share.qr_svg(url))) == url
