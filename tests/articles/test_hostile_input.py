"""Hostile titles and bodies come out inert: through the actions and on the article page."""

import re
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError

from masthead.articles import actions
from masthead.articles.body import render_body
from tests import factories

pytestmark = pytest.mark.django_db

KEEP = "保留的文字"

PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "script in attribute-less case": "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "img onerror": '<img src="x" onerror="alert(1)">',
    "javascript link": '<a href="javascript:alert(1)">链接</a>',
    "javascript link, odd case and spaces": '<a href="  JaVaScRiPt:alert(1)">链接</a>',
    "javascript link with a tab": '<a href="java\tscript:alert(1)">链接</a>',
    "entity-encoded javascript": '<a href="java&#x73;cript:alert(1)">链接</a>',
    "decimal-entity javascript": '<a href="&#106;&#97;vascript:alert(1)">链接</a>',
    "svg onload": "<svg onload=alert(1)><circle r=10></circle></svg>",
    "svg script": '<svg><script xlink:href="data:,alert(1)"></script><a xlink:href="javascript:alert(1)">x</a></svg>',
    "iframe": '<iframe src="https://evil.example/" srcdoc="<script>alert(1)</script>"></iframe>',
    "style attribute": '<p style="background:url(javascript:alert(1))">段落</p>',
    "style element": "<style>body{display:none}</style>",
    "data: link": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">链接</a>',
    "data: image": '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    "math mXSS": (  # the DOMPurify 2.0.0 bypass
        '<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;/mglyph&gt;&lt;img&Tab;src=1&Tab;'
        'onerror=alert(1)&gt;"></mglyph></table></mtext></math>'
    ),
    "template": "<template><script>alert(1)</script><img src=x onerror=alert(1)></template>",
    "noscript mXSS": '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "comment": "<!-- <script>alert(1)</script> -->",
    "conditional comment": "<!--[if IE]><script>alert(1)</script><![endif]-->",
    "form and autofocus": (
        '<form action="javascript:alert(1)"><input autofocus onfocus="alert(1)"><button>b</button></form>'
    ),
    "object and embed": '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x.swf">',
    "base, meta, link": (
        '<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=javascript:alert(1)">'
        '<link rel="stylesheet" href="https://evil.example/x.css">'
    ),
    "image reference with a handler": '<img data-image="999999" onerror="alert(1)" src="javascript:alert(1)">',
}

SAFE_TAGS = {
    "p", "br", "h2", "h3", "h4", "strong", "b", "em", "i", "u", "s", "blockquote", "ul", "ol", "li", "a", "img",
    "figure", "figcaption", "hr", "code", "pre", "span", "sub", "sup", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
SAFE_ATTRIBUTES = {"href", "title", "rel", "colspan", "rowspan", "scope", "start", "data-image", "class", "src",
                   "srcset", "sizes", "width", "height", "alt", "loading", "decoding"}  # fmt: skip


class _Inventory(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_comment(self, data):
        self.comments.append(data)


def assert_inert(fragment: str) -> None:
    """Only harmless tags and attributes, links that cannot run code, no comments, nothing loaded from elsewhere."""
    inventory = _Inventory()
    inventory.feed(fragment)
    assert not inventory.comments, fragment
    for tag, attrs in inventory.tags:
        assert tag in SAFE_TAGS, fragment
        assert set(attrs) <= SAFE_ATTRIBUTES, fragment
        href = (attrs.get("href") or "").strip().lower()
        assert href.startswith(("http://", "https://", "mailto:", "/")) or not href, fragment
        for name in ("src", "srcset"):
            assert (attrs.get(name) or "/media/").startswith("/media/"), fragment  # only our own pictures
    lowered = fragment.lower()
    for needle in ("javascript:", "data:", "<script", "onerror", "onload", "style=", "<!--"):
        assert needle not in lowered, fragment


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_hostile_body_is_inert_and_readable_text_stays(payload):
    writer = factories.account()
    item = actions.create_article(
        account=writer, channel=factories.channel(), title="标题", body=f"<p>{KEEP}</p>{payload}<p>{KEEP}二</p>"
    )
    item.refresh_from_db()
    assert_inert(item.body_html)
    assert f"<p>{KEEP}</p>" in item.body_html and f"<p>{KEEP}二</p>" in item.body_html
    assert item.body_text.startswith(KEEP) and item.body_text.endswith(f"{KEEP}二")
    assert "alert" not in item.body_text

    actions.update_article(item, body=f"<h2>{KEEP}</h2>{payload}")
    item.refresh_from_db()
    assert_inert(item.body_html)
    assert f"<h2>{KEEP}</h2>" in item.body_html


def test_safe_markup_survives_with_links_marked_as_user_content():
    body = (
        '<h2>小标题</h2><p>正文<strong>加粗</strong><a href="https://example.org/a?b=1&amp;c=2" onclick="x()" '
        'target="_blank">来源</a></p><blockquote><p>引用</p></blockquote><ol start="3"><li>一</li></ol>'
        "<table><tr><th scope=col>甲</th></tr><tr><td colspan=2>乙</td></tr></table><pre><code>a &lt; b</code></pre>"
    )
    html = render_body(body).html
    assert_inert(html)
    assert '<a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer nofollow ugc">来源</a>' in html
    for kept in ("<h2>小标题</h2>", "<strong>加粗</strong>", "<blockquote><p>引用</p></blockquote>", '<ol start="3">',
                 '<th scope="col">甲</th>', '<td colspan="2">乙</td>', "<pre><code>a &lt; b</code></pre>"):  # fmt: skip
        assert kept in html


def test_hostile_title_is_stored_as_text_and_shown_escaped(client):
    title = '<script>alert("标题")</script><img src=x onerror=alert(1)>新闻'
    item = factories.article(title=title)
    assert item.title == title  # a title is text, not HTML: nothing to strip, everything to escape

    page = client.get(item.get_absolute_url()).content.decode()
    escaped = "&lt;script&gt;alert(&quot;标题&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;新闻"
    assert re.search(r'<h1 id="article-title"[^>]*>(.*?)</h1>', page).group(1) == escaped
    assert "<script>alert" not in page and "<img src=x" not in page


def test_article_page_shows_hostile_body_inert(client):
    body = f"<p>{KEEP}</p>" + "".join(PAYLOADS.values()) + f"<p>{KEEP}完</p>"
    item = factories.article(body=body, summary='"><script>alert(1)</script>')
    response = client.get(item.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 200
    article_body = re.search(r'<div class="article-body"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert_inert(article_body)
    assert KEEP in article_body and f"{KEEP}完" in article_body
    for needle in ("<script>alert", "onerror=", "onload=", "javascript:", "evil.example", "<iframe", "<svg onload"):
        assert needle not in page


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("正文\x00中间\x00结束", "正文中间结束"),  # NUL: PostgreSQL cannot store it at all
        ("正文\x07\x1b[31m红\x7f", "正文[31m红"),  # other control characters
        ("正文\udcff\udc80结束", "正文结束"),  # lone surrogates, as JSON lets through from undecodable bytes
    ],
)
def test_control_characters_and_broken_text_are_stripped_keeping_the_readable_rest(raw, expected):
    item = actions.create_article(
        account=factories.account(), channel=factories.channel(), title=f"标题{raw}", body=f"<p>{raw}</p>",
        summary=raw, source=raw, tags=[raw],
    )  # fmt: skip
    item.refresh_from_db()  # it really reached the database (PostgreSQL refuses NUL bytes)
    assert item.title == f"标题{expected}"
    assert item.body_html == f"<p>{expected}</p>" and item.body_text == expected
    assert item.summary == expected and item.source == expected
    assert [t.name for t in item.tags.all()] == [expected]


def test_invalid_utf8_bytes_are_dropped_from_a_body():
    rendered = render_body("<p>前半\u3000段</p>".encode() + b"\xff\xfe\xc3" + "<p>后半段</p>".encode())
    assert rendered.text == "前半\u3000段\n后半段"
    assert "\ufffd" not in rendered.html and "后半段" in rendered.html


def test_title_that_is_only_markup_whitespace_or_control_characters_is_refused():
    for title in ("", "   \n\t ", "\x00\x01"):
        with pytest.raises(ValidationError) as exc:
            actions.create_article(account=factories.account(), channel=factories.channel(), title=title, body="")
        assert exc.value.message_dict == {"title": ["标题不能为空。"]}
