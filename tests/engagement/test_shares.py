"""Shares count real share actions (Weibo, QQ, copying the link, the WeChat QR code shown), once per
reader, article and day; requests started by other sites and prefetches count nothing."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from masthead.engagement import actions, counters
from masthead.engagement.models import ArticleSharer
from tests import factories
from tests.engagement.test_reactions import signed_in, user_with_role

pytestmark = pytest.mark.django_db

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def _shares(item) -> int:
    counters.flush()
    item.refresh_from_db()
    return item.share_count


def _reader(n: int) -> Client:
    """An anonymous reader: a browser of its own (User-Agent) on its own address."""
    return Client(HTTP_USER_AGENT=f"Browser/{n}", REMOTE_ADDR=f"198.51.100.{n}")


def test_weibo_and_qq_links_count_one_share_per_reader_per_day_and_still_redirect():
    item = factories.article()
    ann, bob = _reader(1), _reader(2)
    for target, host in (("weibo", "https://service.weibo.com/"), ("qq", "https://connect.qq.com/")):
        for _ in range(2):
            response = ann.get(reverse("web:share", args=[item.pk, target]), headers=SAME_ORIGIN)
            assert response.status_code == 302 and response["Location"].startswith(host)
    assert _shares(item) == 1  # four clicks, one reader
    bob.get(reverse("web:share", args=[item.pk, "weibo"]), headers=SAME_ORIGIN)
    assert _shares(item) == 2


def test_copy_link_and_qr_code_count_with_the_other_share_actions():
    item = factories.article()
    ann = _reader(1)
    link = reverse("engagement:shared", args=[item.pk, "link"])
    qr = reverse("engagement:shared", args=[item.pk, "qr"])
    answer = ann.post(link, headers={**SAME_ORIGIN, "Accept": "application/json"})
    assert answer.status_code == 200 and answer.json() == {"counted": True}
    assert ann.post(link, headers={**SAME_ORIGIN, "Accept": "application/json"}).json() == {"counted": False}
    assert ann.post(qr, headers=SAME_ORIGIN).status_code == 204
    ann.get(reverse("web:share", args=[item.pk, "qq"]), headers=SAME_ORIGIN)
    assert _shares(item) == 1
    # The QR code as a background image (no JavaScript): a GET from this site's stylesheet.
    bob = _reader(2)
    response = bob.get(qr, headers={"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "image"})
    assert response.status_code == 204 and response["Cache-Control"].startswith("max-age=0")
    assert _shares(item) == 2


def test_share_posts_need_no_csrf_token_since_cached_pages_have_none():
    item = factories.article()
    strict = Client(enforce_csrf_checks=True, HTTP_USER_AGENT="Browser/1")
    assert strict.post(reverse("engagement:shared", args=[item.pk, "link"]), headers=SAME_ORIGIN).status_code == 204
    assert _shares(item) == 1


def test_signed_in_readers_are_one_reader_wherever_they_are():
    item = factories.article()
    user = user_with_role("reader")
    at_home, on_the_train = signed_in(user), signed_in(user)
    at_home.get(reverse("web:share", args=[item.pk, "weibo"]), REMOTE_ADDR="198.51.100.1")
    on_the_train.get(reverse("web:share", args=[item.pk, "qq"]), REMOTE_ADDR="203.0.113.9")
    assert _shares(item) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},  # an <img> or a link on another site
        {"Origin": "https://elsewhere.example"},
        {"Referer": "https://elsewhere.example/page"},
        {"Sec-Purpose": "prefetch"},  # the browser guessing, not the reader clicking
        {"Purpose": "prefetch"},
    ],
)
def test_requests_from_other_sites_and_prefetches_count_nothing(headers):
    item = factories.article()
    reader = _reader(1)
    assert reader.get(reverse("web:share", args=[item.pk, "weibo"]), headers=headers).status_code == 302
    assert reader.post(reverse("engagement:shared", args=[item.pk, "link"]), headers=headers).status_code == 204
    assert reader.get(reverse("engagement:shared", args=[item.pk, "qr"]), headers=headers).status_code == 204
    assert _shares(item) == 0 and not ArticleSharer.objects.exists()


def test_this_sites_own_referer_or_origin_counts():
    item = factories.article()
    _reader(1).get(reverse("web:share", args=[item.pk, "weibo"]), headers={"Referer": "http://testserver/a/1/"})
    _reader(2).post(reverse("engagement:shared", args=[item.pk, "link"]), headers={"Origin": "http://testserver"})
    assert _shares(item) == 2


def test_wrong_targets_methods_and_articles_are_refused():
    item, draft = factories.article(), factories.article(publish=False)
    client = _reader(1)
    assert client.get(reverse("engagement:shared", args=[item.pk, "link"])).status_code == 404  # only the QR by GET
    assert client.post(reverse("engagement:shared", args=[item.pk, "facebook"])).status_code == 404
    assert client.post(reverse("engagement:shared", args=[draft.pk, "link"])).status_code == 404
    assert client.put(reverse("engagement:shared", args=[item.pk, "qr"])).status_code == 405
    assert _shares(item) == 0


def test_yesterdays_share_does_not_stop_todays():
    item = factories.article()
    reader = _reader(1)
    reader.get(reverse("web:share", args=[item.pk, "weibo"]))
    sharer = ArticleSharer.objects.get()
    ArticleSharer.objects.filter(pk=sharer.pk).update(day=sharer.day - timedelta(days=1))  # it was yesterday
    reader.get(reverse("web:share", args=[item.pk, "weibo"]))
    assert _shares(item) == 2


def test_old_sharer_digests_are_deleted(monkeypatch):
    item = factories.article()
    today = counters.local_day()
    ArticleSharer.objects.create(article=item, day=today - timedelta(days=5), reader="old")
    ArticleSharer.objects.create(article=item, day=today - timedelta(days=1), reader="yesterday")
    monkeypatch.setattr(actions, "_sharers_purged_on", None)  # as in a process that has not purged today
    _reader(1).get(reverse("web:share", args=[item.pk, "weibo"]))
    assert ArticleSharer.objects.filter(day=today).count() == 1  # the share just made
    assert not ArticleSharer.objects.filter(reader="old").exists()
    assert ArticleSharer.objects.filter(reader="yesterday").exists()


def test_share_attempts_are_limited_per_address(settings):
    settings.MASTHEAD_RATE_LIMITS = {"share-ip": (3, 600)}
    item = factories.article()
    # A script inventing a new User-Agent for every request is a new "reader" each time.
    for n in range(5):
        Client(HTTP_USER_AGENT=f"Bot/{n}").get(reverse("web:share", args=[item.pk, "weibo"]))
    assert _shares(item) == 3


def test_article_page_carries_the_share_counters_and_no_token(client):
    item = factories.article()
    html = client.get(item.get_absolute_url()).content.decode()
    assert f'data-share-link="/a/{item.pk}/shared/link/"' in html
    assert f"--qr-seen: url('/a/{item.pk}/shared/qr/')" in html  # the no-JavaScript QR counter
    assert "engagement/reactions.js" in html and "engagement/reactions.css" in html
    assert "csrfmiddlewaretoken" not in html
