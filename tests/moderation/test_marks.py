"""谣言/争议 marks: editors mark an article, readers see the notice and the debunking article first."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from masthead.accounts.models import Notification
from masthead.accounts.roles import EDITORS_GROUP
from masthead.articles import actions
from masthead.articles.models import Article
from masthead.articles.signals import article_changed
from masthead.moderation import marks
from masthead.moderation.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db

RUMOUR = "此文已被标记为谣言"
DISPUTED = "此文内容存在争议"


def editor(name: str = "editor"):
    person = get_user_model().objects.create_user(name, password="a-long-pass-phrase")
    person.groups.add(Group.objects.get_or_create(name=EDITORS_GROUP)[0])
    return person


def authored(**fields) -> Article:
    owner = get_user_model().objects.create_user(f"author{Article.objects.count()}", password="a-long-pass-phrase")
    return factories.article(account_=factories.account(owner=owner), **fields)


def logged_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def page(article: Article, client: Client | None = None) -> str:
    response = (client or Client()).get(article.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_a_rumour_shows_the_notice_and_the_debunking_article_at_the_top():
    rumour, truth = authored(title="某地出现怪兽"), authored(title="辟谣：某地并无怪兽")
    marks.set_mark(
        rumour, by=editor(), mark="rumour", note="经核实，视频系合成。", debunked_by=truth, reason="多方核实"
    )
    html = page(rumour)
    assert RUMOUR in html and "经核实，视频系合成。" in html
    assert f'href="{truth.get_absolute_url()}">辟谣：某地并无怪兽</a>' in html
    # At the top: the notice comes before the title.
    assert html.index(RUMOUR) < html.index('id="article-title"')
    assert DISPUTED not in page(truth) and RUMOUR not in page(truth)


def test_a_disputed_article_says_so():
    article = authored()
    marks.set_mark(article, by=editor(), mark="disputed", note="双方说法不一。", reason="读者举报较多")
    html = page(article)
    assert DISPUTED in html and "双方说法不一。" in html and RUMOUR not in html


def test_the_notice_costs_no_extra_query():
    plain, rumour, truth = authored(), authored(), authored()
    marks.set_mark(rumour, by=editor(), mark="rumour", debunked_by=truth, reason="核实")

    client = logged_in(get_user_model().objects.create_user("reader"))  # signed in: never page-cached
    page(plain, client), page(rumour, client)  # warm the shared caches (channels, hot list)

    def count(article) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert RUMOUR in page(article, client) or article == plain
        return len(queries)

    assert count(rumour) == count(plain)


def test_readers_cached_page_changes_when_the_article_is_marked(django_capture_on_commit_callbacks):
    article = authored()
    assert RUMOUR not in page(article)  # now in the page cache
    with django_capture_on_commit_callbacks(execute=True):
        marks.set_mark(article, by=editor(), mark="rumour", reason="核实")
    assert RUMOUR in page(article)
    with django_capture_on_commit_callbacks(execute=True):
        marks.set_mark(article, by=editor("another"), mark="", reason="误判，撤销")
    assert RUMOUR not in page(article)


def test_marking_is_audited_notifies_the_author_and_tells_discovery(django_capture_on_commit_callbacks):
    article, truth, boss = authored(), authored(), editor()
    changed = []

    def listener(sender, article, **kwargs):
        changed.append(article.pk)

    article_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            marks.set_mark(
                article, by=boss, mark="rumour", note="不实", debunked_by=truth, reach_limited=True, reason="核实"
            )
    finally:
        article_changed.disconnect(listener)
    assert changed == [article.pk]
    entry = AuditEntry.objects.get(action="article.mark")
    assert (entry.actor, entry.target_id, entry.reason) == (boss, str(article.pk), "核实")
    assert entry.before == {"mark": "", "mark_note": "", "debunked_by": None, "reach_limited": False}
    assert entry.after == {"mark": "rumour", "mark_note": "不实", "debunked_by": truth.pk, "reach_limited": True}
    note = Notification.objects.get(user=article.account.owner)
    assert "谣言" in note.text and note.link == article.get_absolute_url()
    article.refresh_from_db()
    assert article.reach_limited and article.debunked_by == truth


def test_setting_the_same_mark_twice_records_it_once():
    article, boss = authored(), editor()
    marks.set_mark(article, by=boss, mark="disputed", reason="一")
    marks.set_mark(article, by=boss, mark="disputed", reason="二")
    assert AuditEntry.objects.filter(action="article.mark").count() == 1


def test_clearing_the_mark_clears_its_note_and_link_but_can_keep_limited_reach():
    article, truth, boss = authored(), authored(), editor()
    marks.set_mark(article, by=boss, mark="rumour", note="不实", debunked_by=truth, reach_limited=True, reason="核实")
    marks.set_mark(article, by=boss, mark="", note="ignored", debunked_by=truth, reach_limited=True, reason="撤销")
    article.refresh_from_db()
    assert (article.mark, article.mark_note, article.debunked_by, article.reach_limited) == ("", "", None, True)


def test_only_editors_may_mark():
    article = authored()
    with pytest.raises(PermissionDenied):
        marks.set_mark(article, by=article.account.owner, mark="rumour", reason="我自己")
    article.refresh_from_db()
    assert article.mark == ""


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda a: {"reason": ""}, "reason"),
        (lambda a: {"debunked_by": a}, "debunked_by"),
        (lambda a: {"debunked_by": factories.article(publish=False)}, "debunked_by"),
        (lambda a: {"mark": "fake"}, "mark"),
        (lambda a: {"note": "长" * 301}, "note"),
    ],
)
def test_bad_marks_are_refused_with_a_reason(make, field):
    article = authored()
    kwargs = {"mark": "rumour", "reason": "核实", **make(article)}
    with pytest.raises(ValidationError) as exc:
        marks.set_mark(article, by=editor(), **kwargs)
    assert field in exc.value.message_dict


def test_a_debunking_article_cannot_itself_be_marked():
    first, second, boss = authored(), authored(), editor()
    marks.set_mark(second, by=boss, mark="disputed", reason="争议")
    with pytest.raises(ValidationError):
        marks.set_mark(first, by=boss, mark="rumour", debunked_by=second, reason="核实")


def test_unpublished_articles_cannot_be_marked():
    article = factories.article(publish=False)
    with pytest.raises(ValidationError):
        marks.set_mark(article, by=editor(), mark="rumour", reason="核实")


def test_a_removed_debunking_article_is_not_linked():
    rumour, truth, boss = authored(), authored(title="辟谣文章标题"), editor()
    marks.set_mark(rumour, by=boss, mark="rumour", debunked_by=truth, reason="核实")
    actions.remove(truth, reason="另有更正")
    html = page(rumour)
    assert RUMOUR in html and "辟谣文章标题" not in html


# --- the editors' pages ----------------------------------------------------------------------------------


def test_only_editors_see_the_pages():
    article = authored()
    assert Client().get("/review/marks/").status_code == 302  # to the login page
    reader = logged_in(get_user_model().objects.create_user("reader"))
    assert reader.get("/review/marks/").status_code == 403
    assert reader.post(f"/review/marks/{article.pk}/", {"mark": "rumour", "reason": "x"}).status_code == 403
    article.refresh_from_db()
    assert article.mark == ""


@pytest.mark.parametrize("given", ["{pk}", "/a/{pk}/", "https://news.example.org/a/{pk}/?from=share", "/a/{pk}"])
def test_an_article_is_found_by_number_or_address(given):
    article = authored()
    response = logged_in(editor()).get("/review/marks/", {"article": given.format(pk=article.pk)})
    assert response.status_code == 302 and response["Location"] == f"/review/marks/{article.pk}/"


def test_an_unknown_article_is_explained():
    response = logged_in(editor()).get("/review/marks/", {"article": "/c/tech/"})
    assert response.status_code == 400
    assert "找不到这篇文章" in response.content.decode()


def test_marking_through_the_form_and_listing_marked_articles():
    rumour, truth = authored(title="流言一则"), authored(title="真相在此")
    client = logged_in(editor())
    form = client.get(f"/review/marks/{rumour.pk}/")
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    response = client.post(
        f"/review/marks/{rumour.pk}/",
        {
            "mark": "rumour",
            "note": "不实",
            "debunked_by": truth.get_absolute_url(),
            "reach_limited": "on",
            "reason": "核实",
        },
    )
    assert response.status_code == 302
    rumour.refresh_from_db()
    assert (rumour.mark, rumour.debunked_by_id, rumour.reach_limited) == ("rumour", truth.pk, True)
    listing = client.get("/review/marks/").content.decode()
    assert "流言一则" in listing and "真相在此" in listing
    history = client.get(f"/review/marks/{rumour.pk}/").content.decode()
    assert "article.mark" in history and "核实" in history


def test_form_errors_are_shown_next_to_the_fields():
    article = authored()
    response = logged_in(editor()).post(f"/review/marks/{article.pk}/", {"mark": "rumour", "debunked_by": "999999"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "找不到这篇文章" in html and "这个字段是必填项" in html
    article.refresh_from_db()
    assert article.mark == ""


def test_the_list_query_count_does_not_grow(django_assert_max_num_queries):
    boss = editor()
    client = logged_in(boss)
    for _ in range(3):
        marks.set_mark(authored(), by=boss, mark="rumour", debunked_by=authored(), reason="核实")
    with CaptureQueriesContext(connection) as few:
        client.get("/review/marks/")
    for _ in range(5):
        marks.set_mark(authored(), by=boss, mark="disputed", debunked_by=authored(), reason="核实")
    with django_assert_max_num_queries(len(few)):
        client.get("/review/marks/")
