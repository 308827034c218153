import pytest
from django.contrib.auth import get_user_model

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "a-long-pass-phrase")
    client.force_login(user)
    return client


def test_admin_speaks_chinese_and_lists_channels_accounts_articles(editor):
    factories.article(title="后台可见的文章")
    index = editor.get("/admin/").content.decode()
    for label in ("频道", "创作者账号", "文章", "图片"):
        assert label in index
    assert "后台可见的文章" in editor.get("/admin/articles/article/").content.decode()
    channels = editor.get("/admin/channels/channel/").content.decode()
    assert "头条" in channels and "旅游" in channels


def test_admin_saves_article_body_through_the_sanitizer(editor):
    item = factories.article()
    data = {
        "account": item.account_id, "channel": item.channel_id, "title": "后台编辑的标题", "summary": "摘要",
        "body_html": '<p onclick="steal()">正文<script>alert(1)</script></p>', "status": item.status,
        "source": "", "ip_region": "", "removal_reason": "", "tags": [],
    }  # fmt: skip
    response = editor.post(f"/admin/articles/article/{item.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    item.refresh_from_db()
    assert item.title == "后台编辑的标题"
    assert "script" not in item.body_html and "onclick" not in item.body_html and "正文" in item.body_html


def test_admin_adds_a_channel_that_appears_in_the_navigation(editor, client):
    response = editor.post(
        "/admin/channels/channel/add/", {"name": "健康", "slug": "health", "order": 130, "is_active": "on"}
    )
    assert response.status_code == 302
    client.logout()
    assert 'href="/c/health/"' in client.get("/").content.decode()
