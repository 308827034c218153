"""The creator's studio over the API: drafts (sanitised, versioned), images under the studio's upload rules,
submitting and publishing as the web allows, lists and statistics with fixed query counts."""

import io
import json
import os
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from PIL import Image as PILImage

from masthead.accounts.models import Badge
from masthead.articles import actions, workflow
from masthead.articles.models import Article, Image, Revision
from masthead.engagement.models import ArticleStatDay
from masthead.moderation import screening
from tests import factories
from tests.api.conftest import bearer, is_problem, make_user, post_json, token_for

pytestmark = pytest.mark.django_db

API = "/api/v1/studio"
LONG = "<p>" + "这是一段足够长的正文，用来满足发布的最低字数。" * 2 + "</p>"
HOSTILE = (
    '<p onclick="steal()">正文开头<script>alert("x")</script></p>'
    '<img src="x" onerror="alert(1)"><a href="javascript:alert(2)">链接</a>'
    '<iframe src="https://evil.example/"></iframe><p style="color:red">结尾</p>'
)


def _creator(badge: int = Badge.NEWCOMER, **fields):
    user = make_user("creator")
    factories.account(owner=user, badge=badge, **fields)
    return user


def _auth(user, *scopes: str) -> dict:
    return bearer(token_for(user, *scopes))


def _patch(client, url: str, data, **extra):
    return client.patch(url, data=json.dumps(data), content_type="application/json", **extra)


def _draft(user, **fields) -> Article:
    return factories.article(publish=False, account_=user.account, body=fields.pop("body", LONG), **fields)


# --- drafts ------------------------------------------------------------------------------------------


def test_a_draft_is_created_with_its_fields_and_hostile_html_comes_back_sanitised(client):
    user = _creator()
    cover = factories.image(account=user.account)
    data = {
        "title": "  我的第一篇  ",
        "body_html": HOSTILE,
        "summary": "自己写的摘要",
        "channel": "sports",
        "tags": ["足球", "  足球 ", "中超"],
        "labels": {"original": True, "ai_generated": True, "source": "新华社"},
        "cover": cover.pk,
    }
    response = post_json(client, f"{API}/articles", data, **_auth(user, "drafts"))
    assert response.status_code == 201, response.content
    body = response.json()
    for hostile in ("<script", "onerror", "onclick", "javascript:", "<iframe", "style=", "alert"):
        assert hostile not in body["body_html"]
    assert "正文开头" in body["body_html"] and "结尾" in body["body_html"]
    assert body["title"] == "我的第一篇" and body["status"] == "draft" and body["url"] is None
    assert body["channel"]["slug"] == "sports" and sorted(body["tags"]) == sorted(["足球", "中超"])
    assert body["labels"] == {
        "original": True,
        "fiction": False,
        "ai_generated": True,
        "news": False,
        "source": "新华社",
    }
    assert body["cover"]["id"] == cover.pk and body["summary"] == "自己写的摘要"
    article = Article.objects.get(pk=body["id"])
    assert article.account == user.account and article.body_html == body["body_html"]
    assert article.revisions.filter(kind=Revision.Kind.SAVE).count() == 1  # in the history, as a web save
    # And the stored text is what the creator reads back.
    again = client.get(f"{API}/articles/{article.pk}", **_auth(user, "read"))
    assert again.json()["body_html"] == body["body_html"] and again.json()["version"] == body["version"]


def test_a_bare_draft_gets_the_webs_defaults(client):
    user = _creator(field="sports")
    response = post_json(client, f"{API}/articles", {}, **_auth(user, "drafts"))
    assert response.status_code == 201
    assert response.json()["title"] == "无标题草稿" and response.json()["channel"]["slug"] == "sports"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": "no-such-channel"}, "channel"),
        ({"title": "   "}, "title"),
        ({"summary": "长" * 301}, "summary"),
        ({"tags": "not a list"}, "tags"),
        ({"cover": 0}, "cover"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(client, change, field):
    user = _creator()
    response = post_json(client, f"{API}/articles", {"title": "标题", **change}, **_auth(user))
    assert is_problem(response, 400), response.content
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not Article.objects.exists()


def test_someone_elses_picture_cannot_be_the_cover(client):
    user = _creator()
    theirs = factories.image(account=_creator().account)
    response = post_json(client, f"{API}/articles", {"title": "标题", "cover": theirs.pk}, **_auth(user))
    assert is_problem(response, 400, "invalid") and response.json()["errors"][0]["field"] == "cover"
    assert not Article.objects.exists()


def test_edits_name_their_version_and_a_stale_one_is_a_conflict(client):
    user = _creator()
    article = _draft(user, title="原标题")
    url = f"{API}/articles/{article.pk}"
    first = _patch(client, url, {"version": article.version, "title": "第二版", "body_html": HOSTILE}, **_auth(user))
    assert first.status_code == 200, first.content
    assert first.json()["version"] == article.version + 1 and first.json()["title"] == "第二版"
    assert "<script" not in first.json()["body_html"] and "onerror" not in first.json()["body_html"]
    # Another device still on the old version.
    stale = _patch(client, url, {"version": article.version, "title": "旧设备"}, **_auth(user))
    assert is_problem(stale, 409, "version_conflict")
    assert stale.json()["current_version"] == article.version + 1
    assert Article.objects.get(pk=article.pk).title == "第二版"
    # The creator chooses to keep the old device's text.
    kept = _patch(client, url, {"version": article.version, "title": "旧设备", "force": True}, **_auth(user))
    assert kept.status_code == 200 and kept.json()["title"] == "旧设备"
    # A repeat of a save already made is no conflict and no new version.
    repeat = _patch(client, url, {"version": article.version, "title": "旧设备"}, **_auth(user))
    assert repeat.status_code == 200 and repeat.json()["version"] == kept.json()["version"]


def test_a_save_without_a_version_is_refused(client):
    user = _creator()
    article = _draft(user)
    response = _patch(client, f"{API}/articles/{article.pk}", {"title": "新"}, **_auth(user))
    assert is_problem(response, 400, "invalid") and response.json()["errors"][0]["field"] == "version"


def test_a_removed_article_cannot_be_edited(client):
    user = _creator()
    article = factories.article(account_=user.account)
    actions.remove(article, reason="违规")
    response = _patch(
        client, f"{API}/articles/{article.pk}", {"version": article.version, "title": "改"}, **_auth(user)
    )
    assert is_problem(response, 409, "not_editable")
    assert Article.objects.get(pk=article.pk).title == article.title


def test_a_published_articles_edits_wait_until_published(client):
    user = _creator(badge=Badge.QUALITY)
    article = factories.article(account_=user.account, body=LONG, title="已发布")
    url = f"{API}/articles/{article.pk}"
    edited = _patch(client, url, {"version": article.version, "body_html": LONG + "<p>补充一段</p>"}, **_auth(user))
    assert edited.status_code == 200
    assert edited.json()["unpublished_changes"] is True and "补充一段" in edited.json()["body_html"]
    assert "补充一段" not in Article.objects.get(pk=article.pk).body_html  # readers still see the old text
    # Its channel changes only along with publishing, not silently dropped by a save.
    moved = _patch(client, url, {"version": edited.json()["version"], "channel": "sports"}, **_auth(user))
    assert is_problem(moved, 409, "published_fields") and moved.json()["fields"] == ["channel"]
    # The same channel as now is no change at all.
    same = {
        "version": edited.json()["version"],
        "channel": article.channel.slug,
        "tags": ["测试"],
        "labels": {"source": "   ", "original": False},
    }
    assert _patch(client, url, same, **_auth(user)).status_code == 200
    published = post_json(
        client, f"{url}/publish", {"version": edited.json()["version"], "channel": "sports"}, **_auth(user)
    )
    assert published.status_code == 200, published.content
    article.refresh_from_db()
    assert "补充一段" in article.body_html and article.channel.slug == "sports"
    assert article.status == Article.Status.PUBLISHED and article.needs_review  # an editor looks afterwards
    assert published.json()["unpublished_changes"] is False
    nothing = post_json(client, f"{url}/publish", {}, **_auth(user))
    assert is_problem(nothing, 409, "no_changes")


def test_a_new_creators_changes_to_a_published_article_go_to_review(client):
    user = _creator()
    article = factories.article(account_=user.account, body=LONG)
    url = f"{API}/articles/{article.pk}"
    edited = _patch(client, url, {"version": article.version, "title": "改过的标题"}, **_auth(user))
    submitted = post_json(client, f"{url}/submit", {"version": edited.json()["version"]}, **_auth(user, "drafts"))
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "pending" and submitted.json()["title"] == "改过的标题"


# --- submitting and publishing -----------------------------------------------------------------------


def test_a_new_creator_submits_for_review_with_the_time_asked_for(client):
    user = _creator()
    article = _draft(user)
    at = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    response = post_json(
        client,
        f"{API}/articles/{article.pk}/submit",
        {"version": article.version, "scheduled_at": at.isoformat()},
        **_auth(user, "drafts"),
        REMOTE_ADDR="127.0.0.1",
    )
    assert response.status_code == 200, response.content
    article.refresh_from_db()
    assert article.status == Article.Status.PENDING and article.scheduled_at == at
    assert response.json()["status"] == "pending" and response.json()["can_publish"] is False
    assert article.revisions.filter(kind=Revision.Kind.SUBMIT).exists()


def test_submitting_never_publishes_even_for_a_trusted_creator(client):
    user = _creator(badge=Badge.QUALITY)
    article = _draft(user)
    response = post_json(client, f"{API}/articles/{article.pk}/submit", {}, **_auth(user, "drafts"))
    assert response.status_code == 200 and response.json()["status"] == "pending"
    assert Article.objects.get(pk=article.pk).published_at is None


def test_a_trusted_creators_submission_keeps_the_time_for_after_approval(client, editor):
    user = _creator(badge=Badge.QUALITY)
    article = _draft(user)
    at = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    response = post_json(
        client, f"{API}/articles/{article.pk}/submit", {"scheduled_at": at.isoformat()}, **_auth(user, "drafts")
    )
    assert response.status_code == 200 and response.json()["status"] == "pending"
    article.refresh_from_db()
    assert article.scheduled_at == at
    workflow.approve(article, by=editor)
    assert article.status == Article.Status.SCHEDULED


def test_a_trusted_creator_publishes_at_once_and_is_reviewed_afterwards(client):
    user = _creator(badge=Badge.QUALITY)
    article = _draft(user)
    response = post_json(client, f"{API}/articles/{article.pk}/publish", {}, **_auth(user, "publish"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "published" and body["needs_review"] is True and body["url"].endswith(f"/a/{article.pk}/")
    assert client.get(f"/a/{article.pk}/").status_code == 200
    assert Article.objects.get(pk=article.pk).revisions.filter(kind=Revision.Kind.PUBLISH).exists()


def test_a_trusted_creator_schedules(client):
    user = _creator(badge=Badge.CERTIFIED)
    article = _draft(user)
    at = (timezone.now() + timedelta(hours=5)).replace(microsecond=0)
    response = post_json(
        client, f"{API}/articles/{article.pk}/publish", {"scheduled_at": at.isoformat()}, **_auth(user, "publish")
    )
    assert response.status_code == 200 and response.json()["status"] == "scheduled"
    assert Article.objects.get(pk=article.pk).scheduled_at == at


@pytest.mark.parametrize("when", [timedelta(minutes=-5), None])
def test_a_time_in_the_past_or_without_offset_is_refused(client, when):
    user = _creator(badge=Badge.QUALITY)
    article = _draft(user)
    value = (timezone.now() + when).isoformat() if when else "2099-01-01T10:00:00"
    response = post_json(client, f"{API}/articles/{article.pk}/publish", {"scheduled_at": value}, **_auth(user))
    assert is_problem(response, 400) and response.json()["errors"][0]["field"] == "scheduled_at"
    assert Article.objects.get(pk=article.pk).status == Article.Status.DRAFT


def test_a_new_creator_may_not_publish_directly(client):
    user = _creator()
    article = _draft(user)
    response = post_json(client, f"{API}/articles/{article.pk}/publish", {}, **_auth(user, "publish"))
    assert is_problem(response, 403, "publish_not_allowed") and "新人" in response.json()["detail"]
    assert Article.objects.get(pk=article.pk).status == Article.Status.DRAFT


def test_a_rejected_article_goes_back_through_review_even_for_a_trusted_creator(client, editor):
    user = _creator(badge=Badge.QUALITY)
    article = _draft(user)
    actions.submit_for_review(article)
    workflow.reject(article, by=editor, reason="配图与内容不符")
    mine = client.get(f"{API}/articles/{article.pk}", **_auth(user, "read")).json()
    assert mine["status"] == "rejected" and mine["reason"] == "配图与内容不符"
    response = post_json(client, f"{API}/articles/{article.pk}/publish", {}, **_auth(user))
    assert response.status_code == 200 and response.json()["status"] == "pending"


def test_a_term_that_needs_review_holds_a_trusted_creators_article(client, editor):
    screening.add_terms("代购", screening.REVIEW, editor)
    user = _creator(badge=Badge.QUALITY)
    article = _draft(user, body="<p>" + "需要代购的朋友请联系我，价格实惠质量可靠。" * 2 + "</p>")
    response = post_json(client, f"{API}/articles/{article.pk}/publish", {}, **_auth(user))
    assert response.status_code == 200 and response.json()["status"] == "pending"


def test_an_article_that_cannot_go_out_is_refused_naming_the_fields(client):
    user = _creator()
    article = _draft(user, body="<p>太短</p>", channel_=factories.channel("top"))
    response = post_json(client, f"{API}/articles/{article.pk}/submit", {}, **_auth(user))
    assert is_problem(response, 400, "not_publishable")
    assert {"body", "source"} <= {e["field"] for e in response.json()["errors"]}
    assert Article.objects.get(pk=article.pk).status == Article.Status.DRAFT


def test_fields_sent_along_are_saved_first_as_the_web_form_does(client):
    user = _creator()
    article = _draft(user, body="<p>太短</p>")
    url = f"{API}/articles/{article.pk}/submit"
    without_version = post_json(client, url, {"body_html": LONG}, **_auth(user))
    assert is_problem(without_version, 400) and without_version.json()["errors"][0]["field"] == "version"
    response = post_json(client, url, {"version": article.version, "body_html": LONG, "title": "定稿"}, **_auth(user))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "pending" and response.json()["title"] == "定稿"


def test_an_untitled_draft_cannot_be_submitted(client):
    user = _creator()
    created = post_json(client, f"{API}/articles", {"body_html": LONG}, **_auth(user)).json()
    response = post_json(client, f"{API}/articles/{created['id']}/submit", {}, **_auth(user))
    assert is_problem(response, 400) and response.json()["errors"][0]["field"] == "title"


def test_a_pending_article_cannot_be_submitted_again(client):
    user = _creator()
    article = _draft(user)
    actions.submit_for_review(article)
    response = post_json(client, f"{API}/articles/{article.pk}/submit", {}, **_auth(user))
    assert is_problem(response, 409, "wrong_status") and response.json()["current_status"] == "pending"


def test_a_stale_version_is_not_sent(client):
    user = _creator()
    article = _draft(user)
    response = post_json(client, f"{API}/articles/{article.pk}/submit", {"version": article.version - 1}, **_auth(user))
    assert is_problem(response, 409, "version_conflict")
    assert Article.objects.get(pk=article.pk).status == Article.Status.DRAFT


def test_a_trusted_creator_publishes_changes_rather_than_submitting_them(client):
    user = _creator(badge=Badge.QUALITY)
    article = factories.article(account_=user.account, body=LONG)
    _patch(client, f"{API}/articles/{article.pk}", {"version": article.version, "title": "新标题"}, **_auth(user))
    response = post_json(client, f"{API}/articles/{article.pk}/submit", {}, **_auth(user))
    assert is_problem(response, 409, "publish_required")
    assert Article.objects.get(pk=article.pk).status == Article.Status.PUBLISHED


# --- images ------------------------------------------------------------------------------------------


def _upload(client, user, data: bytes, name: str = "photo.jpg", **fields):
    upload = io.BytesIO(data)
    upload.name = name
    form = {"file": upload, "alt": "球场上的守门员", **fields}
    return client.post(f"{API}/images", form, **_auth(user, "drafts"))


def test_an_image_is_uploaded_with_its_words_and_renditions(client):
    user = _creator()
    response = _upload(
        client, user, factories.image_bytes((1600, 900)), caption="比赛现场", credit="本报记者", label="author"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    image = Image.objects.get(pk=body["id"])
    assert image.account == user.account and body["alt"] == "球场上的守门员" and body["label_text"] == "作者供图"
    assert [r["width"] for r in body["renditions"]] == [320, 640, 960, 1280]
    assert body["reference"] == f'<img data-image="{image.pk}">' and "比赛现场" in body["figure_html"]
    # The reference in a body becomes the figure.
    created = post_json(client, f"{API}/articles", {"title": "有图", "body_html": body["reference"]}, **_auth(user))
    assert f'data-image="{image.pk}"' in created.json()["body_html"] and "srcset" in created.json()["body_html"]


def test_an_ai_generated_picture_is_labelled(client):
    user = _creator()
    response = _upload(client, user, factories.image_bytes(), is_ai_generated="true")
    assert response.status_code == 201 and response.json()["label"] == "ai" and response.json()["is_ai_generated"]


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"this is not a picture", "notes.jpg"),
        (factories.image_bytes()[:400], "cut.jpg"),  # a truncated JPEG
        (factories.image_bytes(fmt="BMP"), "old.bmp"),
    ],
    ids=["text", "truncated", "bmp"],
)
def test_a_broken_or_unsupported_file_is_refused_naming_the_field(client, data, name):
    user = _creator()
    response = _upload(client, user, data, name)
    assert is_problem(response, 400, "invalid_image"), response.content
    assert response.json()["errors"][0]["field"] == "file" and response.json()["detail"]
    assert not Image.objects.exists()


def test_a_picture_needs_its_alt_text(client):
    user = _creator()
    response = _upload(client, user, factories.image_bytes(), alt="  ")
    assert is_problem(response, 400) and response.json()["errors"][0]["field"] == "alt"
    missing = client.post(f"{API}/images", {"file": io.BytesIO(factories.image_bytes())}, **_auth(user))
    assert is_problem(missing, 400, "invalid") and "alt" in {e["field"] for e in missing.json()["errors"]}
    assert not Image.objects.exists()


def _noise_jpeg(side: int) -> bytes:
    """A JPEG that does not compress: random pixels."""
    out = io.BytesIO()
    PILImage.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "JPEG", quality=90)
    return out.getvalue()


def test_a_file_over_the_limit_is_413_whichever_layer_sees_it(client, settings):
    settings.MASTHEAD_MAX_UPLOAD_BYTES = 20_000
    user = _creator()
    # Over the image rule but within the request allowance: the studio's own rule answers.
    data = _noise_jpeg(200)
    assert 20_000 < len(data) < 20_000 + 64 * 1024
    response = _upload(client, user, data)
    assert is_problem(response, 413, "too_large") and "MB" in response.json()["detail"]
    # Far over: the request is refused before it is read.
    response = _upload(client, user, data * 3)
    assert is_problem(response, 413, "too_large") and response.json()["max_bytes"] == 20_000 + 64 * 1024
    assert not Image.objects.exists()
    # Within the limit, the same kind of file is fine.
    assert _upload(client, user, _noise_jpeg(100)).status_code == 201


# --- lists and statistics ----------------------------------------------------------------------------


LIST_QUERIES = 4  # the token, the account, the count, one page of rows
STATS_QUERIES = 6  # the token, the account, totals (2), days, followers
ARTICLE_STATS_QUERIES = 5  # the token, the account, the article, totals, days


def _warm(client, auth) -> None:
    """A first call stamps the token's last use (once a while): not part of what a list costs."""
    assert client.get("/api/v1/studio/articles?page=999", **auth).status_code == 200


def test_the_list_holds_only_my_articles_in_every_state_paged(client):
    user = _creator()
    mine = [_draft(user, title=f"草稿{n}") for n in range(3)]
    published = factories.article(account_=user.account)
    factories.article(account_=_creator().account, title="别人的文章")
    auth = _auth(user, "read")
    body = client.get(f"{API}/articles", **auth).json()
    assert body["count"] == 4 and body["next_page"] is None
    assert {i["id"] for i in body["items"]} == {a.pk for a in (*mine, published)}
    drafts_only = client.get(f"{API}/articles?status=draft", **auth).json()
    assert {i["id"] for i in drafts_only["items"]} == {a.pk for a in mine}
    assert client.get(f"{API}/articles?page=2", **auth).json()["items"] == []
    assert is_problem(client.get(f"{API}/articles?status=bogus", **auth), 400)


@pytest.mark.parametrize("rows", [3, 25])
def test_the_list_costs_the_same_queries_for_any_number_of_articles(client, django_assert_num_queries, rows):
    user = _creator()
    for n in range(rows):
        factories.article(account_=user.account, publish=n % 2 == 0)
    auth = _auth(user, "read")
    _warm(client, auth)
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(f"{API}/articles", **auth)
    assert len(response.json()["items"]) == min(rows, 20)


def test_statistics_are_the_studios_numbers(client, django_assert_num_queries):
    user = _creator()
    article = factories.article(account_=user.account)
    Article.objects.filter(pk=article.pk).update(view_count=120, like_count=7)
    today = timezone.localdate()
    ArticleStatDay.objects.create(article=article, day=today, views=100, readers=60, depth_sum=400, depth_count=8)
    ArticleStatDay.objects.create(article=article, day=today - timedelta(days=1), views=20, readers=15)
    fan = get_user_model().objects.create_user("fan", "fan@example.com", "pw-Masthead-123")
    from masthead.accounts import actions as account_actions

    account_actions.follow(fan, user.account)
    auth = _auth(user, "read")
    response = client.get(f"{API}/stats?days=7", **auth)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["totals"]["views"] == 120 and body["totals"]["likes"] == 7 and body["totals"]["readers"] == 75
    assert body["totals"]["completion"] == 50 and body["totals"]["followers"] == 1
    assert len(body["days"]) == 7 and body["days"][-1] == {
        "day": today.isoformat(), "views": 100, "readers": 60, "shares": 0, "completion": 50, "followers": 1,
    }  # fmt: skip
    assert body["new_followers"] == 1
    one = client.get(f"{API}/articles/{article.pk}/stats", **auth).json()
    assert one["totals"]["readers"] == 75 and [d["views"] for d in one["days"][-2:]] == [20, 100]
    # Fixed cost, whatever the number of articles and days.
    for _ in range(5):
        factories.article(account_=user.account)
    for days in (1, 90):
        with django_assert_num_queries(STATS_QUERIES):
            client.get(f"{API}/stats?days={days}", **auth)
        with django_assert_num_queries(ARTICLE_STATS_QUERIES):
            client.get(f"{API}/articles/{article.pk}/stats?days={days}", **auth)


def test_statistics_of_someone_elses_article_are_not_found(client):
    user = _creator()
    theirs = factories.article(account_=_creator().account)
    assert is_problem(client.get(f"{API}/articles/{theirs.pk}/stats", **_auth(user, "read")), 404, "not_found")


def test_the_session_works_as_on_the_studio_pages(client):
    user = _creator()
    client.force_login(user)
    created = post_json(client, f"{API}/articles", {"title": "网页里写的"})
    assert created.status_code == 201
    assert client.get(f"{API}/articles").json()["count"] == 1
