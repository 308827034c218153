"""Search: indexing follows the workflow, ranking on small corpora with a known right answer, the page."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from masthead.articles import actions
from masthead.discovery.backends import get_backend
from masthead.discovery.search import search, suggest
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    """Publish an article the way the workflow does, running the after-commit hooks (the indexer)."""

    def make(title: str, body: str = "", **fields):
        body_html = f"<p>{body or '这是一段与标题无关的正文，讲一些日常的事情。' * 3}</p>"
        with django_capture_on_commit_callbacks(execute=True):
            return factories.article(title=title, body=body_html, **fields)

    return make


def titles(results) -> list[str]:
    return [h.article.title for h in results.hits]


def test_published_article_is_found_by_words_of_its_title(publish):
    target = publish("城市夜跑指南：跑鞋怎么挑")
    publish("家常菜的十种做法")
    results = search("夜跑 跑鞋")
    assert titles(results) == [target.title]
    assert results.total == 1


def test_edit_and_removal_update_the_index_at_once(publish, django_capture_on_commit_callbacks):
    item = publish("老式收音机修理记")
    with django_capture_on_commit_callbacks(execute=True):
        actions.update_article(item, title="老式电视机修理记")
    assert search("收音机").total == 0
    assert titles(search("电视机")) == ["老式电视机修理记"]
    with django_capture_on_commit_callbacks(execute=True):
        actions.remove(item, reason="测试下架")
    assert search("电视机").total == 0


def test_unpublished_articles_are_not_found(publish):
    factories.article(title="还没发布的草稿标题", publish=False)
    assert search("草稿标题").total == 0


def test_title_match_ranks_above_body_match(publish):
    body_only = publish("一篇普通的生活随笔", body="文中顺带提到了天文望远镜。")
    in_title = publish("天文望远镜入门", body="讲讲怎样选第一台设备。")
    assert titles(search("天文望远镜"))[:2] == [in_title.title, body_only.title]


def test_whole_word_ranks_above_a_substring_across_words(publish):
    # "学生物" is a run of characters in the first title, but the word "生物" only in the second.
    across = publish("同学生物理成绩好")
    word = publish("海洋生物的迁徙")
    assert titles(search("生物"))[0] == word.title
    assert across.title in titles(search("生物"))


def test_a_word_inside_a_sentence_is_found_whatever_the_segmenter_says(publish):
    item = publish("人工智能大模型走进课堂")
    for query in ("智能大", "模型走进", "大模型", "走进课堂"):
        assert titles(search(query)) == [item.title], query


@pytest.mark.parametrize(
    "title,query",
    [
        ("俄罗斯S-300防空系统的原理", "s-300"),
        ("2026年春运开始", "2026年"),
        ("AI大模型的能耗", "AI大模型"),
        ("ＧＰＴ－４ｏ体验", "gpt-4o"),
    ],
)
def test_mixed_chinese_latin_and_numbers(publish, title, query):
    publish(title)
    publish("完全无关的另一篇文章")
    assert titles(search(query)) == [title]


def test_recency_breaks_ties(publish):
    old = publish("社区图书馆开放日")
    new = publish("社区图书馆开放日")
    old.published_at = timezone.now() - timedelta(days=200)
    old.save(update_fields=["published_at"])
    assert titles(search("图书馆"))[0] == new.title


def test_tags_and_account_names_are_searchable(publish):
    writer = factories.account(name="山城观鸟人")
    item = publish("周末去公园", tags=("候鸟迁徙",), account_=writer)
    assert titles(search("候鸟迁徙")) == [item.title]
    assert titles(search("山城观鸟人")) == [item.title]


def test_filters_by_channel_account_and_date(publish):
    sports = factories.channel("sports")
    writer = factories.account()
    a = publish("羽毛球双打技巧", channel_=sports, account_=writer)
    b = publish("羽毛球拍怎么选")
    assert titles(search("羽毛球", channel=sports)) == [a.title]
    assert titles(search("羽毛球", account=writer)) == [a.title]
    assert set(titles(search("羽毛球"))) == {a.title, b.title}
    tomorrow = timezone.now() + timedelta(days=1)
    assert search("羽毛球", since=tomorrow).total == 0
    assert search("羽毛球", until=tomorrow).total == 2


def test_pagination(publish):
    for n in range(7):
        publish(f"围棋定式讲解第{n}课")
    first = search("围棋", per_page=3)
    assert (first.total, first.pages, len(first.hits)) == (7, 3, 3)
    last = search("围棋", per_page=3, page=3)
    assert len(last.hits) == 1
    seen = {h.article.pk for p in (1, 2, 3) for h in search("围棋", per_page=3, page=p).hits}
    assert len(seen) == 7


def test_no_article_has_every_word_falls_back_to_some(publish):
    item = publish("春季养生喝什么茶")
    results = search("养生 火箭发射")
    assert results.relaxed and titles(results) == [item.title]


@pytest.mark.parametrize("query", ["", "   ", "!!!", "的", "？？。。", "<script>"])
def test_empty_or_junk_query_returns_nothing_without_error(publish, query):
    publish("有内容的文章")
    results = search(query)
    assert results.hits == [] and results.total == 0
    assert results.searched is (query == "<script>")


def test_highlighted_title_and_snippet_escape_html(publish):
    publish("<b>茶</b>与咖啡的对比", body="很多人早上喝咖啡，下午喝茶。")
    hit = search("咖啡").hits[0]
    assert "<mark>咖啡</mark>" in hit.title and "&lt;b&gt;" in hit.title
    assert "<mark>咖啡</mark>" in hit.snippet


def test_debunking_article_comes_first_for_queries_that_find_the_rumour(publish):
    truth = publish("权威说明：近期传言不实", body="有关部门作出澄清。")
    rumour = publish("喝盐水能预防流感", body="喝盐水能预防流感的说法流传甚广。")
    other = publish("预防流感的正确方法", body="接种疫苗，勤洗手。喝盐水能预防流感吗？并不能。")
    rumour.mark, rumour.debunked_by = "rumour", truth
    rumour.save(update_fields=["mark", "debunked_by"])
    results = search("盐水 流感")
    assert titles(results)[0] == truth.title and results.hits[0].debunks
    assert {rumour.title, other.title} <= set(titles(results))
    assert results.total == 3
    assert search("疫苗").hits[0].article == other  # the rumour does not match: nothing pinned


def test_reach_limited_articles_stay_searchable(publish):
    item = publish("限流但仍可搜索的文章标题")
    item.reach_limited = True
    item.save(update_fields=["reach_limited"])
    assert titles(search("仍可搜索")) == [item.title]


def test_suggestions_by_name_pinyin_and_initials():
    factories.account(name="跑步的老张", handle="laozhang")
    for q in ("老张", "paobu", "pbdlz", "paobudelaozhang"):
        assert "跑步的老张" in [s.name for s in suggest(q)], q
    factories.channel("sports")
    assert suggest("tiyu")[0].name == "体育"
    assert suggest("x") == []


def test_reindex_rebuilds_and_drops_stale_entries(publish):
    item = publish("蜂蜜的保存方法")
    get_backend().clear()
    assert search("蜂蜜").total == 0
    call_command("reindex", verbosity=0)
    assert titles(search("蜂蜜")) == [item.title]
    type(item).objects.filter(pk=item.pk).update(status="removed")  # behind the workflow's back
    call_command("reindex", verbosity=0)
    assert search("蜂蜜").total == 0


def test_search_page(client, publish, django_assert_max_num_queries):
    for n in range(12):
        publish(f"登山装备清单{n}")
    with django_assert_max_num_queries(12):
        response = client.get("/search/", {"q": "登山装备"})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('class="item search-hit') == 10 and "<mark>登山装备</mark>" in page
    assert 'rel="next"' in page and "page=2" in page
    second = client.get("/search/", {"q": "登山装备", "page": "2"}).content.decode()
    assert second.count('class="item search-hit') == 2


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "！！！"},
        {"q": "x" * 500},
        {"q": "登山", "page": "abc"},
        {"q": "登山", "since": "not-a-date", "channel": "nope"},
        {"q": "登山", "since": "0001-01-01", "until": "9999-12-31"},  # the extremes once overflowed
    ],
)
def test_search_page_never_errors_and_helps(client, params):
    response = client.get("/search/", params)
    assert response.status_code == 200
    assert "搜索小提示" in response.content.decode() or "找到" in response.content.decode()
