"""The JSON API's reading around articles: comments (threads, order, placeholders, held ones), 相关推荐
with their reasons, the hot lists and search, each agreeing with its web page and costing a fixed
number of queries. Runs on SQLite and PostgreSQL (search has an engine for each)."""

import json
import random
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from masthead.articles import actions as article_actions
from masthead.articles.models import Article
from masthead.discovery import hot, hot_score, search
from masthead.discovery.models import RelatedArticle
from masthead.engagement import comments, counters
from masthead.engagement.models import ArticleStatDay, Comment
from masthead.moderation import screening
from tests import factories
from tests.api.conftest import bearer, is_problem, token_for
from tests.discovery.test_hot import _quiet_buffers, published  # noqa: F401  (autouse: nothing buffered leaks in)
from tests.engagement.comment_helpers import creator_article, editor, post, reader

pytestmark = pytest.mark.django_db
API = "/api/v1"


def get(client, url: str, **extra):
    response = client.get(url, **extra)
    assert response["Content-Type"].startswith(("application/json", "application/problem+json")), response
    return response


def ok(client, url: str, **extra) -> dict:
    response = get(client, url, **extra)
    assert response.status_code == 200, response.content.decode()
    return response.json()


def _aged(comment: Comment, hours: float, likes: int = 0) -> None:
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(hours=hours), like_count=likes)


@pytest.fixture
def article():
    return creator_article(title="跟帖接口测试文章")


# --- comments -----------------------------------------------------------------------------------------


def test_hot_puts_liked_comments_first_and_new_the_latest(client, article):
    _, item = article
    old_liked = post(reader(), item, "一天前很多赞")
    fresh = post(reader(), item, "刚刚发的")
    slightly_liked = post(reader(), item, "两小时前一个赞")
    _aged(old_liked, 24, likes=60)
    _aged(slightly_liked, 2, likes=1)
    _aged(fresh, 0.1)

    hot_page = ok(client, f"{API}/articles/{item.pk}/comments")
    assert hot_page["sort"] == "hot" and hot_page["count"] == 3
    assert [t["id"] for t in hot_page["threads"]] == [old_liked.pk, fresh.pk, slightly_liked.pk]
    new_page = ok(client, f"{API}/articles/{item.pk}/comments?sort=new")
    assert [t["body"] for t in new_page["threads"]] == ["刚刚发的", "两小时前一个赞", "一天前很多赞"]
    # The web page lists them in the same order.
    html = client.get(f"/a/{item.pk}/comments/?sort=new").content.decode()
    assert html.index("刚刚发的") < html.index("两小时前一个赞") < html.index("一天前很多赞")


def test_a_thread_shows_its_first_replies_quotes_and_links_to_the_rest(client, article):
    _, item = article
    head = post(reader(), item, "楼主说")
    replies = [post(reader(), item, f"第{n}个回复", reply_to=head) for n in range(4)]
    quoting = post(reader("小红"), item, "我不同意" + "！" * 200, reply_to=replies[1])
    (thread,) = ok(client, f"{API}/articles/{item.pk}/comments")["threads"]
    assert thread["reply_count"] == 5 and thread["thread_id"] is None
    assert [r["body"] for r in thread["replies"]] == ["第0个回复", "第1个回复", "第2个回复"]
    assert thread["more_replies"] is True
    assert thread["replies"][0]["thread_id"] == head.pk
    assert thread["replies"][0]["reply_to"] is None  # answering the head itself: the page quotes nothing

    everything = ok(client, thread["replies_url"])
    assert everything["thread"]["id"] == head.pk
    assert [r["id"] for r in everything["replies"]] == [*[r.pk for r in replies], quoting.pk]
    assert everything["has_next"] is False and everything["next"] is None
    quote = everything["replies"][-1]["reply_to"]
    assert quote["id"] == replies[1].pk and quote["excerpt"] == "第1个回复" and quote["placeholder"] is None
    assert quote["author"] == replies[1].user.get_username()


def test_a_long_quote_is_cut_as_the_page_cuts_it(client, article):
    _, item = article
    head = post(reader(), item, "楼主")
    long = post(reader(), item, "长" * 300, reply_to=head)
    post(reader(), item, "回复长文", reply_to=long)
    replies = ok(client, f"{API}/articles/{item.pk}/comments/{head.pk}/replies")["replies"]
    excerpt = replies[1]["reply_to"]["excerpt"]
    assert len(excerpt) == 120 and excerpt != long.body
    assert excerpt in client.get(f"/a/{item.pk}/comments/{head.pk}/").content.decode()


def test_authors_show_as_on_the_page_never_by_email(client, article):
    author, item = article
    fan = reader("fan_reader")
    post(fan, item, "读者的跟帖", region="广东")
    post(author, item, "作者的回应")
    data = ok(client, f"{API}/articles/{item.pk}/comments?sort=new")
    by_body = {t["body"]: t for t in data["threads"]}
    mine, theirs = by_body["作者的回应"], by_body["读者的跟帖"]
    assert mine["author"]["name"] == author.account.name and mine["author"]["is_article_author"] is True
    assert mine["author"]["account"]["handle"] == author.account.handle
    assert theirs["author"] == {"name": "fan_reader", "account": None, "is_article_author": False}
    assert theirs["ip_region"] == "广东"
    assert theirs["created_at"].endswith("+08:00")
    raw = json.dumps(data, ensure_ascii=False)
    assert "@example.com" not in raw


def test_deleted_and_removed_comments_keep_their_place_as_the_pages_placeholder(client, article):
    _, item = article
    head = post(reader(), item, "这是一条好跟帖")
    gone = post(reader(), item, "回复后删除", reply_to=head)
    comments.delete_own(gone.user, gone)
    bad = post(reader(), item, "广告链接")
    comments.remove_comment(bad, by=editor(), reason="垃圾广告")
    answer = post(reader(), item, "回复被删的那条之前", reply_to=head)
    Comment.objects.filter(pk=answer.pk).update(reply_to=gone)  # as if it had answered it before the deletion

    data = ok(client, f"{API}/articles/{item.pk}/comments?sort=new")
    raw = json.dumps(data, ensure_ascii=False)
    assert "回复后删除" not in raw and "广告链接" not in raw
    removed = next(t for t in data["threads"] if t["id"] == bad.pk)
    assert removed["status"] == "removed" and removed["placeholder"] == "该跟帖已被移除（原因：垃圾广告）"
    assert removed["body"] == "" and removed["author"] is None and removed["ip_region"] == ""
    thread = next(t for t in data["threads"] if t["id"] == head.pk)
    deleted, answered = thread["replies"]
    assert deleted["status"] == "deleted" and deleted["placeholder"] == "该跟帖已删除"
    assert answered["reply_to"] == {"id": gone.pk, "author": None, "excerpt": "", "placeholder": "该跟帖已删除"}
    html = client.get(f"/a/{item.pk}/comments/").content.decode()
    assert "该跟帖已被移除（原因：垃圾广告）" in html and "该跟帖已删除" in html


def test_held_comments_only_for_their_writer_and_editors(client, article):
    _, item = article
    screening.add_terms("代购", screening.REVIEW, editor())
    writer = reader()
    held = post(writer, item, "找我代购")
    assert held.status == Comment.Status.HELD
    url = f"{API}/articles/{item.pk}/comments"
    assert "找我代购" not in client.get(url).content.decode()
    assert "找我代购" not in client.get(url, **bearer(token_for(reader()))).content.decode()
    own = ok(client, url, **bearer(token_for(writer)))["threads"]
    assert [(t["body"], t["status"], t["review_note"]) for t in own] == [("找我代购", "held", "审核中，仅你可见")]
    (seen,) = ok(Client(), url, **bearer(token_for(editor())))["threads"]
    assert seen["review_note"] == "待审核"
    # Nor can anonymous readers open it as a thread.
    assert is_problem(client.get(f"{url}/{held.pk}/replies"), 404, "not_found")


def test_pages_of_twenty_threads_with_links(client, article):
    _, item = article
    made = [post(reader(), item, f"跟帖{n:02d}") for n in range(25)]
    Comment.objects.filter(pk__in=[c.pk for c in made]).update(created_at=timezone.now() - timedelta(hours=1))
    first = ok(client, f"{API}/articles/{item.pk}/comments?sort=new")
    assert len(first["threads"]) == 20 and first["has_next"] and not first["has_previous"]
    assert first["next"].startswith("http://testserver/api/v1/") and "page=2" in first["next"]
    second = ok(client, first["next"])
    assert len(second["threads"]) == 5 and second["next"] is None and "page=1" in second["previous"]
    assert {t["id"] for t in first["threads"] + second["threads"]} == {c.pk for c in made}


@pytest.mark.parametrize("query", ["page=0", "page=10001", "page=x", "sort=best", "sort="])
def test_bad_paging_or_sort_is_a_400_naming_the_field(client, article, query):
    _, item = article
    response = client.get(f"{API}/articles/{item.pk}/comments?{query}")
    assert is_problem(response, 400, "invalid")
    assert query.split("=")[0] in response.json()["detail"]


def test_comments_of_unpublished_and_removed_articles(client, django_capture_on_commit_callbacks):
    draft = factories.article(publish=False)
    assert is_problem(client.get(f"{API}/articles/{draft.pk}/comments"), 404, "not_found")
    assert is_problem(client.get(f"{API}/articles/999999/comments"), 404, "not_found")
    gone = factories.article()
    with django_capture_on_commit_callbacks(execute=True):
        article_actions.remove(gone, reason="违反社区规定")
    response = client.get(f"{API}/articles/{gone.pk}/comments")
    assert is_problem(response, 410, "removed")
    assert response.json()["reason"] == "违反社区规定"
    assert is_problem(client.get(f"{API}/articles/{gone.pk}/related"), 410, "removed")


def test_a_comment_of_another_article_is_not_a_thread_here(client, article):
    _, item = article
    other = creator_article()[1]
    head = post(reader(), other, "别处的跟帖")
    assert is_problem(client.get(f"{API}/articles/{item.pk}/comments/{head.pk}/replies"), 404)


def _busy(item: Article, threads: int, replies_each: int) -> None:
    for n in range(threads):
        head = post(reader(), item, f"楼{n}")
        for m in range(replies_each):
            post(reader(), item, f"回复{m}", reply_to=head)


@pytest.mark.parametrize("sort", ["hot", "new"])
def test_the_list_costs_the_same_with_five_or_fifty_comments(client, django_assert_num_queries, sort):
    _, few = creator_article()
    _busy(few, 5, 0)
    _, many = creator_article()
    _busy(many, 25, 1)
    for item in (few, many):
        with django_assert_num_queries(2):  # the article, the page of threads with their replies
            data = ok(Client(), f"{API}/articles/{item.pk}/comments?sort={sort}")
        assert data["threads"]
    head = Comment.objects.filter(article=many, thread=None).first()
    with django_assert_num_queries(3):  # the article, the head, the replies
        ok(Client(), f"{API}/articles/{many.pk}/comments/{head.pk}/replies")


def test_anonymous_answers_are_page_cached_until_a_new_comment(client, article, django_capture_on_commit_callbacks):
    _, item = article
    post(reader(), item, "第一条")
    url = f"{API}/articles/{item.pk}/comments"
    first = client.get(url)
    assert first["X-Page-Cache"] == "miss" and first["Cache-Control"] == "max-age=0, must-revalidate"
    assert client.get(url)["X-Page-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        post(reader(), item, "第二条")
    fresh = client.get(url)
    assert fresh["X-Page-Cache"] == "miss" and len(fresh.json()["threads"]) == 2
    # A caller with a token is never served the shared copy, nor stored.
    assert "X-Page-Cache" not in client.get(url, **bearer(token_for(reader())))


# --- 相关推荐 --------------------------------------------------------------------------------------------

_WORDS = {
    "football": "足球 比赛 球队 进球 联赛 教练 球员 射门 冠军 主场 点球 后卫 前锋 门将 球迷 裁判",
    "cooking": "菜谱 厨房 炒菜 食材 调料 火候 米饭 鸡蛋 面条 味道 酱油 蒸锅 刀工 汤底 红烧 清蒸",
}
TOPICS = {topic: words.split(" ") for topic, words in _WORDS.items()}


def _topic_article(topic: str, seed: int, capture):
    rng = random.Random(seed)
    words = (TOPICS[topic] * 2)[4 * (seed % 4) : 4 * (seed % 4) + 8]
    body = "".join(f"{rng.choice(words)}和{rng.choice(words)}是今天{rng.choice(words)}的话题。" for _ in range(12))
    with capture(execute=True):
        return factories.article(title=f"{words[0]}观察第{seed}期", body=f"<p>{body}</p>", tags=())


@pytest.fixture
def topics(django_capture_on_commit_callbacks):
    return {t: [_topic_article(t, seed, django_capture_on_commit_callbacks) for seed in range(4)] for t in TOPICS}


def test_related_come_with_the_shared_words_the_page_shows(client, topics, django_assert_num_queries):
    source = topics["football"][0]
    with django_assert_num_queries(2):  # the article, the stored list with the related articles
        data = ok(client, f"{API}/articles/{source.pk}/related")
    entries = data["entries"]
    assert {e["article"]["id"] for e in entries[:3]} == {a.pk for a in topics["football"][1:]}
    first = entries[0]
    stored = RelatedArticle.objects.get(article=source, rank=1)
    assert first["article"]["id"] == stored.related_id
    assert first["shared_words"] == [w for w in stored.reason if w != "co-read"]
    assert set(first["shared_words"]) <= set(TOPICS["football"])
    assert first["reason"] == "都提到：" + "、".join(first["shared_words"])
    assert first["article"]["account"]["name"] and first["article"]["title"]
    page = client.get(source.get_absolute_url()).content.decode()
    assert "都提到：" in page and first["shared_words"][0] in page
    assert len(ok(client, f"{API}/articles/{source.pk}/related?limit=2")["entries"]) == 2
    assert is_problem(client.get(f"{API}/articles/{source.pk}/related?limit=7"), 400, "invalid")


def test_before_a_list_exists_the_newest_of_the_channel_stand_in(client):
    older = factories.article(title="较早的文章")
    newer = factories.article(title="较新的文章")
    RelatedArticle.objects.all().delete()
    (entry, *_rest) = ok(client, f"{API}/articles/{newer.pk}/related")["entries"]
    assert entry["article"]["id"] == older.pk
    assert entry["same_channel"] is True and entry["reason"] == "同频道的新文章" and entry["shared_words"] == []


def test_related_of_a_draft_is_not_found(client):
    draft = factories.article(publish=False)
    assert is_problem(client.get(f"{API}/articles/{draft.pk}/related"), 404, "not_found")


# --- 热点推荐 --------------------------------------------------------------------------------------------


def _hot(*readers_counts: int, channel=None) -> list[Article]:
    items = []
    for n in readers_counts:
        item = published(hours_ago=1, **({"channel_": channel} if channel else {}))
        ArticleStatDay.objects.create(article=item, day=counters.local_day(), views=n, readers=n)
        items.append(item)
    hot_score.refresh()
    return items


def test_the_hot_list_is_ranked_as_the_page_with_pins_and_heat(client, django_assert_num_queries):
    first, second, third = _hot(30, 20, 10)
    quiet = published(hours_ago=5)
    hot.pin(quiet, by=editor(), position=2, reason="重要通知")

    with django_assert_num_queries(2):  # the live pins and removals, the ranked scores with their articles
        data = ok(client, f"{API}/hot")
    entries = data["entries"]
    assert data["channel"] is None
    assert [e["article"]["id"] for e in entries] == [first.pk, quiet.pk, second.pk, third.pk]
    assert [e["rank"] for e in entries] == [1, 2, 3, 4]
    assert entries[1]["pinned"] is True and entries[1]["heat"] is None and entries[1]["label"] == "编辑推荐"
    assert entries[0]["heat"] > entries[2]["heat"] > entries[3]["heat"] > 0
    assert entries[0]["label"].startswith("热度 ")
    assert entries[0]["article"]["account"]["name"] == first.account.name
    assert entries[0]["article"]["published_at"]

    html = client.get("/hot/").content.decode()
    positions = [html.index(a.title) for a in (first, quiet, second, third)]
    assert positions == sorted(positions)
    assert entries[0]["label"] in html and "编辑推荐" in html
    assert [e["article"]["id"] for e in ok(client, f"{API}/hot?limit=2")["entries"]] == [first.pk, quiet.pk]


def test_the_hot_list_is_page_cached_and_a_refresh_shows_at_once(client, django_capture_on_commit_callbacks):
    (first,) = _hot(30)
    assert client.get(f"{API}/hot")["X-Page-Cache"] == "miss"
    assert client.get(f"{API}/hot")["X-Page-Cache"] == "hit"
    newcomer = published(hours_ago=0.5)
    ArticleStatDay.objects.create(article=newcomer, day=counters.local_day(), views=90, readers=90)
    with django_capture_on_commit_callbacks(execute=True):
        hot_score.refresh()
    response = client.get(f"{API}/hot")
    assert response["X-Page-Cache"] == "miss"
    assert [e["article"]["id"] for e in response.json()["entries"]] == [newcomer.pk, first.pk]


def test_a_channels_hot_list_holds_its_articles(client):
    sports = factories.channel("sports")
    (ours,) = _hot(10, channel=sports)
    _hot(50)
    data = ok(client, f"{API}/hot/sports")
    assert data["channel"]["slug"] == "sports" and data["channel"]["name"] == sports.name
    assert [e["article"]["id"] for e in data["entries"]] == [ours.pk]
    assert is_problem(client.get(f"{API}/hot/no-such-channel"), 404, "channel_not_found")
    assert is_problem(client.get(f"{API}/hot/bad%20slug"), 400, "invalid")
    assert is_problem(client.get(f"{API}/hot?limit=51"), 400, "invalid")


# --- search -------------------------------------------------------------------------------------------


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    """Publish as the workflow does, running the after-commit hooks (the search indexer)."""
    search.names.invalidate()

    def make(title: str, body: str = "", **fields):
        body_html = body or f"<p>{'这是一段与标题无关的正文，讲一些日常的事情。' * 3}</p>"
        with django_capture_on_commit_callbacks(execute=True):
            return factories.article(title=title, body=body_html, **fields)

    yield make
    search.names.invalidate()


def test_search_finds_a_word_inside_a_sentence_and_marks_it(client, publish):
    item = publish("人工智能大模型走进课堂")
    publish("家常菜的十种做法")
    data = ok(client, f"{API}/search?q=大模型")
    assert data["searched"] and data["total"] == 1 and data["query"] == "大模型"
    (hit,) = data["hits"]
    assert hit["article"]["id"] == item.pk and hit["article"]["title"] == "人工智能大模型走进课堂"
    assert hit["title_html"] == "人工智能<mark>大模型</mark>走进课堂"
    assert data["message"] == "找到 1 篇与“大模型”相关的文章" and data["help"] == []
    # The same hits, ranked the same, as the search page.
    web = search.search("大模型")
    assert [h.article.pk for h in web.hits] == [h["article"]["id"] for h in data["hits"]]
    assert hit["title_html"] in client.get("/search/?q=大模型").content.decode()


def test_hostile_text_stays_inert_in_the_highlights(client, publish):
    publish(
        '<img src=x onerror="alert(1)">天文望远镜入门',
        body="<p>&lt;script&gt;alert('x')&lt;/script&gt; 讲讲天文望远镜怎么选。</p>",
    )
    (hit,) = ok(client, f"{API}/search?q=天文望远镜")["hits"]
    for markup in (hit["title_html"], hit["snippet_html"]):
        assert "<img" not in markup and "<script" not in markup
        assert set(markup.replace("<mark>", "").replace("</mark>", "")) & set("<>") == set()
    assert hit["title_html"].startswith("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;")
    assert "<mark>天文望远镜</mark>" in hit["title_html"] and "&lt;script&gt;" in hit["snippet_html"]
    # A hostile query comes back as plain text in `query`; highlights hold only our own <mark>.
    for query in ("<mark>x</mark>", '"><svg onload=alert(1)>望远镜'):
        data = ok(client, f"{API}/search?{urlencode({'q': query})}")
        assert data["query"] == query and data["hits"]
        for hit in data["hits"]:
            for markup in (hit["title_html"], hit["snippet_html"]):
                assert set(markup.replace("<mark>", "").replace("</mark>", "")) & set("<>") == set()


def test_filters_narrow_the_results(client, publish):
    sports = factories.channel("sports")
    writer = factories.account(name="球评人")
    in_sports = publish("篮球规则的变化", channel_=sports, account_=writer)
    elsewhere = publish("篮球鞋怎么挑")
    Article.objects.filter(pk=elsewhere.pk).update(published_at=timezone.now() - timedelta(days=10))

    def found(query: str) -> list[int]:
        return sorted(h["article"]["id"] for h in ok(client, f"{API}/search?q=篮球&{query}")["hits"])

    assert found("") == sorted([in_sports.pk, elsewhere.pk])
    assert found("channel=sports") == [in_sports.pk]
    assert found(f"account={writer.handle}") == [in_sports.pk]
    today = timezone.localdate()
    assert found(f"since={today - timedelta(days=3)}") == [in_sports.pk]
    assert found(f"until={today - timedelta(days=3)}") == [elsewhere.pk]
    assert found(f"since={today - timedelta(days=10)}&until={today - timedelta(days=10)}") == [elsewhere.pk]
    data = ok(client, f"{API}/search?q=篮球&channel=sports&until=9999-12-31&since=0001-01-01")
    assert data["filters"]["channel"]["slug"] == "sports" and data["filters"]["until"] == "9999-12-31"
    assert [h["article"]["id"] for h in data["hits"]] == [in_sports.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "q"),
        ("q=", "q"),
        ("q=%20%20", "q"),
        ("q=" + "长" * 101, "q"),
        ("q=篮球&account=bad%20handle", "account"),
        ("q=篮球&since=2026-13-01", "since"),
        ("q=篮球&page=0", "page"),
        ("q=篮球&page=51", "page"),
    ],
)
def test_bad_search_parameters_are_a_400_naming_the_field(client, query, field):
    response = client.get(f"{API}/search?{query}")
    assert is_problem(response, 400, "invalid"), response.content.decode()
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_unknown_filters_are_not_found_rather_than_ignored(client, publish):
    publish("篮球规则的变化")
    assert is_problem(client.get(f"{API}/search?q=篮球&channel=no-such"), 404, "channel_not_found")
    assert is_problem(client.get(f"{API}/search?q=篮球&account=nobody-here"), 404, "account_not_found")


def test_a_query_with_nothing_to_look_for_gets_the_pages_hint(client, publish):
    publish("篮球规则的变化")
    data = ok(client, f"{API}/search?q=！！！")
    assert data["searched"] is False and data["hits"] == [] and data["total"] == 0
    assert data["message"] == "这个搜索词里没有可以查找的文字，换个说法试试。"
    assert len(data["help"]) == 3
    nothing = ok(client, f"{API}/search?q=量子纠缠")
    assert nothing["searched"] and nothing["message"] == "没有找到与“量子纠缠”相关的文章。" and nothing["help"]


def test_some_words_when_no_article_has_all_of_them(client, publish):
    item = publish("篮球规则的变化")
    data = ok(client, f"{API}/search?q=篮球 量子纠缠")
    assert data["relaxed"] and [h["article"]["id"] for h in data["hits"]] == [item.pk]
    assert data["note"] == "没有同时包含所有关键词的文章，以下文章包含其中一部分。"


def test_accounts_and_channels_are_suggested_by_pinyin(client, publish):
    writer = factories.account(name="体育观察")
    publish("一篇文章", account_=writer)
    data = ok(client, f"{API}/search?q=tygc")
    assert {"kind": "account", "name": "体育观察", "url": f"http://testserver/u/{writer.handle}/"} in data[
        "suggestions"
    ]
    assert any(s["kind"] == "channel" for s in ok(client, f"{API}/search?q=体育")["suggestions"])


def test_search_pages_and_costs_the_same_for_few_or_many_hits(client, publish, django_assert_num_queries):
    for n in range(12):
        publish(f"城市夜跑指南第{n}篇")
    for n in range(3):
        publish(f"老式收音机修理记第{n}篇")
    ok(client, f"{API}/search?q=预热")  # the channel and name lists, cached from here on
    # The engine's ranked query, then the page's articles. SQLite: the matches, then their rank data;
    # PostgreSQL: one query, with its planner setting, inside a savepoint (five statements).
    budget = {"sqlite": 3, "postgresql": 6}[connection.vendor]
    for query, hits in (("收音机", 3), ("夜跑", 10)):
        with django_assert_num_queries(budget):
            data = ok(client, f"{API}/search?q={query}")
        assert len(data["hits"]) == hits
    data = ok(client, f"{API}/search?q=夜跑&channel=tech")
    assert data["total"] == 12 and data["pages"] == 2 and data["has_next"]
    assert "channel=tech" in data["next"] and "page=2" in data["next"]
    second = ok(client, data["next"])
    assert len(second["hits"]) == 2 and second["has_previous"] and not second["has_next"]
    assert {h["article"]["id"] for h in data["hits"]} | {h["article"]["id"] for h in second["hits"]} == set(
        Article.objects.filter(title__startswith="城市夜跑").values_list("pk", flat=True)
    )
