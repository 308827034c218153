"""Hostile input to the API's write operations comes back inert or is refused with a clear problem.

Script tags, event handlers and javascript: URLs are stored as text (comments, titles) or sanitized
(article bodies) and never reach a page as markup; broken encodings, NUL characters, huge or deeply
nested bodies and wrong content types are refused with 400/413/415, never a 500.
"""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

from masthead.api.core import api
from masthead.articles import actions
from masthead.articles.models import Article, Image
from masthead.engagement.models import Comment
from tests import factories
from tests.api.conftest import bearer, make_user, post_json, token_for

pytestmark = pytest.mark.django_db

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">点我</a>',
    "<svg/onload=alert(1)>",
    '"><iframe src="javascript:alert(1)"></iframe>',
    "<scr<script>ipt>alert(1)</script>",
]
# Markup that would run if it reached a page as such.
ACTIVE = re.compile(r"<script|<iframe|<svg|\son\w+\s*=|javascript:", re.IGNORECASE)


def need(method: str, pattern: str) -> str:
    for path, item in api.get_openapi_schema()["paths"].items():
        if re.fullmatch(pattern, path) and method in item:
            return path
    pytest.skip(f"{method.upper()} {pattern} is not in the spec yet")


def problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["detail"]
    if code:
        assert body["code"] == code, body
    return body


def post_raw(client, path: str, data: bytes, content_type: str = "application/json", **extra):
    return client.generic("POST", path, data, content_type=content_type, **extra)


@pytest.fixture
def auth():
    """The Authorization of a creator (for drafts) who also comments: a token with every scope."""
    user = make_user("creator")
    factories.account(owner=user)
    return bearer(token_for(user))


@pytest.fixture
def article():
    return factories.article(title="被评论的文章")


@pytest.fixture
def comments_path(article):
    return need("post", r"/api/v1/articles/\{[^}]+\}/comments").replace("{id}", str(article.pk))


@pytest.fixture
def drafts_path():
    return need("post", r"/api/v1/studio/articles")


# --- markup comes back inert -------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_comment_is_stored_as_text_and_escaped_on_the_page(
    client, settings, auth, article, comments_path, text
):
    settings.MASTHEAD_RATE_LIMITS = {"comment-user-minute": (100, 60)}
    response = post_json(client, comments_path, {"body": f"评论 {text}"}, **auth)
    if response.status_code == 400:  # refused by screening is also inert: but it must be a clear problem
        problem(response, 400)
        return
    assert response.status_code in (201, 202), response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"  # a browser never sniffs the JSON as HTML
    assert response.json()["body"] == f"评论 {text}"  # text, as written: escaping is the renderer's job
    page = client.get(article.get_absolute_url()).content.decode()
    assert escape(f"评论 {text}") in page  # shown as the text it is …
    assert text not in page  # … never as markup


def test_hostile_draft_body_is_sanitized_and_the_title_escaped(client, auth, drafts_path):
    body = (
        "<p>正文开头。</p>"
        + "".join(f"<p>{t}</p>" for t in HOSTILE)
        + '<p><a href="https://example.com/">好链接</a></p>'
    )
    response = post_json(client, drafts_path, {"title": "<script>alert(1)</script>标题", "body_html": body}, **auth)
    assert response.status_code == 201, response.content[:300]
    saved = response.json()
    assert not ACTIVE.search(saved["body_html"]), saved["body_html"]
    assert "正文开头" in saved["body_html"] and 'href="https://example.com/"' in saved["body_html"]
    item = Article.objects.get(pk=saved["id"])
    actions.publish(item)
    page = client.get(item.get_absolute_url()).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;标题" in page
    assert "<script>alert(1)" not in page and "onerror=" not in page and "javascript:alert" not in page


def test_hostile_search_query_is_echoed_as_json_text(client):
    path = need("get", r"/api/v1/search")
    response = client.get(path, {"q": "<script>alert(1)</script>"})
    assert response.status_code in (200, 400), response.content[:300]
    assert response["Content-Type"].startswith(("application/json", "application/problem+json"))
    assert response["X-Content-Type-Options"] == "nosniff"


# --- broken encodings and forbidden characters ------------------------------------------------------


def test_invalid_utf8_in_a_json_body_is_a_400(client, auth, comments_path, drafts_path):
    for path in (comments_path, drafts_path):
        problem(
            post_raw(client, path, b'{"body": "\xff\xfe\xc3(", "title": "\xed\xa0\x80"}', **auth), 400, "bad_encoding"
        )


def test_invalid_utf8_in_query_strings_never_breaks_a_read(client):
    paths = [p for p, item in api.get_openapi_schema()["paths"].items() if "get" in item and "{" not in p]
    if not paths:
        pytest.skip("no parameterless GET operation in the spec yet")
    for path in paths:
        for query in ("q=%FF%FE%C3%28", "channel=%C3%28&tag=%ED%A0%80&cursor=%80", "limit=%FF"):
            response = client.get(f"{path}?{query}")
            assert response.status_code < 500, (path, query, response.content[:300])


def test_nul_characters_are_refused_everywhere(client, auth, article, comments_path, drafts_path):
    problem(post_json(client, comments_path, {"body": "有\u0000空字符"}, **auth), 400, "invalid_characters")
    problem(post_json(client, drafts_path, {"title": "标题\u0000"}, **auth), 400, "invalid_characters")
    problem(post_json(client, drafts_path, {"title": "标题", "tags": ["a\u0000b"]}, **auth), 400, "invalid_characters")
    problem(client.get(need("get", r"/api/v1/search"), {"q": "a\x00b"}), 400, "invalid_characters")
    problem(client.get("/api/v1/accounts/a%00b"), 400, "invalid_characters")
    assert not Comment.objects.exists()


def test_nul_characters_in_form_fields_are_refused(client, auth):
    path = need("post", r"/api/v1/studio/images")
    upload = SimpleUploadedFile("p.jpg", factories.image_bytes(), content_type="image/jpeg")
    problem(client.post(path, {"alt": "图\x00片", "file": upload}, **auth), 400, "invalid_characters")
    assert not Image.objects.exists()


def test_too_many_query_fields_is_a_400_not_a_crash(client, auth):
    path = need("get", r"/api/v1/hot")
    query = "&".join(f"f{i}=1" for i in range(1_500))  # over DATA_UPLOAD_MAX_NUMBER_FIELDS
    problem(client.get(f"{path}?{query}", **auth), 400, "bad_request")
    problem(client.get(f"{path}?{query}"), 400, "bad_request")  # anonymous: the page cache leaves it to the API


def test_numbers_no_column_can_hold_are_refused(client, auth, comments_path):
    huge = b'{"body": "number", "reply_to": 123456789012345678901234567890}'
    problem(post_raw(client, comments_path, huge, **auth), 400, "invalid_number")
    for constant in (b"NaN", b"Infinity", b"-Infinity"):  # Python's json reads them; JSON has no such thing
        problem(post_raw(client, comments_path, b'{"body": "x", "reply_to": ' + constant + b"}", **auth), 400)
    assert not Comment.objects.exists()


def test_lone_surrogates_are_refused(client, auth, comments_path):
    raw = b'{"body": "\\ud800 half a pair"}'  # valid JSON, but no UTF-8 can store it
    problem(post_raw(client, comments_path, raw, **auth), 400, "invalid_characters")


# --- size, depth and content type ---------------------------------------------------------------------


def test_ten_megabyte_json_body_is_a_413(client, auth, comments_path, drafts_path):
    big = json.dumps({"body": "长" * (10 * 1024 * 1024 // 3)}).encode()
    for path in (comments_path, drafts_path):
        problem(post_raw(client, path, big, **auth), 413, "too_large")


def test_ten_megabyte_upload_over_the_limit_is_a_413(client, settings, auth):
    path = need("post", r"/api/v1/studio/images")
    settings.MASTHEAD_MAX_UPLOAD_BYTES = 1024 * 1024
    blob = b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024)
    boundary = "hostileboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="alt"\r\n\r\nalt\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + blob
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = post_raw(client, path, body, content_type=f"multipart/form-data; boundary={boundary}", **auth)
    problem(response, 413, "too_large")


@pytest.mark.parametrize("depth", [2_000, 200_000])
def test_deeply_nested_json_is_a_400(client, auth, comments_path, depth):
    nested = b'{"body": ' + b"[" * depth + b"]" * depth + b"}"
    problem(post_raw(client, comments_path, nested, **auth), 400)


def test_nested_json_where_text_belongs_is_a_400_naming_the_field(client, auth, comments_path):
    body = problem(post_json(client, comments_path, {"body": [[[["深"]]]]}, **auth), 400, "invalid")
    assert [e["field"] for e in body["errors"]] == ["body"]


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("text/plain", b'{"body": "json sent as text"}'),
        ("application/x-www-form-urlencoded", b"body=%3Cscript%3E"),
        ("text/html", b"<script>alert(1)</script>"),
        ("application/xml", b"<body>xml</body>"),
    ],
)
def test_wrong_content_type_is_a_415(client, auth, comments_path, content_type, data):
    problem(post_raw(client, comments_path, data, content_type=content_type, **auth), 415, "unsupported_media_type")
    assert not Comment.objects.exists()


def test_multipart_where_json_is_expected_is_refused(client, auth, drafts_path):
    response = client.post(drafts_path, {"title": "表单"}, **auth)  # the test client sends multipart/form-data
    problem(response, 415, "unsupported_media_type")
    assert not Article.objects.filter(title="表单").exists()


def test_the_caller_can_still_write_after_refusals(client, auth, article, comments_path):
    assert post_raw(client, comments_path, b"\xff", **auth).status_code == 400
    assert post_raw(client, comments_path, b"[" * 50_000, **auth).status_code == 400
    assert post_json(client, comments_path, {"body": "正常的跟帖"}, **auth).status_code == 201
    assert Comment.objects.filter(article=article).count() == 1
