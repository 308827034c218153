"""相关推荐: ranking on small hand-made corpora whose right answer is known, and keeping lists current."""

import random

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone

from masthead.articles import actions
from masthead.discovery import related  # noqa: F401  (connects the receiver that keeps lists current)
from masthead.discovery.models import ArticleVector, RelatedArticle, TermStat
from masthead.discovery.related import compute_related, rebuild_related_all, related_articles
from masthead.discovery.vectors import DOCS, rebuild_all
from masthead.engagement.models import ReadingHistory
from tests import factories

pytestmark = pytest.mark.django_db

# Article i of a topic uses eight of its words starting at 4·i: neighbours share four; all share the
# topic's title word.
_WORDS = {
    "football": "足球 比赛 球队 进球 联赛 教练 球员 射门 冠军 主场 点球 后卫 前锋 门将 球迷 裁判 转会 赛季 中场 角球",
    "stocks": "股市 股票 投资者 指数 上涨 交易 基金 市场 收盘 证券 涨停 板块 券商 估值 融资 债券 汇率 利率 分红 财报",
    "cooking": "菜谱 厨房 炒菜 食材 调料 火候 米饭 鸡蛋 面条 味道 酱油 蒸锅 刀工 汤底 红烧 清蒸 油炸 面粉 饺子 香菜",
}
TOPICS = {topic: words.split(" ") for topic, words in _WORDS.items()}
TITLES = {"football": "球队", "stocks": "股市", "cooking": "厨房"}


def body(topic: str, seed: int) -> str:
    rng = random.Random(seed)
    start = 4 * (seed % 10) % len(TOPICS[topic])
    words = (TOPICS[topic] * 2)[start : start + 8]
    sentences = [f"{rng.choice(words)}和{rng.choice(words)}是今天{rng.choice(words)}的话题。" for _ in range(12)]
    return "<p>" + "".join(sentences) + "</p>"


_capture = None


@pytest.fixture(autouse=True)
def _after_commit(django_capture_on_commit_callbacks):
    """Tests run inside a transaction: run the after-commit hooks (article_changed) as a commit would."""
    global _capture
    _capture = django_capture_on_commit_callbacks
    yield
    _capture = None


def committed():
    return _capture(execute=True)


def write(topic: str, seed: int, **fields):
    fields.setdefault("title", f"{TITLES[topic]}观察第{seed}期：{random.Random(seed).choice(TOPICS[topic])}")
    with committed():
        return factories.article(body=body(topic, seed), tags=(), **fields)


@pytest.fixture
def corpus():
    return {topic: [write(topic, seed * 10 + i) for i in range(4)] for seed, topic in enumerate(TOPICS)}


def ids(articles):
    return {a.pk for a in articles}


def test_related_are_the_same_topic(corpus):
    for topic, articles in corpus.items():
        for source in articles:
            got = related_articles(source, 6)
            assert got, f"{topic}: no related articles"
            # The three others of its topic come first.
            assert ids(got[:3]) == ids(articles) - {source.pk}, topic


def test_each_recommendation_says_why_with_shared_words(corpus, client):
    source = corpus["football"][0]
    entries = list(RelatedArticle.objects.filter(article=source).order_by("rank"))
    first = entries[0]
    words = set(TOPICS["football"])
    assert first.reason and set(first.reason) & words
    # Shared by both articles' vectors.
    mine, theirs = (ArticleVector.objects.get(article_id=pk).terms for pk in (source.pk, first.related_id))
    assert all(w in mine and w in theirs for w in first.reason if w != "co-read")
    page = client.get(source.get_absolute_url()).content.decode()
    assert "都提到：" in page and first.reason[0] in page


def test_new_article_appears_under_older_ones_and_removal_drops_it_at_once(corpus, client):
    old = corpus["cooking"][0]
    newcomer = write("cooking", 999, title="厨房观察特刊：火候与刀工")
    assert newcomer.pk in ids(related_articles(old, 6))
    assert RelatedArticle.objects.filter(related=newcomer).count() >= 3

    with committed():
        actions.remove(newcomer, reason="违规")
    assert not RelatedArticle.objects.filter(related=newcomer).exists()
    assert not RelatedArticle.objects.filter(article=newcomer).exists()
    assert not ArticleVector.objects.filter(article=newcomer).exists()
    page = client.get(old.get_absolute_url()).content.decode()
    assert newcomer.title not in page
    # The list that lost it was refilled with the rest of the topic.
    assert ids(corpus["cooking"][1:]) <= ids(related_articles(old, 6))


def test_unpublished_and_limited_reach_are_never_recommended(corpus):
    with committed():
        draft = factories.article(publish=False, title="球队观察草稿：进球", body=body("football", 7))
    limited = write("football", 8)
    assert RelatedArticle.objects.filter(related=limited).exists()
    limited.reach_limited = True
    limited.save(update_fields=["reach_limited"])
    with committed():
        actions.purge_pages(limited)  # what an editor's mark does: article_changed
    assert not RelatedArticle.objects.filter(related=limited).exists()
    for source in corpus["football"]:
        got = ids(related_articles(source, 6)) | set(compute_related(source.pk))
        assert draft.pk not in got and limited.pk not in got
    # A limited article is still readable and keeps its own list.
    assert compute_related(limited.pk)


def test_near_duplicates_never_fill_the_list(corpus):
    source = corpus["stocks"][0]
    copies = [write("stocks", 500, title=f"股市观察重磅：涨停板块({i})") for i in range(5)]
    got = compute_related(source.pk)
    assert len(ids(copies) & set(got)) == 1
    # The other articles of the topic are still there.
    assert ids(corpus["stocks"][1:]) <= set(got)


def test_a_copy_of_the_source_is_not_recommended(corpus):
    source = corpus["stocks"][1]
    with committed():
        copy = factories.article(title=source.title, body=source.body_html, tags=())
    assert copy.pk not in compute_related(source.pk)


def test_co_reading_joins_the_blend(corpus):
    source, unrelated = corpus["football"][0], corpus["cooking"][3]
    User = get_user_model()
    for n in range(3):
        user = User.objects.create_user(f"co-reader-{n}")
        for article in (source, unrelated):
            ReadingHistory.objects.create(user=user, article=article, read_at=timezone.now())
    got = compute_related(source.pk)
    assert unrelated.pk in got
    entry = RelatedArticle.objects.get(article=source, related=unrelated)
    assert "co-read" in entry.reason


def test_term_stats_follow_publication_and_removal(corpus):
    df = lambda term: TermStat.objects.filter(term=term).values_list("df", flat=True).first() or 0  # noqa: E731
    docs = df(DOCS)
    assert docs == 12
    extra = write("football", 77, title="球队观察：独门词汇鲲鹏")
    assert df(DOCS) == 13
    assert df("鲲鹏") == 1
    with committed():
        actions.remove(extra, reason="重复")
    assert df(DOCS) == 12 and df("鲲鹏") == 0


def test_bulk_rebuild_agrees_with_the_topics(corpus):
    RelatedArticle.objects.all().delete()
    assert rebuild_all() == 12
    assert rebuild_related_all() == 12
    for topic, articles in corpus.items():
        for source in articles:
            top = RelatedArticle.objects.filter(article=source).order_by("rank")[:3]
            assert {r.related_id for r in top} == ids(articles) - {source.pk}, topic


def test_page_read_is_cheap(corpus, django_assert_max_num_queries):
    source = corpus["football"][0]
    cache.clear()
    with django_assert_max_num_queries(1):
        first = related_articles(source, 6)
    with django_assert_max_num_queries(0):
        assert [a.pk for a in related_articles(source, 6)] == [a.pk for a in first]


def test_fallback_before_a_list_exists_is_the_same_channel(corpus):
    source = corpus["football"][0]
    RelatedArticle.objects.filter(article=source).delete()
    cache.clear()
    got = related_articles(source, 6)
    assert got and all(a.channel_id == source.channel_id and a.pk != source.pk for a in got)
    assert got[0].related_reason == ["channel"]
