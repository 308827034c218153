"""Readers' writes through the API: comments, likes, favorites, follows, reports and appeals behave as
on the site's pages (screening, rate limits, counters, cached pages), answered in the API's shapes."""

import json

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from masthead.accounts.models import Follow, Notification
from masthead.accounts.roles import EDITORS_GROUP
from masthead.articles import workflow
from masthead.engagement import comments
from masthead.engagement.models import ArticleLike, Comment, CommentLike, Favorite
from masthead.moderation import appeals, reports, screening
from masthead.moderation.models import Appeal, AuditEntry, Report
from tests import factories
from tests.api.conftest import bearer, is_problem, post_json, token_for
from tests.api.test_reader_permissions import person

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def editor():
    user = person("editor")
    user.groups.add(Group.objects.get_or_create(name=EDITORS_GROUP)[0])
    return user


def author_and_article(**fields):
    """(the author, a published article of the author's account)."""
    user = person("author")
    account = factories.account(owner=user, handle=f"author-{user.pk}")
    return user, factories.article(account_=account, **fields)


def api(user) -> dict:
    return bearer(token_for(user))


def comments_url(article) -> str:
    return f"/api/v1/articles/{article.pk}/comments"


def web_post(user, article, body: str):
    """The article page's comment form, as comments.js sends it."""
    client = Client()
    client.force_login(user)
    return client.post(reverse("comments:post", args=[article.pk]), {"body": body}, **JSON)


def _count(article) -> int:
    article.refresh_from_db(fields=["comment_count", "like_count"])
    return article.comment_count


# --- posting comments -------------------------------------------------------------------------------


def test_a_comment_is_created_with_201_counted_and_shown_to_anonymous_readers(
    client, django_capture_on_commit_callbacks
):
    _author, article = author_and_article()
    reader = person("reader")
    listing = reverse("comments:list", args=[article.pk])
    assert "来自接口的跟帖" not in client.get(listing).content.decode()  # now in the page cache
    with django_capture_on_commit_callbacks(execute=True):  # the purge waits for the commit
        response = post_json(client, comments_url(article), {"body": "  来自接口的跟帖  "}, **api(reader))
    assert response.status_code == 201
    data = response.json()
    comment = Comment.objects.get()
    assert data["id"] == comment.pk and comment.user == reader
    assert (data["body"], data["status"], data["thread_id"], data["message"]) == (
        "来自接口的跟帖",
        "visible",
        None,
        "跟帖已发表。",
    )
    assert data["url"].startswith("http://testserver/") and data["url"].endswith(f"#c{comment.pk}")
    assert data["created_at"].endswith("+08:00")
    assert _count(article) == 1
    assert "来自接口的跟帖" in client.get(listing).content.decode()  # the cached page was purged


def test_a_reply_joins_the_thread_of_the_comment_it_answers(client):
    _author, article = author_and_article()
    head = comments.post_comment(person("first"), article, "楼主", client_token="h")
    reply = comments.post_comment(person("second"), article, "回复楼主", reply_to=head, client_token="r")
    response = post_json(client, comments_url(article), {"body": "回复回复", "reply_to": reply.pk}, **api(person("r")))
    assert response.status_code == 201
    assert (response.json()["thread_id"], response.json()["reply_to_id"]) == (head.pk, reply.pk)
    head.refresh_from_db()
    assert head.reply_count == 2


def test_replying_to_a_comment_of_another_article_or_to_nothing_names_the_field(client):
    _author, article = author_and_article()
    _other_author, other = author_and_article()
    elsewhere = comments.post_comment(person("x"), other, "别处的跟帖", client_token="e")
    token = api(person("reader"))
    for reply_to in (elsewhere.pk, 999_999):
        response = post_json(client, comments_url(article), {"body": "回复", "reply_to": reply_to}, **token)
        assert is_problem(response, 400)
        assert response.json()["errors"][0]["field"] == "reply_to"
    assert Comment.objects.count() == 1


def test_a_blocked_word_is_refused_naming_it_as_the_page_does(client):
    _author, article = author_and_article()
    screening.add_terms("赌博", screening.BLOCK, editor())
    reader = person("reader")
    response = post_json(client, comments_url(article), {"body": "来这里赌 博吧"}, **api(reader))
    assert is_problem(response, 400)
    problem = response.json()
    assert "“赌博”" in problem["detail"] and problem["errors"][0]["field"] == "body"
    page = web_post(reader, article, "来这里赌 博吧")
    assert page.status_code == 400 and page.json()["errors"]["body"] == [problem["errors"][0]["message"]]
    assert not Comment.objects.exists()


def test_a_review_word_holds_the_comment_202_visible_only_to_its_writer(client):
    _author, article = author_and_article()
    screening.add_terms("代购", screening.REVIEW, editor())
    writer = person("writer")
    response = post_json(client, comments_url(article), {"body": "需要代购的私信"}, **api(writer))
    assert response.status_code == 202
    data = response.json()
    assert data["status"] == "held" and data["status_text"] == "待审核"
    assert data["message"] == "跟帖已提交，审核通过后其他读者才能看到。"
    assert _count(article) == 0
    listing = reverse("comments:list", args=[article.pk])
    assert "需要代购" not in client.get(listing).content.decode()
    mine = Client()
    mine.force_login(writer)
    assert "需要代购" in mine.get(listing).content.decode()


@pytest.mark.parametrize(
    "body, message",
    [("   ", "请输入跟帖内容。"), ("长" * 1001, "跟帖最多 1000 个字，现在是 1001 个字。")],
)
def test_empty_and_too_long_comments_are_refused_with_the_pages_message(client, body, message):
    _author, article = author_and_article()
    response = post_json(client, comments_url(article), {"body": body}, **api(person("reader")))
    assert is_problem(response, 400) and response.json()["errors"] == [{"field": "body", "message": message}]


def test_a_missing_body_names_the_field(client):
    _author, article = author_and_article()
    response = post_json(client, comments_url(article), {}, **api(person("reader")))
    assert is_problem(response, 400, "invalid") and response.json()["errors"][0]["field"] == "body"


def test_unknown_and_unpublished_articles_are_404_and_removed_ones_refuse_comments(client):
    _author, article = author_and_article()
    draft = factories.article(account_=article.account, publish=False)
    token = api(person("reader"))
    assert is_problem(post_json(client, "/api/v1/articles/999999/comments", {"body": "在吗"}, **token), 404)
    assert is_problem(post_json(client, comments_url(draft), {"body": "草稿"}, **token), 404)
    assert is_problem(post_json(client, f"/api/v1/articles/{2**64}/comments", {"body": "大"}, **token), 400)
    workflow.remove(article, by=editor(), reason="失实")
    refused = post_json(client, comments_url(article), {"body": "下架了"}, **token)
    assert is_problem(refused, 400) and "已下架" in refused.json()["detail"]
    assert not Comment.objects.exists()


def test_the_same_client_token_twice_returns_the_first_comment(client):
    _author, article = author_and_article()
    token = api(person("reader"))
    first = post_json(client, comments_url(article), {"body": "只发一次", "client_token": "t-1"}, **token)
    again = post_json(client, comments_url(article), {"body": "只发一次", "client_token": "t-1"}, **token)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Comment.objects.count() == 1 and _count(article) == 1


# --- rate limits, shared with the pages -------------------------------------------------------------


def test_the_per_user_comment_limit_counts_the_page_and_the_api_together(client, settings):
    settings.MASTHEAD_RATE_LIMITS = {"comment-user-minute": (2, 60)}
    _author, article = author_and_article()
    reader = person("reader")
    token = api(reader)
    assert web_post(reader, article, "页面发的").status_code == 200
    assert post_json(client, comments_url(article), {"body": "接口发的"}, **token).status_code == 201
    refused = post_json(client, comments_url(article), {"body": "太快了"}, **token)
    assert is_problem(refused, 429, "rate_limited")
    assert 0 < int(refused["Retry-After"]) <= 60 and "发帖太频繁了" in refused.json()["detail"]
    assert web_post(reader, article, "页面也不行").status_code == 429
    assert post_json(client, comments_url(article), {"body": "别人"}, **api(person("other"))).status_code == 201


def test_the_per_address_comment_limit_uses_the_callers_address(client, settings):
    settings.MASTHEAD_RATE_LIMITS = {"comment-ip-minute": (2, 60)}
    _author, article = author_and_article()
    here = {"REMOTE_ADDR": "203.0.113.9"}
    for n in range(2):
        assert (
            post_json(client, comments_url(article), {"body": f"第{n}条"}, **api(person("r")), **here).status_code
            == 201
        )
    refused = post_json(client, comments_url(article), {"body": "同一地址的新账号"}, **api(person("r")), **here)
    assert is_problem(refused, 429) and int(refused["Retry-After"]) > 0
    elsewhere = {"REMOTE_ADDR": "198.51.100.7"}
    assert (
        post_json(client, comments_url(article), {"body": "另一个地址"}, **api(person("r")), **elsewhere).status_code
        == 201
    )


def test_reactions_share_one_limit_with_the_pages(client, settings):
    settings.MASTHEAD_RATE_LIMITS = {"reaction-user": (3, 60)}
    _author, article = author_and_article()
    reader = person("reader")
    page = Client()
    page.force_login(reader)
    token = api(reader)
    like = f"/api/v1/articles/{article.pk}/like"
    assert page.post(reverse("engagement:like", args=[article.pk]), {"state": "on"}).status_code == 302
    assert client.delete(like, **token).status_code == 200
    assert client.put(f"/api/v1/articles/{article.pk}/favorite", **token).status_code == 200
    refused = client.put(like, **token)
    assert is_problem(refused, 429, "rate_limited") and "操作太频繁" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0
    assert not ArticleLike.objects.exists()  # the refused PUT changed nothing
    web = page.post(reverse("engagement:like", args=[article.pk]), {"state": "on"}, **JSON)
    assert web.status_code == 429 and "操作太频繁" in web.json()["error"]
    handle = article.account.handle
    assert is_problem(client.put(f"/api/v1/accounts/{handle}/follow", **token), 429)


def test_comment_likes_have_their_own_limit(client, settings):
    settings.MASTHEAD_RATE_LIMITS = {"comment-like-user": (2, 60)}
    _author, article = author_and_article()
    comment = comments.post_comment(person("writer"), article, "好文", client_token="w")
    token = api(person("reader"))
    url = f"/api/v1/comments/{comment.pk}/like"
    assert client.post(url, **token).status_code == 200
    assert client.delete(url, **token).status_code == 200
    refused = client.post(url, **token)
    assert is_problem(refused, 429) and int(refused["Retry-After"]) > 0
    assert not CommentLike.objects.exists()


# --- deleting and liking comments -------------------------------------------------------------------


def test_the_writer_deletes_their_comment_which_leaves_a_placeholder(client):
    _author, article = author_and_article()
    writer = person("writer")
    comment = comments.post_comment(writer, article, "说错了", client_token="d")
    token = api(writer)
    url = f"/api/v1/comments/{comment.pk}"
    response = client.delete(url, **token)
    assert response.status_code == 204 and response.content == b""
    comment.refresh_from_db()
    assert comment.status == Comment.Status.DELETED and _count(article) == 0
    assert client.delete(url, **token).status_code == 204  # again: nothing more happens
    assert is_problem(client.delete("/api/v1/comments/999999", **token), 404)


def test_somebody_elses_comment_cannot_be_deleted_not_even_by_the_author_or_an_editor(client):
    author, article = author_and_article()
    comment = comments.post_comment(person("writer"), article, "留着", client_token="k")
    for user in (person("reader"), author, editor()):
        refused = client.delete(f"/api/v1/comments/{comment.pk}", **api(user))
        assert is_problem(refused, 403) and refused.json()["detail"] == "只能删除自己的跟帖。"
    comment.refresh_from_db()
    assert comment.status == Comment.Status.VISIBLE


def test_a_held_comment_is_unknown_to_everyone_but_its_writer_and_editors(client):
    _author, article = author_and_article()
    screening.add_terms("代购", screening.REVIEW, editor())
    writer = person("writer")
    held = comments.post_comment(writer, article, "代购找我", client_token="h")
    assert is_problem(client.post(f"/api/v1/comments/{held.pk}/like", **api(person("reader"))), 404)
    assert is_problem(client.delete(f"/api/v1/comments/{held.pk}", **api(person("reader"))), 404)
    assert is_problem(client.delete(f"/api/v1/comments/{held.pk}", **api(editor())), 403)
    assert client.delete(f"/api/v1/comments/{held.pk}", **api(writer)).status_code == 204


def test_liking_a_comment_answers_the_state_and_count_and_repeats_change_nothing(client):
    _author, article = author_and_article()
    writer = person("writer")
    comment = comments.post_comment(writer, article, "好文", client_token="w")
    url = f"/api/v1/comments/{comment.pk}/like"
    token = api(person("reader"))
    assert client.post(url, **token).json() == {"comment_id": comment.pk, "liked": True, "like_count": 1}
    assert client.post(url, **token).json()["like_count"] == 1
    assert client.post(url, **api(person("other"))).json()["like_count"] == 2
    assert client.delete(url, **token).json() == {"comment_id": comment.pk, "liked": False, "like_count": 1}
    own = client.post(url, **api(writer))
    assert is_problem(own, 400) and own.json()["detail"] == "不能给自己的跟帖点赞。"
    comments.delete_own(writer, comment)
    assert is_problem(client.post(url, **token), 400)  # a placeholder cannot be liked


# --- likes, favorites, follows ----------------------------------------------------------------------


def test_an_article_like_states_what_is_wanted_and_answers_the_count(client):
    author, article = author_and_article()
    reader = person("reader")
    url = f"/api/v1/articles/{article.pk}/like"
    token = api(reader)
    for _ in range(2):
        assert client.put(url, **token).json() == {"article_id": article.pk, "liked": True, "like_count": 1}
    assert client.put(url, **api(person("other"))).json()["like_count"] == 2
    for _ in range(2):
        assert client.delete(url, **token).json() == {"article_id": article.pk, "liked": False, "like_count": 1}
    own = client.put(url, **api(author))
    assert is_problem(own, 403, "forbidden") and own.json()["detail"] == "不能给自己的文章点赞。"
    article.refresh_from_db()
    assert article.like_count == 1


def test_a_removed_article_cannot_be_liked_but_a_like_can_be_taken_back(client):
    _author, article = author_and_article()
    reader = person("reader")
    token = api(reader)
    url = f"/api/v1/articles/{article.pk}/like"
    client.put(url, **token)
    workflow.remove(article, by=editor(), reason="失实")
    assert is_problem(client.put(url, **api(person("other"))), 403)
    assert client.delete(url, **token).json()["like_count"] == 0
    draft = factories.article(account_=article.account, publish=False)
    assert is_problem(client.put(f"/api/v1/articles/{draft.pk}/like", **token), 404)


def test_favorites_are_set_and_unset(client):
    _author, article = author_and_article()
    reader = person("reader")
    url = f"/api/v1/articles/{article.pk}/favorite"
    token = api(reader)
    assert client.put(url, **token).json() == {"article_id": article.pk, "favorited": True}
    assert client.put(url, **token).status_code == 200
    assert Favorite.objects.filter(user=reader).count() == 1
    assert client.delete(url, **token).json() == {"article_id": article.pk, "favorited": False}
    assert not Favorite.objects.exists()
    assert is_problem(client.put("/api/v1/articles/999999/favorite", **token), 404)


def test_following_answers_the_follower_count(client):
    author, article = author_and_article()
    handle = article.account.handle
    url = f"/api/v1/accounts/{handle}/follow"
    token = api(person("reader"))
    assert client.put(url, **token).json() == {"handle": handle, "following": True, "follower_count": 1}
    assert client.put(url, **token).json()["follower_count"] == 1
    assert client.put(url, **api(person("other"))).json()["follower_count"] == 2
    assert client.delete(url, **token).json() == {"handle": handle, "following": False, "follower_count": 1}
    own = client.put(url, **api(author))
    assert is_problem(own, 403) and own.json()["detail"] == "不能关注自己的账号。"
    assert Follow.objects.count() == 1
    assert is_problem(client.put("/api/v1/accounts/nobody-here/follow", **token), 404)


# --- reports ----------------------------------------------------------------------------------------


def _report(client, user, kind: str, pk: int, category: str = "spam", details: str = ""):
    body = {"target_type": kind, "target_id": pk, "category": category, "details": details}
    return post_json(client, "/api/v1/reports", body, **api(user))


def test_a_report_is_filed_once_and_a_second_one_while_open_is_a_409(client):
    _author, article = author_and_article()
    reader = person("reader")
    response = _report(client, reader, "article", article.pk, "false", "标题与内容不符")
    assert response.status_code == 201
    data = response.json()
    report = Report.objects.get()
    assert data["id"] == report.pk and report.reporter == reader
    assert (data["target_type"], data["target_id"], data["category"], data["category_text"]) == (
        "article",
        article.pk,
        "false",
        "虚假信息",
    )
    assert (data["status"], data["details"]) == ("open", "标题与内容不符")
    again = _report(client, reader, "article", article.pk, "spam")
    assert is_problem(again, 409, "already_reported") and again.json()["report_id"] == report.pk
    report.refresh_from_db()
    assert report.category == "false" and Report.objects.count() == 1


def test_comments_and_accounts_can_be_reported_and_hidden_things_are_404(client):
    author, article = author_and_article()
    comment = comments.post_comment(person("writer"), article, "广告", client_token="a")
    reader = person("reader")
    assert _report(client, reader, "comment", comment.pk).status_code == 201
    assert _report(client, reader, "account", article.account.pk, "other").status_code == 201
    draft = factories.article(account_=article.account, publish=False)
    assert is_problem(_report(client, reader, "article", draft.pk), 404)
    assert is_problem(_report(client, reader, "comment", 999_999), 404)
    own = _report(client, author, "article", article.pk)
    assert is_problem(own, 403) and own.json()["detail"] == "不能举报自己或自己发布的内容。"
    bad = _report(client, reader, "article", article.pk, "boring")
    assert is_problem(bad, 400, "invalid") and bad.json()["errors"][0]["field"] == "category"
    too_long = _report(client, reader, "article", article.pk, "spam", "长" * 1001)
    assert is_problem(too_long, 400) and too_long.json()["errors"][0]["field"] == "details"
    assert Report.objects.count() == 2


def test_reports_are_rate_limited_with_retry_after(client, settings):
    settings.MASTHEAD_RATE_LIMITS = {reports.RATE_SCOPE: (2, 3600)}
    articles = [author_and_article()[1] for _ in range(3)]
    reader = person("reader")
    for article in articles[:2]:
        assert _report(client, reader, "article", article.pk).status_code == 201
    assert is_problem(_report(client, reader, "article", articles[0].pk), 409)  # not counted
    refused = _report(client, reader, "article", articles[2].pk)
    assert is_problem(refused, 429, "rate_limited") and "举报太频繁了" in refused.json()["detail"]
    assert 3500 < int(refused["Retry-After"]) <= 3600
    assert Report.objects.count() == 2


def test_a_report_reaches_the_editors_and_their_decision_is_audited_and_shown_to_the_reporter(client):
    _author, article = author_and_article()
    reader = person("reader")
    report_id = _report(client, reader, "article", article.pk, "false").json()["id"]
    assert [g.target for g in reports.load_groups(reports.open_groups())] == [article]
    boss = editor()
    reports.decide(Report.objects.get(pk=report_id), by=boss, outcome="upheld", decision="确属失实", take_down=True)
    entry = AuditEntry.objects.get(action="report.uphold")
    assert entry.actor == boss and entry.target_id == str(article.pk) and entry.reason == "确属失实"
    assert entry.before["reports"] == [report_id] and entry.after["taken_down"] is True
    mine = client.get("/api/v1/me/reports", **api(reader)).json()["items"]
    assert [(r["id"], r["status"], r["decision"]) for r in mine] == [(report_id, "upheld", "确属失实")]
    article.refresh_from_db()
    assert article.status == "removed"


# --- appeals ----------------------------------------------------------------------------------------


def _appeal(client, user, kind: str, pk: int, text: str, **scopes):
    body = {"target_type": kind, "target_id": pk, "text": text}
    return post_json(client, "/api/v1/appeals", body, **bearer(token_for(user, *scopes.get("scopes", ()))))


def test_the_writer_of_a_removed_comment_appeals_once(client):
    _author, article = author_and_article()
    writer = person("writer")
    comment = comments.post_comment(writer, article, "正常讨论", client_token="n")
    comments.remove_comment(comment, by=editor(), reason="不友善")
    response = _appeal(client, writer, "comment", comment.pk, "并无不友善")
    assert response.status_code == 201
    data = response.json()
    assert (data["target_type"], data["target_id"], data["status"], data["takedown_reason"]) == (
        "comment",
        comment.pk,
        "pending",
        "不友善",
    )
    assert _appeal(client, writer, "comment", comment.pk, "并无不友善").json()["id"] == data["id"]  # double submit
    second = _appeal(client, writer, "comment", comment.pk, "再申诉一次")
    assert is_problem(second, 409, "already_appealed") and "只能申诉一次" in second.json()["detail"]
    assert Appeal.objects.count() == 1


def test_an_article_appeal_needs_the_drafts_scope_and_a_removed_article(client):
    author, article = author_and_article()
    assert is_problem(_appeal(client, author, "article", article.pk, "没被下架"), 400)
    workflow.remove(article, by=editor(), reason="内容失实")
    refused = _appeal(client, author, "article", article.pk, "有据可查", scopes=("read", "comment"))
    assert is_problem(refused, 403, "scope_missing") and refused.json()["scope"] == "drafts"
    assert is_problem(_appeal(client, person("reader"), "article", article.pk, "不是我的"), 403)
    response = _appeal(client, author, "article", article.pk, "有据可查", scopes=("drafts",))
    assert response.status_code == 201 and response.json()["takedown_reason"] == "内容失实"
    appeal = Appeal.objects.get()
    appeals.decide_appeal(appeal, by=editor(), grant=True, decision="证据充分")
    article.refresh_from_db()
    assert article.status == "published"
    notices = client.get("/api/v1/me/notifications", **api(author)).json()["items"]
    assert "申诉已通过" in notices[0]["text"]


def test_appeals_answer_404_for_unknown_targets(client):
    reader = person("reader")
    assert is_problem(_appeal(client, reader, "comment", 999_999, "?"), 404)
    assert is_problem(_appeal(client, reader, "article", 999_999, "?"), 404)
    bad = post_json(client, "/api/v1/appeals", {"target_type": "account", "target_id": 1, "text": "?"}, **api(reader))
    assert is_problem(bad, 400) and bad.json()["errors"][0]["field"] == "target_type"


def test_notifications_tell_the_writer_when_an_editor_removes_their_comment(client):
    _author, article = author_and_article()
    writer = person("writer")
    created = post_json(client, comments_url(article), {"body": "我的观点"}, **api(writer)).json()
    comments.remove_comment(Comment.objects.get(pk=created["id"]), by=editor(), reason="跑题")
    assert Notification.objects.filter(user=writer, kind="comment.removed").count() == 1
    body = json.loads(client.get("/api/v1/me/notifications", **api(writer)).content)
    assert "跑题" in body["items"][0]["text"] and body["items"][0]["link"].startswith("http://testserver/")
