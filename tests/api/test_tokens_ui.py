"""我的 → 访问令牌: create (shown once), use, revoke; only one's own tokens; CSRF; the care edition."""

import os
import re

import pytest
from django.test import Client
from django.urls import reverse

from masthead.api import tokens
from masthead.api.models import AccessToken
from masthead.web.pagecache import CARE_COOKIE
from tests.api.conftest import bearer, is_problem, make_user, token_for
from tests.e2e.conftest import (
    browser,  # noqa: F401  (a fixture)
    logged_in_context,
)
from tests.e2e.test_accessibility import WIDER_THAN_SCREEN, _violations

pytestmark = pytest.mark.django_db
# Playwright's sync API runs an event loop in this thread; the ORM calls here are not in it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PAGE = "/me/tokens/"
ME = "/api/v1/me"
TOKEN_RE = re.compile(rb"mh_[A-Za-z0-9_-]{40,}")


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def offered(response) -> set[str]:
    return set(re.findall(r'name="scopes" value="(\w+)"', response.content.decode()))


def create(client: Client, name: str = "手机客户端", scopes=("read", "comment")):
    return client.post(PAGE, {"name": name, "scopes": list(scopes)})


def revoke_url(token: AccessToken) -> str:
    return reverse("api_tokens:revoke", args=[token.pk])


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=/me/tokens/")
    assert client.post(PAGE, {"name": "x", "scopes": ["read"]}).status_code == 302
    assert not AccessToken.objects.exists()


def test_scopes_offered_follow_what_the_user_can_do(reader, creator, editor):
    assert offered(signed_in(reader).get(PAGE)) == {"read", "comment"}
    assert offered(signed_in(creator).get(PAGE)) == {"read", "comment", "drafts", "publish"}
    assert offered(signed_in(editor).get(PAGE)) == {"read", "comment", "review"}


def test_a_scope_not_offered_is_refused(reader):
    client = signed_in(reader)
    response = create(client, scopes=("read", "review"))
    assert response.status_code == 400
    assert "review" in response.context["form"].errors["scopes"][0]
    response = create(client, scopes=("drafts",))
    assert response.status_code == 400
    assert not AccessToken.objects.exists()


def test_the_new_token_is_shown_once_uncached_and_works(reader):
    client = signed_in(reader)
    response = create(client, "备份脚本", ("read",))
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    [raw] = set(TOKEN_RE.findall(response.content))
    raw = raw.decode()
    assert "Location" not in response
    # Only a digest is kept: the plaintext is nowhere in the row.
    row = AccessToken.objects.get(user=reader)
    assert row.name == "备份脚本" and row.scope_list == ["read"]
    assert raw not in {row.digest, row.prefix, row.scopes, row.name}
    # It works as a bearer token, as its owner, within its scope.
    api = Client()
    answer = api.get(ME, **bearer(raw))
    assert answer.status_code == 200
    assert answer.json()["username"] == reader.get_username()
    assert answer.json()["scopes"] == ["read"]
    assert is_problem(api.delete(f"{ME}/history", **bearer(raw)), 403, "scope_missing")
    # Reloading the page lists the token (prefix, last use) but never shows it again.
    again = client.get(PAGE)
    assert again.status_code == 200
    assert raw.encode() not in again.content
    assert not TOKEN_RE.search(again.content)
    assert row.prefix.encode() in again.content
    assert "备份脚本" in again.content.decode()


def test_invalid_input_is_explained_and_creates_nothing(reader):
    client = signed_in(reader)
    response = create(client, "   ", ("read",))
    assert response.status_code == 400
    assert response.context["form"].errors["name"]
    response = create(client, "脚本", ())
    assert response.status_code == 400
    assert "请至少选择一项权限范围。" in response.content.decode()
    assert not AccessToken.objects.exists()


def test_the_limit_on_live_tokens_is_shown_as_a_form_error(reader):
    for _ in range(tokens.MAX_TOKENS):
        token_for(reader, "read")
    response = create(signed_in(reader))
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert AccessToken.objects.filter(user=reader).count() == tokens.MAX_TOKENS


def test_revoke_asks_first_then_the_token_stops_working(reader):
    raw = token_for(reader, "read")
    token = AccessToken.objects.get(user=reader)
    assert Client().get(ME, **bearer(raw)).status_code == 200
    client = signed_in(reader)

    confirm = client.get(revoke_url(token))
    assert confirm.status_code == 200
    assert "确认撤销" in confirm.content.decode()
    assert Client().get(ME, **bearer(raw)).status_code == 200  # asking is not revoking

    done = client.post(revoke_url(token))
    assert done.status_code == 302 and done["Location"] == PAGE
    assert is_problem(Client().get(ME, **bearer(raw)), 401, "token_invalid")
    listing = client.get(PAGE).content.decode()
    assert "已撤销" in listing
    assert revoke_url(token) not in listing
    # Revoking again changes nothing and says so.
    assert client.post(revoke_url(token)).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_another_users_token_cannot_be_seen_or_revoked(reader, creator):
    raw = token_for(creator, "read")
    theirs = AccessToken.objects.get(user=creator)
    client = signed_in(reader)
    assert client.get(revoke_url(theirs)).status_code == 404
    assert client.post(revoke_url(theirs)).status_code == 404
    assert theirs.name not in client.get(PAGE).content.decode()
    assert Client().get(ME, **bearer(raw)).status_code == 200


def test_csrf_is_enforced_on_create_and_revoke(reader):
    client = signed_in(reader, enforce_csrf_checks=True)
    assert create(client).status_code == 403
    assert not AccessToken.objects.exists()

    page = client.get(PAGE)
    csrf = page.context["csrf_token"]
    created = client.post(PAGE, {"name": "脚本", "scopes": ["read"], "csrfmiddlewaretoken": csrf})
    assert created.status_code == 201
    token = AccessToken.objects.get(user=reader)
    assert client.post(revoke_url(token)).status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
    assert client.post(revoke_url(token), {"csrfmiddlewaretoken": csrf}).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_the_page_is_accessible_and_works_in_the_care_edition(reader):
    client = signed_in(reader)
    token_for(reader, "read")
    client.cookies[CARE_COOKIE] = "1"
    html = client.get(PAGE).content.decode()
    assert 'class="care"' in html
    assert html.count("<h1") == 1
    # Every input has a label; the scopes are a labelled group.
    for input_id in re.findall(r'<input[^>]+type="(?:text|checkbox)"[^>]*id="([^"]+)"', html):
        assert f'for="{input_id}"' in html
    assert "<legend>" in html
    assert "读取：我的关注、收藏、通知和创作数据" in html  # the plain-language description of a scope


def test_the_list_costs_the_same_with_more_tokens(reader, django_assert_num_queries, django_assert_max_num_queries):
    client = signed_in(reader)
    token_for(reader, "read")
    client.get(PAGE)  # warm the channel bar
    # Session (unless cached), user, the scopes offered, the user menu, the tokens: at most five.
    with django_assert_max_num_queries(5) as few:
        client.get(PAGE)
    for _ in range(5):
        token_for(reader, "read", "comment")
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(PAGE)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("care", [False, True], ids=["standard", "care"])
def test_the_pages_pass_axe_and_fit_a_phone_in_both_editions(browser, live_server, care):  # noqa: F811
    user = make_user()
    context = logged_in_context(browser, live_server, user)
    if care:
        context.add_cookies([{"name": CARE_COOKIE, "value": "1", "url": live_server.url}])
    page = context.new_page()
    page.goto(PAGE)
    page.get_by_label("名称").fill("手机客户端")
    page.get_by_label("互动", exact=False).check()
    page.get_by_role("button", name="创建令牌").click()
    assert page.evaluate("document.activeElement.id") == "token-plaintext"  # the new token has the focus
    assert page.locator("#token-plaintext").input_value().startswith("mh_")
    assert _violations(page, care=care) == []
    page.goto(revoke_url(AccessToken.objects.get(user=user)))
    assert _violations(page, care=care) == []
    page.set_viewport_size({"width": 320, "height": 800})
    for url in (PAGE, revoke_url(AccessToken.objects.get(user=user))):
        page.goto(url)
        assert page.evaluate(WIDER_THAN_SCREEN) == [], url
    context.close()
