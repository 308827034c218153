"""Comment pages and forms over HTTP: without JavaScript (POST, redirect) and with it (JSON), who may do
what (anonymous, reader, creator, editor, admin), ordering, pagination and query budgets."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from masthead.articles.models import Article
from masthead.engagement import comment_queries, comments
from masthead.engagement.models import Comment
from masthead.moderation import screening
from masthead.moderation.models import AuditEntry
from tests.engagement.comment_helpers import admin, client_for, creator_article, editor, post, reader

pytestmark = pytest.mark.django_db
Status = Comment.Status
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def setup():
    author, article = creator_article(title="跟帖测试文章")
    return author, article


def _list(article, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("comments:list", args=[article.pk]) + (f"?{query}" if query else "")


def _aged(comment: Comment, hours: float, likes: int = 0) -> None:
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(hours=hours), like_count=likes)


# --- reading -----------------------------------------------------------------------------------------------


def test_the_list_page_shows_comments_with_region_and_placeholders(client, setup):
    _, article = setup
    head = post(reader("小明"), article, "这是一条好跟帖", region="广东")
    gone = post(reader(), article, "回复后删除", reply_to=head)
    comments.delete_own(gone.user, gone)
    bad = post(reader(), article, "广告链接")
    comments.remove_comment(bad, by=editor(), reason="垃圾广告")

    html = client.get(_list(article)).content.decode()
    assert "这是一条好跟帖" in html and "小明" in html and "IP属地：广东" in html
    assert "该跟帖已删除" in html and "回复后删除" not in html
    assert "该跟帖已被移除（原因：垃圾广告）" in html and "广告链接" not in html
    assert f"{reverse('reports:new')}?comment={head.pk}" in html


def test_anonymous_readers_get_a_login_link_and_no_form_or_token(client, setup):
    _, article = setup
    post(reader(), article)
    html = client.get(_list(article)).content.decode()
    assert "登录后发表跟帖" in html
    assert "csrfmiddlewaretoken" not in html and "client_token" not in html


def test_signed_in_readers_get_a_labelled_form_with_a_fresh_token(setup):
    _, article = setup
    html = client_for(reader()).get(_list(article)).content.decode()
    assert '<label class="comment-label" for="id_body">' in html
    tokens = re.findall(r'name="client_token" value="([0-9a-f]{32})"', html)
    assert len(tokens) == 1
    again = client_for(reader()).get(_list(article)).content.decode()
    assert tokens[0] not in again


def test_hot_puts_liked_recent_comments_first_and_new_the_latest(client, setup):
    _, article = setup
    old_liked = post(reader(), article, "一天前很多赞")
    fresh = post(reader(), article, "刚刚发的")
    slightly_liked = post(reader(), article, "两小时前一个赞")
    _aged(old_liked, 24, likes=60)
    _aged(slightly_liked, 2, likes=1)
    _aged(fresh, 0.1)
    hot = comment_queries.comment_page(Article.objects.get(pk=article.pk), comment_queries.Viewer(None))
    assert [t.comment.pk for t in hot.threads] == [old_liked.pk, fresh.pk, slightly_liked.pk]
    new = comment_queries.comment_page(article, comment_queries.Viewer(None), sort="new")
    assert [t.comment.pk for t in new.threads] == [fresh.pk, slightly_liked.pk, old_liked.pk]
    html = client.get(_list(article, sort="new")).content.decode()
    assert html.index("刚刚发的") < html.index("两小时前一个赞") < html.index("一天前很多赞")


def test_threads_show_the_first_replies_and_a_link_to_the_rest(client, setup):
    _, article = setup
    head = post(reader(), article, "楼主说")
    replies = [post(reader(), article, f"第{n}个回复", reply_to=head) for n in range(5)]
    page = comment_queries.comment_page(article, comment_queries.Viewer(None))
    (thread,) = page.threads
    assert [c.pk for c in thread.replies] == [c.pk for c in replies[:3]] and thread.more_replies
    html = client.get(_list(article)).content.decode()
    assert "第2个回复" in html and "第3个回复" not in html
    more = reverse("comments:thread", args=[article.pk, head.pk])
    assert more in html
    full = client.get(more).content.decode()
    assert all(f"第{n}个回复" in full for n in range(5))


def test_pages_of_twenty_threads(client, setup):
    _, article = setup
    made = [post(reader(), article, f"跟帖{n:02d}") for n in range(25)]
    Comment.objects.filter(pk__in=[c.pk for c in made]).update(created_at=timezone.now() - timedelta(hours=1))
    first = comment_queries.comment_page(article, comment_queries.Viewer(None), sort="new")
    second = comment_queries.comment_page(article, comment_queries.Viewer(None), sort="new", number=2)
    assert len(first.threads) == 20 and first.has_next
    assert len(second.threads) == 5 and not second.has_next
    seen = {t.comment.pk for t in first.threads} | {t.comment.pk for t in second.threads}
    assert seen == {c.pk for c in made}
    html = client.get(_list(article, sort="new", page=2)).content.decode()
    assert 'rel="prev"' in html and 'rel="next"' not in html


def test_held_comments_are_seen_only_by_their_writer_and_editors(setup):
    _, article = setup
    screening.add_terms("代购", screening.REVIEW, editor())
    writer = reader()
    post(writer, article, "找我代购")
    assert "找我代购" in client_for(writer).get(_list(article)).content.decode()
    assert "审核中，仅你可见" in client_for(writer).get(_list(article)).content.decode()
    assert "找我代购" in client_for(editor()).get(_list(article)).content.decode()
    assert "找我代购" not in client_for(reader()).get(_list(article)).content.decode()
    assert "找我代购" not in client_for().get(_list(article)).content.decode()


def test_the_list_costs_the_same_with_many_comments(setup, django_assert_max_num_queries):
    _, article = setup
    heads = [post(reader(), article, f"楼{n}") for n in range(30)]
    for head in heads[:10]:
        for n in range(5):
            post(reader(), article, f"回复{n}", reply_to=head)
    viewer = comment_queries.Viewer(None)
    with django_assert_max_num_queries(1):
        page = comment_queries.comment_page(article, viewer)
        assert len(page.threads) == 20 and sum(len(t.replies) for t in page.threads) > 0
    fan = reader()
    with django_assert_max_num_queries(2):
        comment_queries.comment_page(article, comment_queries.Viewer(fan))
    client = client_for(fan)
    # Ours: article, editors group, the page, likes; the rest is the site header's user menu.
    with django_assert_max_num_queries(10):
        assert client.get(_list(article, sort="new")).status_code == 200


def test_comments_of_unpublished_articles_are_not_found(client):
    from tests import factories

    draft = factories.article(publish=False)
    assert client.get(_list(draft)).status_code == 404


# --- posting without JavaScript ----------------------------------------------------------------------------


def test_posting_with_the_plain_form_redirects_to_the_new_comment(setup):
    _, article = setup
    client = client_for(reader())
    response = client.post(reverse("comments:post", args=[article.pk]), {"body": "表单发帖", "client_token": "t1"})
    comment = Comment.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#c{comment.pk}")
    html = client.get(response["Location"]).content.decode()
    assert "表单发帖" in html and "跟帖已发表" in html


def test_a_double_submitted_form_makes_one_comment(setup):
    _, article = setup
    client = client_for(reader())
    data = {"body": "点了两次", "client_token": "abc123"}
    first = client.post(reverse("comments:post", args=[article.pk]), data)
    second = client.post(reverse("comments:post", args=[article.pk]), data)
    assert first["Location"] == second["Location"]
    assert Comment.objects.count() == 1


def test_errors_show_on_the_form_with_the_text_kept(setup):
    _, article = setup
    response = client_for(reader()).post(reverse("comments:post", args=[article.pk]), {"body": "   "})
    html = response.content.decode()
    assert response.status_code == 400
    assert "请输入跟帖内容" in html and 'aria-invalid="true"' in html
    screening.add_terms("赌博", screening.BLOCK, editor())
    response = client_for(reader()).post(reverse("comments:post", args=[article.pk]), {"body": "一起赌博"})
    html = response.content.decode()
    assert response.status_code == 400 and "“赌博”" in html and "一起赌博</textarea>" in html


def test_a_reply_with_the_plain_form(setup):
    _, article = setup
    head = post(reader("楼主"), article, "原帖内容")
    client = client_for(reader())
    page = client.get(_list(article, reply=head.pk)).content.decode()
    assert "回复 @楼主：" in page and f'name="reply_to" value="{head.pk}"' in page
    response = client.post(reverse("comments:post", args=[article.pk]), {"body": "我来回复", "reply_to": head.pk})
    assert response.status_code == 302
    assert Comment.objects.get(body="我来回复").thread_id == head.pk


def test_too_fast_answers_429_with_retry_after(setup, settings):
    settings.MASTHEAD_RATE_LIMITS = {"comment-user-minute": (2, 60)}
    _, article = setup
    client = client_for(reader())
    url = reverse("comments:post", args=[article.pk])
    for n in range(2):
        assert client.post(url, {"body": f"第{n}条"}).status_code == 302
    response = client.post(url, {"body": "第三条"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "发帖太频繁" in response.content.decode()
    response = client.post(url, {"body": "第三条"}, **JSON)
    assert response.status_code == 429 and "发帖太频繁" in response.json()["errors"]["__all__"][0]


# --- with JavaScript (JSON) --------------------------------------------------------------------------------


def test_json_post_returns_the_rendered_comment_and_a_new_token(setup):
    _, article = setup
    client = client_for(reader())
    data = client.post(
        reverse("comments:post", args=[article.pk]), {"body": "不刷新发帖", "client_token": "j1"}, **JSON
    )
    payload = data.json()
    assert payload["ok"] and payload["count"] == 1 and "不刷新发帖" in payload["html"]
    assert payload["client_token"] != "j1"
    bad = client.post(reverse("comments:post", args=[article.pk]), {"body": ""}, **JSON)
    assert bad.status_code == 400 and "请输入跟帖内容" in bad.json()["errors"]["body"][0]


def test_json_like_and_list(setup):
    _, article = setup
    comment = post(reader(), article, "求赞")
    client = client_for(reader())
    liked = client.post(reverse("comments:like", args=[comment.pk]), {"on": "1"}, **JSON).json()
    assert liked["ok"] and liked["liked"] and liked["like_count"] == 1 and 'aria-pressed="true"' in liked["html"]
    unliked = client.post(reverse("comments:like", args=[comment.pk]), {"on": "0"}, **JSON).json()
    assert not unliked["liked"] and unliked["like_count"] == 0
    listing = client.get(_list(article, sort="new"), **JSON).json()
    assert "求赞" in listing["html"] and listing["next"] is None and listing["sort"] == "new"


# --- who may do what ------------------------------------------------------------------------------------


def test_anonymous_posts_and_likes_go_to_the_login_page(client, setup):
    _, article = setup
    comment = post(reader(), article)
    for url in (reverse("comments:post", args=[article.pk]), reverse("comments:like", args=[comment.pk])):
        response = client.post(url, {"body": "匿名"})
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    assert client.post(reverse("comments:post", args=[article.pk]), {"body": "x"}, **JSON).status_code == 403
    assert Comment.objects.count() == 1


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("reader", False),
        ("writer", False),
        ("other_creator", False),
        ("author", True),
        ("editor", True),
        ("admin", True),
    ],
)
def test_who_may_remove_a_comment(setup, role, allowed):
    author, article = setup
    writer = reader()
    comment = post(writer, article, "有争议的跟帖")
    user = {
        "reader": reader(),
        "writer": writer,
        "other_creator": creator_article()[0],
        "author": author,
        "editor": editor(),
        "admin": admin(),
    }[role]
    response = client_for(user).post(reverse("comments:remove", args=[comment.pk]), {"reason": "离题"})
    assert response.status_code == (302 if allowed else 403)
    assert Comment.objects.get(pk=comment.pk).status == (Status.REMOVED if allowed else Status.VISIBLE)


def test_remove_buttons_show_only_to_the_author_and_editors(setup):
    author, article = setup
    post(reader(), article)
    assert "确认移除" in client_for(author).get(_list(article)).content.decode()
    assert "确认移除" in client_for(editor()).get(_list(article)).content.decode()
    assert "确认移除" not in client_for(reader()).get(_list(article)).content.decode()


def test_delete_own_over_http(setup):
    _, article = setup
    writer = reader()
    comment = post(writer, article, "我要删掉")
    assert client_for(reader()).post(reverse("comments:delete", args=[comment.pk])).status_code == 403
    response = client_for(writer).post(reverse("comments:delete", args=[comment.pk]), **JSON)
    assert response.json()["status"] == "deleted" and "该跟帖已删除" in response.json()["html"]


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 302), ("reader", 403), ("author", 403), ("editor", 200), ("admin", 200)]
)
def test_the_review_queue_is_for_editors(setup, role, status):
    author, _ = setup
    user = {"anonymous": None, "reader": reader(), "author": author, "editor": editor(), "admin": admin()}[role]
    assert client_for(user).get(reverse("comment_review:queue")).status_code == status


def test_editors_approve_and_reject_from_the_queue(setup):
    _, article = setup
    boss = editor()
    screening.add_terms("代购", screening.REVIEW, boss)
    ok = post(reader(), article, "代购也有正经的")
    no = post(reader(), article, "代购私信我")
    client = client_for(boss)
    html = client.get(reverse("comment_review:queue")).content.decode()
    assert "代购也有正经的" in html and "代购私信我" in html
    client.post(reverse("comment_review:approve", args=[ok.pk]))
    response = client.post(reverse("comment_review:reject", args=[no.pk]), {"reason": "广告"})
    assert response.status_code == 302
    assert Comment.objects.get(pk=ok.pk).status == Status.VISIBLE
    assert Comment.objects.get(pk=no.pk).status == Status.REMOVED
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {"comment.approve", "comment.reject"}
    # Readers cannot use the editors' actions.
    assert (
        client_for(reader()).post(reverse("comment_review:restore", args=[no.pk]), {"reason": "x"}).status_code == 403
    )


def test_a_new_comment_purges_the_cached_list(client, setup, django_capture_on_commit_callbacks):
    _, article = setup
    assert settings.MASTHEAD_PAGE_CACHE_SECONDS > 0
    first = client.get(_list(article))
    assert client.get(_list(article))["X-Page-Cache"] == "hit"
    assert "晚来的跟帖" not in first.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        post(reader(), article, "晚来的跟帖")
    assert "晚来的跟帖" in client.get(_list(article)).content.decode()
