"""Media in S3-compatible object storage, against a real S3 server (moto's standalone server, a subprocess).

Uploads go through the real paths (the studio's upload view, the join form, the editor's approval), and
what readers get is checked over HTTP from the bucket's own address: the objects exist, pages link to
them, the bytes fetched are the pictures. Private files stay private; a stopped server gives a clear
upload error and pages keep rendering.
"""

import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from email.message import Message
from html import unescape
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image as PILImage

from masthead.accounts.models import Account, Application
from masthead.articles import actions
from masthead.articles.models import Image
from masthead.ops.backup import create_backup
from tests import factories
from tests.studio.helpers import creator
from tests.studio.helpers import reader as studio_reader

boto3 = pytest.importorskip("boto3", reason="boto3 (django-storages[s3]) is not installed")
pytestmark = [pytest.mark.django_db]

KEYS = {"aws_access_key_id": "masthead-test", "aws_secret_access_key": "masthead-test-secret"}
REGION = "us-east-1"
STORAGE_DOWN = "文件存储暂时不可用，上传没有成功，请稍后再试。"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """moto's S3-compatible server in a subprocess on a free loopback port."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        script = shutil.which("moto_server", path=os.path.dirname(sys.executable))
        command = [script] if script else [sys.executable, "-m", "moto.server"]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([*command, "-H", "127.0.0.1", "-p", str(self.port)], stdout=out, stderr=out)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=2).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.skip(f"moto_server did not start: {self.log.read_text()[-500:]}")
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def client(self):
        return boto3.client("s3", endpoint_url=self.url, region_name=REGION, **KEYS)


def _moto(folder: Path):
    pytest.importorskip("moto.server", reason="moto[server] (a test dependency) is not installed")
    server = MotoServer(folder / "moto.log")
    server.start()
    return server


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    server = _moto(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


def _public_read(bucket: str) -> str:
    """The bucket policy docs/operations.md gives for the media bucket: anyone may read objects."""
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _configure(settings, monkeypatch, server: MotoServer, **extra: str) -> dict[str, str]:
    """Fresh buckets and STORAGES built from MASTHEAD_S3_* exactly as settings.py builds them."""
    from masthead.ops.storage import s3_storages

    suffix = uuid.uuid4().hex[:10]
    public, private = f"mh-media-{suffix}", f"mh-private-{suffix}"
    client = server.client()
    client.create_bucket(Bucket=public)
    client.put_bucket_policy(Bucket=public, Policy=_public_read(public))
    client.create_bucket(Bucket=private)  # no policy: private
    env = {
        "MASTHEAD_S3_BUCKET": public,
        "MASTHEAD_S3_PRIVATE_BUCKET": private,
        "MASTHEAD_S3_ENDPOINT_URL": server.url,
        "MASTHEAD_S3_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
        "MASTHEAD_S3_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
        "MASTHEAD_S3_REGION": REGION,
        "MASTHEAD_S3_ADDRESSING_STYLE": "path",
        **extra,
    }
    settings.STORAGES = {**settings.STORAGES, **s3_storages(env)}
    # The field took its storage when the model was defined (as test_join does for its own folder).
    monkeypatch.setattr(Application._meta.get_field("qualification"), "storage", storages["private"])
    return env


@pytest.fixture
def s3(s3_server, settings, monkeypatch):
    env = _configure(settings, monkeypatch, s3_server)
    return s3_server, env["MASTHEAD_S3_BUCKET"], env["MASTHEAD_S3_PRIVATE_BUCKET"]


def _keys(server: MotoServer, bucket: str) -> set[str]:
    listing = server.client().list_objects_v2(Bucket=bucket)
    return {item["Key"] for item in listing.get("Contents", [])}


def _object(server: MotoServer, bucket: str, key: str) -> bytes:
    return server.client().get_object(Bucket=bucket, Key=key)["Body"].read()


def _fetch(url: str) -> tuple[int, bytes, Message]:
    """GET as an anonymous browser would (no credentials); the headers are case-insensitive."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, b"", error.headers


def _upload(client: Client, article, data: bytes, name: str = "photo.jpg"):
    url = reverse("studio:upload-image", args=[article.pk])
    payload = {"alt": "江边的清晨", "file": SimpleUploadedFile(name, data, "image/jpeg")}
    return client.post(url, payload, headers={"Accept": "application/json"})


def _img_tags(html: str) -> list[dict[str, str]]:
    tags = []
    for tag in re.findall(r"<img\b[^>]*>", html):
        tags.append({k: unescape(v) for k, v in re.findall(r'(\w[\w-]*)="([^"]*)"', tag)})
    return tags


def _srcset_urls(srcset: str) -> list[str]:
    return [part.strip().rsplit(" ", 1)[0] for part in srcset.split(",") if part.strip()]


def test_settings_put_media_in_the_bucket_only_when_configured(tmp_path):
    probe = (
        "import json, django; from django.conf import settings; django.setup();"
        "from django.core.files.storage import storages;"
        "print(json.dumps({'default': settings.STORAGES['default']['BACKEND'],"
        " 'private': settings.STORAGES['private']['BACKEND'], 'serve': settings.MASTHEAD_SERVE_MEDIA,"
        " 'media_url': settings.MEDIA_URL, 'url': storages['default'].url('images/a.jpg'),"
        " 'private_at': str(getattr(storages['private'], 'location', ''))}))"
    )

    def read(**env: str) -> dict:
        base = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_S3_")}
        base.update(DJANGO_SETTINGS_MODULE="masthead.settings", MASTHEAD_DATA_DIR=str(tmp_path), **env)
        out = subprocess.run([sys.executable, "-c", probe], env=base, capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    local = read()
    assert local["default"].endswith("FileSystemStorage") and local["serve"] is True
    assert local["private"].endswith("FileSystemStorage") and local["private_at"] == str(tmp_path / "private")
    assert local["url"] == "/media/images/a.jpg"

    public = read(
        MASTHEAD_S3_BUCKET="news-media", MASTHEAD_S3_PUBLIC_URL="https://img.example.com/", MASTHEAD_S3_PREFIX="m"
    )
    assert public["default"] == "masthead.ops.storage.MediaStorage" and public["serve"] is False
    assert public["url"] == "https://img.example.com/m/images/a.jpg"  # plain: no signature, no expiry
    assert public["media_url"] == "https://img.example.com/"
    assert public["private"].endswith("FileSystemStorage")  # documents stay in the data directory …
    both = read(MASTHEAD_S3_BUCKET="news-media", MASTHEAD_S3_PRIVATE_BUCKET="news-private")
    assert both["private"] == "masthead.ops.storage.PrivateStorage"  # … unless a private bucket is named
    refused = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "masthead.settings", "MASTHEAD_DATA_DIR": str(tmp_path),
             "MASTHEAD_S3_BUCKET": "same", "MASTHEAD_S3_PRIVATE_BUCKET": "same"},
        capture_output=True, text=True,
    )  # fmt: skip
    assert refused.returncode != 0 and "must not be the public" in refused.stderr


def test_an_uploaded_image_and_its_renditions_are_served_from_the_bucket(s3, client, settings):
    server, bucket, _private = s3
    user, account = creator()
    client.force_login(user)
    draft = factories.article(publish=False, account_=account)
    original = factories.image_bytes(size=(1500, 900), color=(30, 120, 200))
    response = _upload(client, draft, original)
    assert response.status_code == 201, response.content
    image = Image.objects.get(pk=response.json()["id"])

    # The original and every srcset width are objects in the bucket; nothing was written locally.
    keys = _keys(server, bucket)
    assert image.file.name in keys
    assert [r["w"] for r in image.renditions] == [320, 640, 960, 1280]
    assert {r["name"] for r in image.renditions} <= keys
    media_root = Path(settings.MEDIA_ROOT)
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))

    article = factories.article(
        account_=account, body=f'<p>江边。</p><figure><img data-image="{image.pk}"></figure>', cover=image
    )
    html = Client().get(article.get_absolute_url()).content.decode()
    pictures = [tag for tag in _img_tags(html) if tag.get("srcset")]
    assert pictures, "the article page shows the picture"
    bucket_url = f"{server.url}/{bucket}/"
    for tag in pictures:
        urls = [tag["src"], *_srcset_urls(tag["srcset"])]
        assert all(url.startswith(bucket_url) for url in urls), urls
        assert "Signature" not in tag["src"] and "X-Amz" not in tag["srcset"]  # plain, cacheable URLs
    by_width = {r["w"]: r["name"] for r in image.renditions}
    for url, width in (part.rsplit(" ", 1) for part in pictures[0]["srcset"].split(", ")):
        status, body, headers = _fetch(url)
        key = by_width[int(width.rstrip("w"))]
        assert status == 200 and body == _object(server, bucket, key)
        assert headers["Content-Type"] == "image/webp" and "max-age=" in headers.get("Cache-Control", "")
        with PILImage.open(io.BytesIO(body)) as picture:
            assert picture.format == "WEBP" and picture.width == int(width.rstrip("w"))
            assert picture.convert("RGB").getpixel((5, 5)) == pytest.approx((30, 120, 200), abs=6)
    status, body, _headers = _fetch(image.file.url)
    assert status == 200 and body == _object(server, bucket, image.file.name)
    with PILImage.open(io.BytesIO(body)) as picture:
        assert (picture.format, picture.size) == ("JPEG", (1500, 900))


def test_a_new_picture_of_the_same_name_replaces_the_cover_without_overwriting_the_old_one(s3, client):
    user, account = creator()
    client.force_login(user)
    draft = factories.article(publish=False, account_=account)
    first = Image.objects.get(pk=_upload(client, draft, factories.image_bytes(color=(200, 0, 0))).json()["id"])
    first_bytes = _fetch(first.file.url)[1]
    article = factories.article(account_=account, cover=first)
    second = Image.objects.get(pk=_upload(client, draft, factories.image_bytes(color=(0, 200, 0))).json()["id"])

    # Both were sent as "photo.jpg" in the same month: two objects, the first one untouched.
    assert first.file.name != second.file.name
    assert {r["name"] for r in first.renditions}.isdisjoint(r["name"] for r in second.renditions)
    assert _fetch(first.file.url)[1] == first_bytes

    actions.update_article(article, cover=second)
    reader = Client()
    reader.force_login(studio_reader())  # signed in: the page is rendered, not served from the page cache
    html = reader.get(article.get_absolute_url()).content.decode()
    assert second.url_for_width(640) in html and first.url_for_width(640) not in html
    status, body, _headers = _fetch(second.url_for_width(640))
    with PILImage.open(io.BytesIO(body)) as picture:
        assert status == 200 and picture.convert("RGB").getpixel((5, 5)) == pytest.approx((0, 200, 0), abs=6)
    assert _fetch(first.url_for_width(640))[0] == 200  # other pages and old revisions may still show it


def _apply_form(**overrides) -> dict:
    data = {
        "name": "云端观察",
        "handle": f"yunduan-{uuid.uuid4().hex[:6]}",
        "avatar": SimpleUploadedFile("me.jpg", factories.image_bytes(size=(400, 400), color=(90, 60, 160))),
        "slogan": "把云里的事讲清楚",
        "field": "finance",
        "intro": "我写财经新闻和上市公司的年报解读，十年从业经验。",
        "credential_name": "证券从业资格",
        "credential_expires_on": (timezone.localdate() + timedelta(days=200)).isoformat(),
        "qualification": SimpleUploadedFile("zhengshu.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
    }
    return {**data, **overrides}


def _person(name: str, *, editor: bool = False):
    from django.contrib.auth import get_user_model

    from masthead.accounts.roles import EDITORS_GROUP

    person = get_user_model().objects.create_user(f"{name}-{uuid.uuid4().hex[:6]}", password="correct horse 9")
    if editor:
        person.groups.add(Group.objects.get_or_create(name=EDITORS_GROUP)[0])
    return person


def test_avatars_are_public_and_qualifications_stay_in_the_private_bucket(s3):
    server, bucket, private = s3
    applicant, boss = _person("applicant"), _person("boss", editor=True)
    applying = Client()
    applying.force_login(applicant)
    assert applying.post("/join/apply/", _apply_form()).status_code == 302
    item = Application.objects.get(user=applicant)

    assert item.avatar.name in _keys(server, bucket) and _fetch(item.avatar.url)[0] == 200
    assert _keys(server, private) == {item.qualification.name}
    assert item.qualification.name not in _keys(server, bucket)
    # The private bucket answers nobody without credentials, even at the address the app would sign.
    assert _fetch(f"{server.url}/{private}/{item.qualification.name}")[0] == 403
    url = f"/review/applications/{item.pk}/qualification/"
    assert applying.get(url).status_code == 403
    reviewing = Client()
    reviewing.force_login(boss)
    opened = reviewing.get(url)
    assert opened.status_code == 200 and b"".join(opened.streaming_content) == b"%PDF-1.4\n%%EOF\n"

    reviewing.post(f"/review/applications/{item.pk}/", {"decision": "approve", "reason": ""})
    account = Account.objects.get(owner=applicant)
    assert account.avatar.name in _keys(server, bucket) and account.avatar.name != item.avatar.name
    assert _fetch(account.avatar.url)[1] == _object(server, bucket, item.avatar.name)  # copied bucket to bucket
    article = factories.article(account_=account)
    assert account.avatar.url in unescape(Client().get(article.get_absolute_url()).content.decode())


def test_a_failed_private_upload_removes_the_avatar_it_already_stored(s3_server, settings, monkeypatch):
    env = _configure(settings, monkeypatch, s3_server, MASTHEAD_S3_PRIVATE_BUCKET="mh-missing-" + uuid.uuid4().hex[:8])
    applicant = _person("applicant")
    applying = Client()
    applying.force_login(applicant)
    response = applying.post("/join/apply/", _apply_form())
    assert response.status_code == 200 and STORAGE_DOWN in response.content.decode()
    assert not Application.objects.filter(user=applicant).exists()
    assert _keys(s3_server, env["MASTHEAD_S3_BUCKET"]) == set()  # the avatar was written, then deleted


def test_a_stopped_storage_server_gives_a_clear_upload_error_and_pages_still_render(tmp_path, settings, monkeypatch):
    server = _moto(tmp_path)
    try:
        _configure(settings, monkeypatch, server)
        user, account = creator()
        editor_client = Client()
        editor_client.force_login(user)
        draft = factories.article(publish=False, account_=account)
        kept = Image.objects.get(pk=_upload(editor_client, draft, factories.image_bytes()).json()["id"])
        article = factories.article(account_=account, body=f'<figure><img data-image="{kept.pk}"></figure>')
    finally:
        server.stop()

    began = time.monotonic()
    response = _upload(editor_client, draft, factories.image_bytes(color=(1, 2, 3)))
    assert response.status_code == 400 and response.json()["errors"]["file"] == [STORAGE_DOWN]
    assert time.monotonic() - began < 30  # short timeouts and few retries: the creator is not left waiting
    assert list(Image.objects.values_list("pk", flat=True)) == [kept.pk]  # no row without its files
    page = Client().get(article.get_absolute_url())
    assert page.status_code == 200 and kept.url_for_width(640) in page.content.decode()


@pytest.mark.django_db(transaction=True)  # SQLite's backup API waits for the test's open transaction otherwise
def test_a_backup_leaves_out_the_files_in_object_storage_and_says_so(s3, tmp_path):
    from django.core.management import call_command

    server, bucket, _private = s3
    stored = {factories.image().file.name}
    stored |= {r["name"] for r in Image.objects.get().renditions}
    archive = tmp_path / "site.tar.gz"
    out = io.StringIO()
    call_command("backup", str(archive), stdout=out)
    said = out.getvalue()
    assert f"the media files, which are in object storage (s3://{bucket})" in said
    assert "the private files, which are in object storage" in said
    summary = create_backup(tmp_path / "again.tar.gz")
    assert summary.files == 0 and set(summary.remote) == {"media", "private"}
    with tarfile.open(archive) as opened:
        names = opened.getnames()
    assert not any(name.startswith(("media", "private")) for name in names)
    assert _keys(server, bucket) == stored  # the picture and its renditions stay where they are
    out = io.StringIO()
    call_command("restore", str(archive), "--yes", stdout=out)
    assert "Left as they are: the media files" in out.getvalue()
    assert _keys(server, bucket) == stored and Image.objects.count() == 1
