"""Reading channels and creator accounts through the API, as the channel and creator pages show them."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.utils import timezone

from masthead.accounts.models import Account
from masthead.articles import actions
from masthead.articles.models import Article
from masthead.channels.models import Channel
from tests import factories
from tests.api.conftest import is_problem

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def no_page_cache(settings):
    settings.MASTHEAD_PAGE_CACHE_SECONDS = 0


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


# --- channels ------------------------------------------------------------------------------------


def test_channels_list_active_channels_in_order_with_their_top_stories(client):
    tech, sports = factories.channel("tech"), factories.channel("sports")
    tech_items = [factories.article(channel_=tech) for _ in range(7)]
    sports_item = factories.article(channel_=sports)
    actions.remove(tech_items[0], reason="违规")
    Channel.objects.filter(slug="military").update(is_active=False)

    response = client.get(f"{API}/channels")
    assert response.status_code == 200
    channels = response.json()["items"]
    active = list(Channel.objects.filter(is_active=True).order_by("order", "id").values_list("slug", flat=True))
    assert [c["slug"] for c in channels] == active and "military" not in active
    by_slug = {c["slug"]: c for c in channels}
    assert by_slug["tech"]["name"] == "科技" and by_slug["tech"]["url"] == "http://testserver/c/tech/"
    assert by_slug["tech"]["description"] == tech.description
    assert [a["id"] for a in by_slug["tech"]["top"]] == [a.pk for a in tech_items[1:6]]  # five newest, live only
    assert [a["id"] for a in by_slug["sports"]["top"]] == [sports_item.pk]
    assert by_slug["finance"]["top"] == []


def test_channel_page_pages_through_its_articles_with_the_cursor(client):
    tech = factories.channel("tech")
    mine = [factories.article(channel_=tech) for _ in range(5)]
    factories.article(channel_=factories.channel("sports"))
    Article.objects.filter(pk__in=[mine[1].pk, mine[2].pk]).update(published_at=timezone.now() - timedelta(days=1))
    expected = list(Article.objects.filter(channel=tech).order_by("-published_at", "-id").values_list("pk", flat=True))
    seen, cursor = [], None
    while True:
        response = client.get(f"{API}/channels/tech", {"limit": 2, **({"cursor": cursor} if cursor else {})})
        data = response.json()
        assert data["channel"]["slug"] == "tech" and data["channel"]["name"] == "科技"
        seen += ids(response)
        cursor = data["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


def test_unknown_or_inactive_channel_is_404_and_bad_slugs_are_400(client):
    Channel.objects.filter(slug="military").update(is_active=False)
    factories.channel("tech")
    assert is_problem(client.get(f"{API}/channels/military"), 404, "channel_not_found")
    assert is_problem(client.get(f"{API}/channels/no-such"), 404, "channel_not_found")
    assert is_problem(client.get(f"{API}/channels/{'x' * 41}"), 400, "invalid")
    assert is_problem(client.get(f"{API}/channels/tech", {"cursor": "bad!"}), 400, "invalid")


def test_channel_reads_cost_fixed_queries(client, no_page_cache, django_assert_num_queries):
    channels = [factories.channel(slug) for slug in ("tech", "sports", "finance", "top")]
    for total in (3, 30):
        while Article.objects.count() < total:
            factories.article(channel_=channels[Article.objects.count() % 4], account_=factories.account())
        cache.clear()
        with django_assert_num_queries(3):  # cold: the channel list, the newest ids per channel, their rows
            response = client.get(f"{API}/channels")
        assert sum(len(c["top"]) for c in response.json()["items"]) == min(total, 4 * 5)
        with django_assert_num_queries(0):  # then cached until the next publish purges "fronts"
            assert client.get(f"{API}/channels").status_code == 200
        with django_assert_num_queries(1):
            assert len(ids(client.get(f"{API}/channels/tech", {"limit": 50}))) == (total + 3) // 4


# --- accounts ------------------------------------------------------------------------------------


def test_account_shows_the_author_card_and_its_introduction(client):
    writer = factories.account(
        name="科技观察",
        slogan="每天一篇科技评论",
        intro="专注半导体行业十年。",
        field="tech",
        badge=3,
        verified=True,
        ip_region="广东",
    )
    writer.avatar.save("a.jpg", ContentFile(factories.image_bytes(size=(64, 64))))
    for _ in range(2):
        factories.article(account_=writer)
    data = client.get(f"{API}/accounts/{writer.handle}").json()
    assert data["name"] == "科技观察" and data["handle"] == writer.handle
    assert data["slogan"] == "每天一篇科技评论" and data["intro"] == "专注半导体行业十年。"
    assert data["field"] == "tech" and data["field_label"] == "科技" and data["credential"] is None
    assert data["badge"] == 3 and data["badge_label"] == "认证" and data["verified"] is True
    assert data["ip_region"] == "广东" and data["article_count"] == 2 and data["follower_count"] == 0
    assert data["url"] == f"http://testserver/u/{writer.handle}/"
    assert data["avatar"].startswith("http://testserver/media/avatars/")
    assert data["articles_url"] == f"http://testserver/api/v1/accounts/{writer.handle}/articles"
    assert ids(client.get(data["articles_url"]))  # the link works


def test_regulated_fields_show_the_credential_as_the_card_does(client):
    today = timezone.localdate()
    valid = factories.account(field="finance", credential_name="证券投资咨询资格", credential_expires_on=today)
    expired = factories.account(
        field="health", credential_name="执业医师资格", credential_expires_on=today - timedelta(days=1)
    )
    missing = factories.account(field="law")
    unknown = factories.account(ip_region="")
    assert client.get(f"{API}/accounts/{valid.handle}").json()["credential"] == {
        "name": "证券投资咨询资格",
        "valid": True,
    }
    assert client.get(f"{API}/accounts/{expired.handle}").json()["credential"] == {
        "name": "执业医师资格",
        "valid": False,
    }
    data = client.get(f"{API}/accounts/{missing.handle}").json()
    assert data["credential"] == {"name": None, "valid": False} and data["field_label"] == "法律"
    assert client.get(f"{API}/accounts/{unknown.handle}").json()["ip_region"] == "未知"


def test_account_articles_are_its_published_ones_newest_first(client):
    writer = factories.account()
    mine = [factories.article(account_=writer) for _ in range(4)]
    factories.article(account_=writer, publish=False)
    actions.remove(mine[3], reason="违规")
    factories.article()
    first = client.get(f"{API}/accounts/{writer.handle}/articles", {"limit": 2})
    assert ids(first) == [mine[0].pk, mine[1].pk]
    rest = client.get(f"{API}/accounts/{writer.handle}/articles", {"cursor": first.json()["next_cursor"]})
    assert ids(rest) == [mine[2].pk] and rest.json()["next_cursor"] is None


def test_unknown_account_is_a_404_problem(client):
    for url in (f"{API}/accounts/nobody", f"{API}/accounts/nobody/articles"):
        assert is_problem(client.get(url), 404, "account_not_found"), url
    assert is_problem(client.get(f"{API}/accounts/{'a' * 41}"), 400, "invalid")
    assert is_problem(client.get(f"{API}/accounts/%E4%BD%A0%E5%A5%BD"), 404, "account_not_found")  # not a handle
    assert is_problem(client.get(f"{API}/accounts/a%00b"), 400, "invalid_characters")


def test_account_reads_cost_fixed_queries(client, no_page_cache, django_assert_num_queries):
    writer = factories.account()
    for total in (3, 30):
        while Account.objects.get(pk=writer.pk).article_count < total:
            factories.article(account_=writer)
        with django_assert_num_queries(1):
            assert client.get(f"{API}/accounts/{writer.handle}").status_code == 200
        with django_assert_num_queries(2):  # the account, then the page
            assert len(ids(client.get(f"{API}/accounts/{writer.handle}/articles", {"limit": 50}))) == total


def test_account_answers_are_cached_and_purged_when_the_account_publishes(client, django_capture_on_commit_callbacks):
    writer = factories.account()
    factories.article(account_=writer)
    url = f"{API}/accounts/{writer.handle}"
    client.get(url)
    cached = client.get(url)
    assert cached["X-Page-Cache"] == "hit" and cached.json()["article_count"] == 1
    assert client.get(url, HTTP_IF_NONE_MATCH=cached["ETag"]).status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        factories.article(account_=writer)
    fresh = client.get(url)
    assert fresh["X-Page-Cache"] == "miss" and fresh.json()["article_count"] == 2
