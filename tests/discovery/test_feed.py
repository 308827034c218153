"""The 推荐 feed: reasons, 不感兴趣, interest tags, and the switch that really turns personal signals off."""

import os

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from masthead.accounts.models import Follow
from masthead.discovery import related  # noqa: F401  (connects the receiver that keeps lists current)
from masthead.discovery.feed import feed_for
from masthead.discovery.interests import infer_interests, set_personalized, visible_interests
from masthead.discovery.models import Dismissal, Interest
from masthead.engagement.models import ReadingHistory
from tests import factories
from tests.e2e.conftest import browser  # noqa: F401  (a fixture)
from tests.e2e.conftest import logged_in_context as _logged_in_context

pytestmark = pytest.mark.django_db
# Playwright's sync API runs an event loop in this thread; the ORM calls here are not in it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    def make(title: str, words: str, **fields):
        with django_capture_on_commit_callbacks(execute=True):
            return factories.article(title=title, body=f"<p>{words * 6}</p>", tags=(), **fields)

    return make


@pytest.fixture
def reader(client):
    user = get_user_model().objects.create_user("feed-reader", password="a-long-pass-phrase")
    client.force_login(user)
    return user


@pytest.fixture
def site(publish):
    astro = factories.account(name="星空号")
    return {
        "astro": astro,
        "followed": publish("火星探测器着陆", "火星探测器着陆成功，火星表面的岩石样本令人期待。", account_=astro),
        "telescope1": publish("望远镜拍到新星系", "望远镜观测星系，星系的光谱揭示了宇宙的年龄。"),
        "telescope2": publish("星系碰撞的望远镜图像", "星系碰撞被望远镜记录，星系合并形成新的结构。"),
        "cooking": publish("红烧肉的火候", "红烧肉需要小火慢炖，火候决定了红烧肉的口感。"),
        "limited": publish("望远镜谣言", "望远镜发现外星人的传言在网上流传，望远镜星系。", account_=astro),
    }


def limit_reach(article):
    article.reach_limited = True
    article.save(update_fields=["reach_limited"])


def read(user, *articles):
    for article in articles:
        ReadingHistory.objects.create(user=user, article=article, read_at=timezone.now())


def reasons(items) -> dict[int, str]:
    return {i.article.pk: i.reason for i in items}


def test_follows_and_reading_give_reasons(site, reader):
    limit_reach(site["limited"])
    Follow.objects.create(user=reader, account=site["astro"])
    read(reader, site["telescope1"])
    got = reasons(feed_for(reader))
    assert got[site["followed"].pk] == "因为你关注了「星空号」"
    assert got[site["telescope2"].pk] == "因为你读过「望远镜拍到新星系」"
    assert site["telescope1"].pk not in got  # already read
    assert site["limited"].pk not in got  # limited reach: never, even from a followed account


def test_interest_tags_are_inferred_listed_and_deletable(site, reader, client):
    read(reader, site["telescope1"], site["telescope2"])
    terms = {i.term for i in infer_interests(reader)}
    assert "星系" in terms and "望远镜" in terms
    page = client.get("/me/interests/").content.decode()
    assert "星系" in page

    response = client.post("/me/interests/delete/", {"term": "星系"})
    assert response.status_code == 302
    infer_interests(reader)  # reading again must not bring it back
    assert "星系" not in {i.term for i in visible_interests(reader)}
    assert Interest.objects.get(user=reader, term="星系").blocked
    assert "星系" not in client.get("/me/interests/").content.decode()


def test_interest_matches_say_which_interest(site, reader, publish):
    read(reader, site["telescope1"])
    infer_interests(reader)
    fresh = publish("新望远镜投入使用", "这台望远镜将观测更远的星系和望远镜阵列。")
    reason = reasons(feed_for(reader))[fresh.pk]
    assert reason.startswith(("与你的兴趣「", "因为你读过「"))


def test_not_interested_takes_effect_at_once(site, reader, client):
    Follow.objects.create(user=reader, account=site["astro"])
    read(reader, site["telescope1"])
    infer_interests(reader)
    before = {i.term: i.weight for i in visible_interests(reader)}
    target = site["telescope2"]
    assert target.pk in reasons(feed_for(reader))

    response = client.post(f"/feed/dismiss/{target.pk}/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.json()["dismissed"] == target.pk
    client.post(f"/feed/dismiss/{target.pk}/")  # a double submit is harmless
    assert Dismissal.objects.filter(user=reader, article=target).count() == 1
    assert target.pk not in reasons(feed_for(reader))
    assert f'data-feed-entry="{target.pk}"' not in client.get("/feed/").content.decode()
    after = {i.term: i.weight for i in visible_interests(reader)}
    assert any(after.get(term, 0) < weight for term, weight in before.items())


def test_switch_off_ignores_every_personal_signal(site, reader, client):
    Follow.objects.create(user=reader, account=site["astro"])
    read(reader, site["telescope1"])
    infer_interests(reader)
    Dismissal.objects.create(user=reader, article=site["cooking"])
    personal = feed_for(reader)
    assert {i.kind for i in personal} & {"follow", "read"}

    response = client.post("/feed/personalization/", {"state": "off"})
    assert response.status_code == 302
    off = feed_for(reader)
    anonymous = feed_for(None)
    assert [(i.article.pk, i.reason) for i in off] == [(i.article.pk, i.reason) for i in anonymous]
    assert {i.kind for i in off} <= {"hot", "latest"}
    assert site["telescope1"].pk in {i.article.pk for i in off}  # reading history not used either
    assert site["cooking"].pk in {i.article.pk for i in off}  # nor 不感兴趣
    page = client.get("/feed/").content.decode()
    assert "个性化推荐：已关闭" in page and "开启个性化推荐" in page and "不感兴趣" not in page
    # Nothing is inferred while it is off.
    Interest.objects.all().delete()
    read(reader, site["telescope2"])
    assert infer_interests(reader) == [] and not Interest.objects.filter(user=reader).exists()

    client.post("/feed/personalization/", {"state": "on"})
    assert {i.kind for i in feed_for(reader)} & {"follow", "read"}


def test_feed_page_shows_reasons_switch_and_controls(site, reader, client, django_assert_max_num_queries):
    Follow.objects.create(user=reader, account=site["astro"])
    read(reader, site["telescope1"])
    client.get("/feed/")  # warm the shared fragments; the reader's own part is never cached
    with django_assert_max_num_queries(22):
        page = client.get("/feed/").content.decode()
    assert "因为你关注了「星空号」" in page
    assert "关闭个性化推荐" in page and "不感兴趣" in page
    assert "/me/interests/" in page and "/how-it-works/" in page


def test_anonymous_feed_explains_and_carries_nothing_personal(site, client):
    page = client.get("/feed/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "登录后" in text and "?next=/feed/" in text
    assert "csrfmiddlewaretoken" not in text and "不感兴趣" not in text
    assert site["followed"].title in text


def test_home_has_the_tabs_and_how_it_works_explains(client):
    home = client.get("/").content.decode()
    assert 'href="/feed/"' in home and "推荐" in home and "最新" in home
    how = client.get("/how-it-works/").content.decode()
    assert "热榜" in how and "关闭个性化" in how and "兴趣标签" in how


def test_controls_need_sign_in_and_post(site, client):
    assert client.post(f"/feed/dismiss/{site['cooking'].pk}/").status_code == 302  # to the login page
    assert client.get("/me/interests/").status_code == 302
    user = get_user_model().objects.create_user("poster")
    client.force_login(user)
    assert client.get(f"/feed/dismiss/{site['cooking'].pk}/").status_code == 405
    set_personalized(user, True)


@pytest.mark.django_db(transaction=True)
def test_not_interested_in_the_browser_without_reload_and_the_switch(browser, live_server):  # noqa: F811
    """Chromium: 不感兴趣 removes the item at once without a reload; the switch is one click."""
    writer = factories.account(name="星空号")
    kept = factories.article(title="星空观测入门", account_=writer, tags=())
    dropped = factories.article(title="流星雨什么时候看", account_=writer, tags=())
    reader = get_user_model().objects.create_user("browser-reader")
    Follow.objects.create(user=reader, account=writer)
    context = _logged_in_context(browser, live_server, reader)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto("/feed/")
    page.evaluate("window.notReloaded = true")
    entry = page.locator(f'[data-feed-entry="{dropped.pk}"]')
    entry.get_by_role("button", name="不感兴趣").click()
    entry.wait_for(state="detached")
    assert page.evaluate("window.notReloaded") is True
    assert page.locator(f'[data-feed-entry="{kept.pk}"]').is_visible()
    page.reload()
    assert page.locator(f'[data-feed-entry="{dropped.pk}"]').count() == 0

    page.get_by_role("button", name="关闭个性化推荐").click()
    page.get_by_role("heading", name="个性化推荐：已关闭").wait_for()
    assert page.locator(f'[data-feed-entry="{dropped.pk}"]').count() == 1  # the default ignores 不感兴趣
    assert "因为你关注了" not in page.content()
    assert errors == []
    context.close()
