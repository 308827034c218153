"""Sensitive-word screening: variants, precedence, offsets, list changes, word boundaries, speed, and the
editors' page (permissions, CSRF, audit)."""

import random
import time

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import include, path

from masthead.moderation import screening
from masthead.moderation.models import AuditEntry, SensitiveTerm
from tests import factories
from tests.accounts.test_join import editor, logged_in, user

# The lead mounts terms_urls at review/terms/ in masthead/urls.py; until then this module is the urlconf.
urlpatterns = [
    path("review/terms/", include("masthead.moderation.terms_urls")),
    path("", include("masthead.urls")),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

URL = "/review/terms/"


@pytest.fixture(autouse=True)
def _fresh_automaton():
    # Each test's rows are rolled back without a version bump: never carry an automaton across tests.
    screening.reset()
    yield
    screening.reset()


def terms(block=(), review=()) -> None:
    boss = editor("terms-editor")
    if block:
        screening.add_terms("\n".join(block), "block", boss)
    if review:
        screening.add_terms("\n".join(review), "review", boss)


def found(text: str) -> list[str]:
    """The matched pieces of the original text, in order."""
    return [text[slice(*m.span)] for m in screening.screen(text).matches]


# --- folding ----------------------------------------------------------------------------------------------


def test_the_fast_path_characters_fold_to_themselves():
    # fold() copies runs of these without looking at them; that is only right if folding leaves them alone.
    ranges = [("a", "z"), ("0", "9"), ("\u3400", "\u4dbf"), ("\u4e00", "\u9fff"), ("\uac00", "\ud7a3")]
    changed = [
        c for lo, hi in ranges for c in map(chr, range(ord(lo), ord(hi) + 1)) if screening._fold_uncached(c) != c
    ]
    assert changed == []


def test_terms_are_stored_folded_and_once():
    terms(block=["ＳＰＡＭ", "赌 · 博"])
    assert set(SensitiveTerm.objects.values_list("term", flat=True)) == {"spam", "赌博"}
    outcome = screening.add_terms("spam\nS-P-A-M\n！！！\n\n新词", "block", editor("second"))
    assert outcome.added == ["新词"] and outcome.unchanged == ["spam"] and outcome.invalid == ["！！！"]
    assert SensitiveTerm.objects.count() == 3


# --- matching variants --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "这里有赌博网站",
        "这里有赌 博网站",  # space
        "这里有赌　博网站",  # ideographic (full-width) space
        "这里有赌，博网站",  # punctuation
        "这里有赌*博网站",
        "这里有赌·博网站",
        "这里有赌_博网站",
        "这里有赌-博网站",
        "这里有赌\u200b博网站",  # zero-width space
        "这里有赌\u200d\ufeff博网站",  # zero-width joiner, BOM
        "这里有赌\n\n博网站",  # separated by newlines
        "这里有赌🎲博网站",  # emoji
        "这里有赌 . 。 ~ 博网站",
    ],
)
def test_a_chinese_term_is_found_through_separators(text):
    terms(block=["赌博"])
    result = screening.screen(text)
    assert result.action == "block"
    assert [m.term for m in result.matches] == ["赌博"]
    assert found(text)[0][0] == "赌" and found(text)[0][-1] == "博"


@pytest.mark.parametrize(
    "text",
    ["buy SPAM now", "buy Spam now", "buy ＳＰＡＭ now", "buy ｓｐａｍ now", "buy s p a m now", "buy S.P.A.M now"],
)
def test_latin_terms_ignore_case_width_and_separators(text):
    terms(review=["spam"])
    result = screening.screen(text)
    assert result.action == "review" and result.terms() == ["spam"]


def test_full_width_digits_and_circled_numbers_fold_to_digits():
    terms(block=["加微信123"])
    assert screening.screen("加微信１２３").blocked
    assert screening.screen("加 微 信 ①②③").blocked
    assert not screening.screen("加微信124").blocked


def test_a_clean_text_and_an_empty_list_are_allowed():
    assert screening.screen("赌博").action == "allow"  # the list is empty
    assert screening.screen("").action == "allow" and screening.screen(None).matches == []
    terms(block=["赌博"])
    assert screening.screen("今天天气很好，适合散步。") == screening.ScreeningResult()


# --- actions and precedence ---------------------------------------------------------------------------


def test_block_wins_over_review_and_every_match_is_reported():
    terms(block=["赌博"], review=["博彩", "彩票"])
    result = screening.screen("他说赌博彩票都不好")
    assert result.action == "block"
    assert [(m.term, m.action) for m in result.matches] == [("赌博", "block"), ("博彩", "review"), ("彩票", "review")]
    assert screening.screen("买彩票").action == "review"
    assert screening.screen("买彩票，也赌博").terms("block") == ["赌博"]


def test_check_names_the_blocked_terms_and_reports_review():
    terms(block=["赌博", "代开发票"], review=["彩票"])
    with pytest.raises(ValidationError) as exc:
        screening.check("代开发票，赌 博，代开发票", "标题")
    assert exc.value.messages == ["标题含有不允许的词语“代开发票”、“赌博”，请修改后再提交。"]
    assert exc.value.code == "sensitive"
    with pytest.raises(ValidationError) as exc:
        screening.check("赌博", "标题", field="title")
    assert exc.value.message_dict == {"title": ["标题含有不允许的词语“赌博”，请修改后再提交。"]}
    assert screening.check("买彩票", "跟帖") is True
    assert screening.check("普通的一句话", "跟帖") is False


# --- offsets --------------------------------------------------------------------------------------------


def test_spans_point_into_the_original_text():
    terms(block=["赌博"], review=["spam", "ss"])
    text = "Straße ①：赌 · 博！\n还有ＳＰＡＭ，以及 s\u200bp a m。"
    assert found(text) == ["赌 · 博", "ＳＰＡＭ", "s\u200bp a m"]  # "ss" from ß would be inside a word: no match
    spans = [m.span for m in screening.screen(text).matches]
    assert spans == sorted(spans)


def test_highlight_marks_matches_and_escapes_the_rest():
    terms(block=["赌博"], review=["博彩"])
    text = "<b>赌博彩</b>"
    html = screening.highlight(text, screening.screen(text))
    assert html == "&lt;b&gt;<mark>赌博彩</mark>&lt;/b&gt;"  # overlapping matches become one mark


# --- Latin word boundaries ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("you ass!", True),
        ("ASS", True),
        ("a.s.s", True),
        ("ass你好", True),  # Chinese needs no spaces around a Latin word
        ("你好ass", True),
        ("a first class seat", False),
        ("an assistant", False),
        ("bass", False),
        ("has shown", False),  # "hasshown" once the space is gone
        ("as said", False),
        ("ｃｌａｓｓ", False),  # full-width letters are still letters
    ],
)
def test_latin_terms_match_whole_words_only(text, hit):
    terms(block=["ass"])
    assert screening.screen(text).blocked is hit


def test_word_boundaries_apply_only_at_latin_ends():
    terms(block=["a片"])
    assert screening.screen("看a片").blocked  # a Chinese character before "a" is a boundary
    assert not screening.screen("看data片").blocked  # "a" inside a word
    assert screening.screen("看A 片吧").blocked  # the Chinese end needs no boundary


# --- list changes ---------------------------------------------------------------------------------------


def test_changes_to_the_list_take_effect_at_once_in_this_process():
    boss = editor()
    assert not screening.screen("赌博").blocked
    screening.add_terms("赌博", "review", boss)
    assert screening.screen("赌博").held
    screening.add_terms("赌博", "block", boss)  # re-adding changes the action
    assert screening.screen("赌博").blocked
    term = SensitiveTerm.objects.get(term="赌博")
    screening.set_active(term, False, boss)
    assert screening.screen("赌博").action == "allow"
    screening.set_active(term, True, boss)
    assert screening.screen("赌博").blocked
    screening.delete_term(term, boss)
    assert screening.screen("赌博").action == "allow"


def test_other_servers_rebuild_when_the_version_in_the_cache_changes():
    screening.screen("warm up")  # builds an empty automaton tagged with the current version
    # A row written without a bump (as if on another server, before its bump arrived) is not seen…
    SensitiveTerm.objects.create(term="赌博", action="block")
    assert not screening.screen("赌博").blocked
    time.sleep(screening.CHECK_SECONDS + 0.05)
    assert not screening.screen("赌博").blocked  # …nor after the check interval while the version is unchanged
    cache.set(screening.VERSION_KEY, "changed-by-another-server", None)
    assert not screening.screen("赌博").blocked  # checked at most once a second
    time.sleep(screening.CHECK_SECONDS + 0.05)
    assert screening.screen("赌博").blocked


def test_a_lost_cache_key_means_a_rebuild():
    screening.screen("warm up")
    SensitiveTerm.objects.create(term="赌博", action="block")
    cache.clear()
    time.sleep(screening.CHECK_SECONDS + 0.05)
    assert screening.screen("赌博").blocked


def test_only_editors_change_the_list():
    reader = user("reader")
    with pytest.raises(PermissionDenied):
        screening.add_terms("赌博", "block", reader)
    assert not SensitiveTerm.objects.exists() and not AuditEntry.objects.exists()


# --- speed ----------------------------------------------------------------------------------------------


def _megabyte_of_chinese() -> str:
    rng = random.Random(6)
    hanzi = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    pieces = []
    size = 0
    while size < 1_000_000:
        sentence = "".join(rng.choices(hanzi, k=rng.randint(5, 25))) + rng.choice("，。！？、 ")
        pieces.append(sentence)
        size += len(sentence.encode())
    return "".join(pieces)


def test_a_megabyte_of_text_is_screened_quickly():
    rng = random.Random(7)
    hanzi = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    vocabulary = {"".join(rng.choices(hanzi, k=4)) for _ in range(5000)} - {"赌博"}
    SensitiveTerm.objects.bulk_create(SensitiveTerm(term=t, action="review") for t in vocabulary)
    terms(block=["赌博"])  # and the bump
    text = _megabyte_of_chinese() + "最后：赌 博"
    screening.screen("warm up")  # build outside the timing
    started = time.perf_counter()
    result = screening.screen(text)
    elapsed = time.perf_counter() - started
    assert result.blocked and text[slice(*result.matches[-1].span)] == "赌 博"
    assert elapsed < 1.5, f"{elapsed:.2f}s for 1 MB"


def test_a_megabyte_of_separators_is_screened_quickly():
    # The worst case for folding: every character takes the slow path.
    terms(block=["赌博"])
    text = "赌" + "* ·_-，。\u200b" * 125_000 + "博"
    started = time.perf_counter()
    result = screening.screen(text)
    assert result.blocked and result.matches[0].span == (0, len(text))
    assert time.perf_counter() - started < 1.5


# --- the editors' page ----------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in_and_change_nothing():
    terms(block=["赌博"])
    term = SensitiveTerm.objects.get()
    for url, data in [(URL, None), (f"{URL}add/", {"lines": "x", "action": "block"}), (f"{URL}{term.pk}/delete/", {})]:
        response = Client().post(url, data) if data is not None else Client().get(url)
        assert response.status_code == 302 and response.url.startswith("/login/?next="), url
    assert SensitiveTerm.objects.count() == 1


def test_readers_and_creators_cannot_see_or_change_the_list():
    terms(block=["赌博"])
    term = SensitiveTerm.objects.get()
    owner = user("owner")
    factories.account(owner=owner)
    audits = AuditEntry.objects.count()
    for person in (user("plain-reader"), owner):
        client = logged_in(person)
        assert client.get(URL).status_code == 403
        assert client.post(f"{URL}add/", {"lines": "新词", "action": "block"}).status_code == 403
        assert client.post(f"{URL}{term.pk}/deactivate/").status_code == 403
        assert client.post(f"{URL}{term.pk}/delete/").status_code == 403
        assert client.post(f"{URL}try/", {"text": "赌博"}).status_code == 403
    term.refresh_from_db()
    assert term.is_active and SensitiveTerm.objects.count() == 1 and AuditEntry.objects.count() == audits


def test_changes_need_post_and_a_csrf_token():
    boss = editor()
    terms(block=["赌博"])
    term = SensitiveTerm.objects.get()
    client = logged_in(boss)
    assert client.get(f"{URL}{term.pk}/delete/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(boss)
    assert strict.post(f"{URL}add/", {"lines": "新词", "action": "block"}).status_code == 403
    assert strict.post(f"{URL}{term.pk}/delete/").status_code == 403
    assert SensitiveTerm.objects.count() == 1


def test_an_editor_adds_terms_in_bulk_and_each_is_audited():
    boss = editor()
    client = logged_in(boss)
    response = client.post(
        f"{URL}add/",
        {"lines": "赌博\n代开 发票\n\n？？\nＳＰＡＭ\n赌·博", "action": "block", "note": "春节专项"},
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "新增 3 个，更新 0 个，0 个已在列表中。" in page
    assert "以下各行没有添加" in page and "？？" in page
    assert set(SensitiveTerm.objects.values_list("term", "action", "note", "created_by")) == {
        ("赌博", "block", "春节专项", boss.pk),
        ("代开发票", "block", "春节专项", boss.pk),
        ("spam", "block", "春节专项", boss.pk),
    }
    entries = AuditEntry.objects.filter(action="term.add")
    assert sorted(e.target_repr for e in entries) == ["spam", "代开发票", "赌博"]
    assert {e.actor_id for e in entries} == {boss.pk}
    assert entries.get(target_repr="赌博").after == {
        "term": "赌博",
        "action": "block",
        "note": "春节专项",
        "is_active": True,
    }
    assert screening.screen("代 开 发 票").blocked


def test_an_invalid_add_shows_the_form_again():
    response = logged_in(editor()).post(f"{URL}add/", {"lines": "", "action": "nuke"})
    assert response.status_code == 400
    assert not SensitiveTerm.objects.exists()


def test_an_editor_deactivates_reactivates_and_deletes_with_audit():
    boss = editor()
    terms(review=["彩票"])
    term = SensitiveTerm.objects.get()
    client = logged_in(boss)
    response = client.post(f"{URL}{term.pk}/deactivate/", {"next": f"{URL}?q=彩"})
    assert response.status_code == 302 and response.url == f"{URL}?q=%E5%BD%A9"
    term.refresh_from_db()
    assert not term.is_active and screening.screen("彩票").action == "allow"
    entry = AuditEntry.objects.get(action="term.deactivate")
    assert entry.actor == boss and entry.before["is_active"] is True and entry.after["is_active"] is False

    client.post(f"{URL}{term.pk}/activate/")
    assert screening.screen("彩票").held
    response = client.post(f"{URL}{term.pk}/delete/", {"next": "https://evil.example/"})
    assert response.url == URL  # no open redirect
    assert not SensitiveTerm.objects.exists() and screening.screen("彩票").action == "allow"
    deleted = AuditEntry.objects.get(action="term.delete")
    assert deleted.target_id == str(term.pk) and deleted.before["term"] == "彩票"
    assert AuditEntry.objects.filter(action="term.activate").count() == 1


def test_the_list_searches_and_filters(django_assert_max_num_queries):
    terms(block=["赌博", "代开发票"], review=["彩票"])
    SensitiveTerm.objects.filter(term="代开发票").update(is_active=False)
    client = logged_in(editor("searcher"))

    def rows(query: str) -> set[str]:
        page = client.get(f"{URL}{query}").content.decode()
        return {t for t in ("赌博", "代开发票", "彩票") if f"<td>{t}</td>" in page}

    assert rows("") == {"赌博", "代开发票", "彩票"}
    assert rows("?q=赌 博") == {"赌博"}  # the query is folded like the terms
    assert rows("?action=review") == {"彩票"}
    assert rows("?status=inactive") == {"代开发票"}
    with django_assert_max_num_queries(8):
        assert client.get(URL).status_code == 200


def test_the_try_box_shows_the_result_with_matches_marked():
    terms(block=["赌博"])
    response = logged_in(editor()).post(f"{URL}try/", {"text": "<i>赌 博</i>"})
    page = response.content.decode()
    assert response.status_code == 200 and "结果：拦截" in page
    assert "&lt;i&gt;<mark>赌 博</mark>&lt;/i&gt;" in page
    assert not AuditEntry.objects.filter(action__startswith="term.").exclude(action="term.add").exists()


def test_staff_manage_terms_in_the_admin_with_audit():
    staff = user("staff", is_staff=True)
    client = logged_in(staff)
    response = client.post(
        "/admin/moderation/sensitiveterm/add/", {"term": "Ｂｅｔ 365", "action": "block", "is_active": "on"}
    )
    assert response.status_code == 302
    term = SensitiveTerm.objects.get()
    assert term.term == "bet365" and term.created_by == staff
    assert AuditEntry.objects.get(action="term.add").actor == staff
    assert screening.screen("来 bet-365 玩").blocked
    duplicate = client.post(
        "/admin/moderation/sensitiveterm/add/", {"term": "BET365", "action": "review", "is_active": "on"}
    )
    assert duplicate.status_code == 200 and SensitiveTerm.objects.count() == 1
    changelist = "/admin/moderation/sensitiveterm/"
    client.post(changelist, {"action": "deactivate", "_selected_action": [term.pk]})
    assert not screening.screen("bet365").blocked
    assert AuditEntry.objects.get(action="term.deactivate").actor == staff
    client.post(changelist, {"action": "activate", "_selected_action": [term.pk]})
    assert screening.screen("bet365").blocked
    client.post(f"/admin/moderation/sensitiveterm/{term.pk}/delete/", {"post": "yes"})
    assert not SensitiveTerm.objects.exists() and AuditEntry.objects.filter(action="term.delete").count() == 1
    assert not screening.screen("bet365").blocked
