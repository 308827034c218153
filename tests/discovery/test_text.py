"""Text analysis: what a word is, for search, 相关推荐 and interest tags alike."""

import pytest

from masthead.discovery import text
from tests import factories


def test_normalize_folds_full_width_and_case():
    assert text.normalize("ＡＩ大模型 Ｓ－３００，") == "ai大模型 s-300,"


def test_words_keep_latin_and_numbers_whole_and_drop_stopwords_and_punctuation():
    got = text.words("ＡＩ大模型在2026年发布了S-300导弹，还有GPT-4o和C++！")
    assert {"ai", "模型", "2026", "年", "发布", "s-300", "导弹", "gpt-4o", "c++"} <= set(got)
    assert not {"在", "了", "和", "，", "！", " "} & set(got)


def test_search_words_add_the_words_inside_long_words():
    assert text.words("中华人民共和国") == ["中华人民共和国"]
    assert {"中华", "人民", "共和国", "中华人民共和国"} <= set(text.search_words("中华人民共和国"))


def test_bigrams_overlap_within_han_runs_and_keep_lone_characters():
    assert text.bigrams("大模型AI车，好") == ["大模", "模型", "车", "好"]
    assert text.bigrams("abc 123") == []


def test_keywords_rank_topic_words_above_common_ones():
    body = "量子计算机的研究进展。量子计算机利用量子比特进行计算，科学家说量子计算很有前景。" * 3
    top = [term for term, _ in text.keywords(body, k=3)]
    assert "量子" in top or "量子计算机" in top
    assert all(len(term) >= 2 for term, _ in text.keywords(body))
    assert text.keywords("的了吗", k=5) == []


@pytest.mark.django_db
def test_keywords_use_corpus_document_frequencies_when_there_are_some():
    from masthead.discovery.models import TermStat

    factories.article(title="统计一")
    factories.article(title="统计二")
    TermStat.objects.create(term="咖啡", df=2)
    TermStat.objects.create(term="量子", df=0)
    text.invalidate_idf()
    try:
        weights = dict(text.keywords("咖啡 量子", k=5))
        assert weights["量子"] > weights["咖啡"]
    finally:
        text.invalidate_idf()


@pytest.mark.django_db
def test_account_channel_and_tag_names_become_single_words():
    assert "秦岭云栈" not in text.words("今天秦岭云栈发布了新文章")
    factories.account(name="秦岭云栈")
    assert "秦岭云栈" in text.words("今天秦岭云栈发布了新文章")
    text.refresh_user_dictionary()  # from the database as well (startup path)
    assert "秦岭云栈" in text.words("秦岭云栈")


def test_stopword_list_is_compact_and_loaded():
    words = text.stopwords()
    assert {"的", "了", "是"} <= words
    assert len(words) < 500
