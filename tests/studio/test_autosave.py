"""The editor's JSON endpoints: autosave (versions, conflicts, retries) and image upload."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from masthead.articles.models import Article, Image
from tests import factories
from tests.studio.helpers import creator, draft

pytestmark = pytest.mark.django_db


def _autosave(client, article, **payload):
    url = reverse("studio:autosave", args=[article.pk])
    return client.post(url, json.dumps(payload), content_type="application/json")


def test_autosave_saves_and_returns_the_new_version(client, django_assert_max_num_queries):
    user, account = creator()
    article = draft(account)
    client.force_login(user)
    with django_assert_max_num_queries(16):
        response = _autosave(client, article, version=1, title="自动保存的标题", body="<p>打字中<em>斜体</em></p>")
    assert response.status_code == 200
    data = response.json()
    assert data["version"] == 2 and data["saved_at"]
    article.refresh_from_db()
    assert article.title == "自动保存的标题" and article.body_html == "<p>打字中<em>斜体</em></p>"
    assert article.revisions.get().kind == "autosave"


def test_autosave_conflict_answers_409_and_keep_mine_overrides(client):
    user, account = creator()
    article = draft(account)
    client.force_login(user)
    assert _autosave(client, article, version=1, body="<p>另一台设备</p>").status_code == 200
    response = _autosave(client, article, version=1, body="<p>这台设备</p>")
    assert response.status_code == 409
    assert response.json()["conflict"] is True and response.json()["version"] == 2
    assert "其他窗口或设备" in response.json()["error"]
    assert Article.objects.get(pk=article.pk).body_html == "<p>另一台设备</p>"
    response = _autosave(client, article, version=1, body="<p>这台设备</p>", force=True)
    assert response.status_code == 200 and response.json()["version"] == 3
    assert Article.objects.get(pk=article.pk).body_html == "<p>这台设备</p>"


def test_a_retried_autosave_is_not_a_conflict(client):
    """The answer to a save can be lost on a bad network; the editor then sends the same save again."""
    user, account = creator()
    article = draft(account)
    client.force_login(user)
    first = _autosave(client, article, version=1, title="标题", body="<p>内容</p>")
    again = _autosave(client, article, version=1, title="标题", body="<p>内容</p>")
    assert again.status_code == 200 and again.json()["version"] == first.json()["version"] == 2
    assert article.revisions.count() == 1


def test_autosave_keeps_the_old_title_while_the_field_is_empty(client):
    user, account = creator()
    article = draft(account, title="原来的标题")
    client.force_login(user)
    assert _autosave(client, article, version=1, title="  ", body="<p>正文</p>").status_code == 200
    assert Article.objects.get(pk=article.pk).title == "原来的标题"


def test_autosave_rejects_bad_input(client):
    user, account = creator()
    article = draft(account)
    other_image = factories.image(account=factories.account())
    client.force_login(user)
    url = reverse("studio:autosave", args=[article.pk])
    assert client.post(url, "not json", content_type="application/json").status_code == 400
    assert client.post(url, "[1, 2]", content_type="application/json").status_code == 400
    assert _autosave(client, article, body="<p>没有版本</p>").status_code == 400
    response = _autosave(client, article, version=1, cover=other_image.pk)
    assert response.status_code == 400 and "cover" in response.json()["errors"]
    assert _autosave(client, article, version=1, cover="1 OR 1=1").status_code == 400
    assert _autosave(client, article, version=1, channel=999999).status_code == 400
    assert client.get(url).status_code == 405


def test_autosave_needs_the_csrf_token():
    user, account = creator()
    article = draft(account)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert _autosave(client, article, version=1, body="<p>伪造请求</p>").status_code == 403
    client.get(reverse("studio:edit", args=[article.pk]))
    token = client.cookies["csrftoken"].value
    url = reverse("studio:autosave", args=[article.pk])
    payload = json.dumps({"version": 1, "body": "<p>真的请求</p>"})
    response = client.post(url, payload, content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 200


# Images -----------------------------------------------------------------------------------------


def _upload(client, article, data=None, accept="application/json", **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    payload = {"alt": "一张照片", **fields}
    if data is not False:
        payload["file"] = SimpleUploadedFile("photo.jpg", data or factories.image_bytes(), "image/jpeg")
    url = reverse("studio:upload-image", args=[article.pk])
    return client.post(url, payload, headers={"Accept": accept})


def test_image_upload_returns_the_figure_to_insert(client):
    user, account = creator()
    article = draft(account)
    client.force_login(user)
    response = _upload(client, article, caption="江边的清晨", label="author", taken_on="2025-02-01", taken_place="武汉")
    assert response.status_code == 201
    image = Image.objects.get(pk=response.json()["id"])
    assert image.account == account and (image.taken_place, str(image.taken_on)) == ("武汉", "2025-02-01")
    assert f'data-image="{image.pk}"' in response.json()["figure"] and "江边的清晨" in response.json()["figure"]
    response = _upload(client, article, label="ai")
    assert Image.objects.get(pk=response.json()["id"]).is_ai_generated


def test_upload_errors_are_explained(client, settings):
    user, account = creator()
    article = draft(account)
    client.force_login(user)
    response = _upload(client, article, alt="")
    assert response.status_code == 400 and "替代文字" in response.json()["errors"]["alt"][0]
    response = _upload(client, article, data=b"%PDF-1.4 not a picture")
    assert response.status_code == 400 and "只支持" in response.json()["errors"]["file"][0]
    settings.MASTHEAD_MAX_UPLOAD_BYTES = 1000
    response = _upload(client, article)
    assert response.status_code == 400 and "图片太大" in response.json()["errors"]["file"][0]
    assert not Image.objects.exists()


def test_upload_without_javascript_shows_the_code_to_paste(client):
    user, account = creator()
    article = draft(account)
    client.force_login(user)
    response = _upload(client, article, accept="text/html")
    assert response.status_code == 302
    image = Image.objects.get()
    html = client.get(response["Location"]).content.decode()
    assert f"&lt;figure&gt;&lt;img data-image=&quot;{image.pk}&quot;&gt;&lt;/figure&gt;" in html
    response = _upload(client, article, accept="text/html", alt="")
    assert "替代文字" in client.get(response["Location"]).content.decode()


def test_cannot_upload_to_someone_elses_article(client):
    _, account = creator()
    article = draft(account)
    intruder, _ = creator()
    client.force_login(intruder)
    assert _upload(client, article).status_code == 404
    assert not Image.objects.exists()
