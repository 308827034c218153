"""Editors' admin goes through the same checks, sanitiser and image intake as everything else."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags
from PIL import Image as PILImage

from masthead.articles import actions
from masthead.articles.models import Article, Image
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "a-long-pass-phrase")
    client.force_login(user)
    return client


def _article_form(item_or_account, **overrides) -> dict:
    account = getattr(item_or_account, "account", item_or_account)
    data = {
        "account": account.pk, "channel": factories.channel().pk, "title": "后台的文章", "summary": "",
        "body_html": "<p>正文</p>", "source": "", "ip_region": "",
    }  # fmt: skip
    return {**data, **overrides}


def test_article_added_in_admin_keeps_the_images_of_its_body(editor):
    writer = factories.account()
    pic = factories.image(account=writer, caption="后台插图")
    response = editor.post(
        "/admin/articles/article/add/", _article_form(writer, body_html=f'<p>正文</p><img data-image="{pic.pk}">')
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    item = Article.objects.get(title="后台的文章")
    assert "后台插图" in item.body_html and list(item.images.all()) == [pic]

    response = editor.post(f"/admin/articles/article/{item.pk}/change/", _article_form(item, title="改过的标题"))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.title == "改过的标题" and list(item.images.all()) == []  # the body no longer shows it


def test_admin_cannot_move_an_article_or_its_workflow_fields(editor):
    item = factories.article()
    other = factories.account()
    data = _article_form(item, account=other.pk, status="draft", published_at="2001-01-01 00:00:00", view_count=9)
    assert editor.post(f"/admin/articles/article/{item.pk}/change/", data).status_code == 302
    fresh = Article.objects.get(pk=item.pk)
    assert (fresh.account_id, fresh.status, fresh.published_at) == (item.account_id, "published", item.published_at)


def test_admin_shows_form_errors_instead_of_failing(editor):
    item = factories.article()
    theirs = factories.image(account=factories.account())
    response = editor.post(f"/admin/articles/article/{item.pk}/change/", _article_form(item, cover=theirs.pk))
    assert response.status_code == 200 and "只能使用自己上传的图片作封面。" in response.content.decode()

    actions.remove(item, reason="违规")
    response = editor.post(f"/admin/articles/article/{item.pk}/change/", _article_form(item, title="新"))
    assert response.status_code == 200 and "已下架的文章不能编辑。" in response.content.decode()
    assert Article.objects.get(pk=item.pk).title != "新"


def _upload(data: bytes, name: str = "photo.jpg") -> dict:
    return {"file": SimpleUploadedFile(name, data, "image/jpeg"), "alt": "后台上传", "caption": "", "credit": ""}


def test_image_uploaded_in_admin_is_cleaned_and_gets_renditions(editor):
    exif = PILImage.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    out = io.BytesIO()
    PILImage.new("RGB", (1000, 500), (10, 120, 200)).save(out, "JPEG", exif=exif)
    response = editor.post("/admin/articles/image/add/", {**_upload(out.getvalue()), "label": "file"})
    assert response.status_code == 302, response.content.decode()[:3000]
    image = Image.objects.get()
    assert (image.width, image.height, image.label) == (1000, 500, "file")
    assert [r["w"] for r in image.renditions] == [320, 640, 960, 1000]
    with default_storage.open(image.file.name) as fh:
        assert b"SecretCam" not in fh.read()


def test_broken_upload_in_admin_is_a_form_error(editor):
    data = factories.image_bytes((600, 400))
    response = editor.post("/admin/articles/image/add/", {**_upload(data[:900]), "label": ""})
    assert response.status_code == 200 and not Image.objects.exists()
    assert "图片文件已损坏或不完整，请重新导出后再上传。" in response.content.decode()


def test_caption_edited_in_admin_updates_the_article_body(editor):
    writer = factories.account()
    pic = factories.image(account=writer, caption="旧说明")
    item = factories.article(account_=writer, body=f'<p>正文</p><img data-image="{pic.pk}">')
    data = {"account": writer.pk, "alt": pic.alt, "caption": "新说明", "credit": "", "label": "file"}
    assert editor.post(f"/admin/articles/image/{pic.pk}/change/", data).status_code == 302
    item.refresh_from_db()
    assert "新说明" in item.body_html and "（资料图）" in item.body_html
