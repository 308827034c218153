"""/api/v1/docs/: every operation of the spec on one server-rendered page, readable without JavaScript."""

import itertools
import os
import re
from html.parser import HTMLParser

import pytest

from masthead.api import docs_views
from masthead.api.core import api
from tests.api.conftest import make_user
from tests.e2e.conftest import browser  # noqa: F401  (a fixture)
from tests.e2e.test_accessibility import WIDER_THAN_SCREEN, _context, _violations

pytestmark = pytest.mark.django_db
# Playwright's sync API runs an event loop in this thread; the ORM calls here are not in it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

DOCS = "/api/v1/docs/"


class Outline(HTMLParser):
    """The page's language, headings inside <main>, ids, in-page links and external resources."""

    def __init__(self) -> None:
        super().__init__()
        self.lang, self.headings, self.ids, self.anchors, self.external = None, [], [], [], []
        self._in_main, self._heading = False, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "main":
            self._in_main = True
        if "id" in attrs:
            self.ids.append(attrs["id"])
        href = attrs.get("href") or ""
        if href.startswith("#"):
            self.anchors.append(href[1:])
        for url in (attrs.get("src"), href if tag == "link" else None):
            if url and re.match(r"(https?:)?//", url):
                self.external.append(url)
        if self._in_main and re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), ""]

    def handle_data(self, data):
        if self._heading is not None:
            self._heading[1] += data

    def handle_endtag(self, tag):
        if tag == "main":
            self._in_main = False
        if self._heading is not None and tag == f"h{self._heading[0]}":
            self.headings.append((self._heading[0], " ".join(self._heading[1].split())))
            self._heading = None


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def operations() -> list[tuple[str, str, dict]]:
    spec = api.get_openapi_schema()
    return [(method, path, op) for path, item in spec["paths"].items() for method, op in item.items()]


@pytest.fixture
def page(client) -> str:
    response = client.get(DOCS)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


def test_every_operation_in_the_spec_is_on_the_page(page):
    ops = operations()
    assert len(ops) >= 10  # the routers are mounted: an empty spec would pass the loop vacuously
    headings = {text for _level, text in outline(page).headings}
    for method, path, op in ops:
        assert f'id="op-{op["operationId"]}"' in page, (method, path)
        expected = f"{method.upper()} {path}" + (f" {op['summary']}" if op.get("summary") else "")
        assert expected in headings, expected
    assert f"<dd>{len(ops)}</dd>" in page  # the count of operations


def test_operations_say_whether_they_need_a_token_and_which_scope(page):
    def section(op_id: str) -> str:
        start = page.index(f'id="op-{op_id}"')
        return page[start : page.index("</section>", start)]

    def route(method: str, pattern: str) -> str:
        # Path parameters by shape, not name ({id} or {article_id}): the routers are still changing.
        [op_id] = [op["operationId"] for m, p, op in operations() if m == method and re.fullmatch(pattern, p)]
        return op_id

    comment = section(route("post", r"/api/v1/articles/\{\w+\}/comments"))
    assert "需要访问令牌" in comment and "<code>comment</code>" in comment
    assert "<code>read</code>" in section(route("get", "/api/v1/me"))
    listing = section(route("get", "/api/v1/articles"))
    assert "公开：无需令牌。" in listing
    # Parameters with their bounds, and the response shape linked to its description.
    assert "<code>limit</code>" in listing and "≥ 1, ≤ 50" in listing
    [listing_op] = [op for m, p, op in operations() if (m, p) == ("get", "/api/v1/articles")]
    ok = listing_op["responses"].get(200) or listing_op["responses"]["200"]  # ints in Python, strings in JSON
    shape = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert f'href="#schema-{shape}"' in listing
    assert f'id="schema-{shape}"' in page and "<code>next_cursor</code>" in page


def test_every_operation_that_needs_a_caller_names_its_scope():
    """A router whose scope cannot be read from `require(request, "…")` must say `openapi_extra={"x-scope": …}`."""
    ref = docs_views.current_reference()
    unnamed = [
        f"{op['method']} {op['path']}"
        for g in ref["groups"]
        for op in g["operations"]
        if op["auth"] and not op["scopes"]
    ]
    assert unnamed == []
    assert any(op["scopes"] == ["publish"] for g in ref["groups"] for op in g["operations"])


def test_auth_and_the_error_format_are_explained(page):
    for code in ("token_invalid", "scope_missing", "not_authenticated", "rate_limited", "invalid", "not_found"):
        assert f"<code>{code}</code>" in page, code
    assert "application/problem+json" in page
    assert "Authorization: Bearer mh_…" in page
    assert 'href="/me/tokens/"' in page


def test_the_page_is_accessible_and_needs_no_outside_resources(page):
    found = outline(page)
    assert found.lang in ("zh-CN", "en")
    levels = [level for level, _text in found.headings]
    assert levels.count(1) == 1 and levels[0] == 1
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, found.headings  # no skipped heading level
    assert len(found.ids) == len(set(found.ids)), "duplicate ids"
    assert set(found.anchors) <= set(found.ids), set(found.anchors) - set(found.ids)
    assert found.external == []  # no CDN: the page works offline
    assert "swagger" not in page.lower()


def test_the_page_is_cached_for_readers_and_revalidates(client):
    first = client.get(DOCS)
    assert first["X-Page-Cache"] == "miss"
    second = client.get(DOCS)
    assert second["X-Page-Cache"] == "hit"
    assert second.content == first.content
    assert client.get(DOCS, headers={"if-none-match": second["ETag"]}).status_code == 304


def test_signed_in_readers_get_it_too_without_rebuilding_the_reference(client, django_assert_max_num_queries):
    client.get(DOCS)  # builds the reference (once per process) and warms the channel bar
    before = docs_views.current_reference.cache_info().misses
    client.force_login(make_user())
    with django_assert_max_num_queries(4):  # session, user, the user menu: nothing per operation
        response = client.get(DOCS)
    assert response.status_code == 200
    assert docs_views.current_reference.cache_info().misses == before


def test_an_explicit_scope_and_shapes_are_rendered_from_any_spec():
    spec = {
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/x/{id}": {
                "post": {
                    "operationId": "make_x",
                    "summary": "Make",
                    "tags": ["xs"],
                    "security": [{"BearerToken": []}],
                    "x-scope": "publish",
                    "parameters": [{"in": "path", "name": "id", "required": True, "schema": {"type": "integer"}}],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/XIn"}}},
                    },
                    "responses": {"201": {"description": "OK", "content": {"application/json": {"schema": {}}}}},
                }
            }
        },
        "components": {
            "schemas": {
                "XIn": {
                    "type": "object",
                    "required": ["title"],
                    "properties": {
                        "title": {"type": "string", "maxLength": 64, "description": "标题"},
                        "tags": {"type": "array", "items": {"type": "string"}, "default": []},
                        "at": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
                    },
                }
            }
        },
    }
    ref = docs_views.reference(spec, {})
    [group] = ref["groups"]
    [op] = group["operations"]
    assert (group["tag"], op["method"], op["scopes"], op["auth"]) == ("xs", "POST", ["publish"], True)
    rows = {row["name"]: row for row in op["body"][0]["fields"]}
    assert rows["title"]["required"] and rows["title"]["bounds"] == "max length 64"
    assert str(rows["tags"]["type"]) == "string[]"
    assert str(rows["at"]["type"]) == "string (date-time) | null"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("care", [False, True], ids=["standard", "care"])
def test_the_page_passes_axe_and_fits_a_phone_in_both_editions(browser, live_server, care):  # noqa: F811
    context = _context(browser, live_server, care=care)
    page = context.new_page()
    assert page.goto(DOCS).status == 200
    assert _violations(page, care=care) == []
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(DOCS)
    assert page.evaluate(WIDER_THAN_SCREEN) == []
    context.close()
