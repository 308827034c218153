"""申请入驻: the landing page, the application form and its rules, uploads, status, the whole flow."""

import io
import struct
import threading
import zlib
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone
from PIL import ExifTags
from PIL import Image as PILImage

from masthead.accounts import applications
from masthead.accounts.models import Account, Application
from masthead.accounts.roles import EDITORS_GROUP, creator_account
from masthead.moderation.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-pass-phrase"
IMPERSONATION_ERROR = "号名称不能含有“官方”、平台或政府机构等容易让读者误会的字样。"


# --- helpers (private to this file; the lead may move them to a conftest) --------------------------------


@pytest.fixture(autouse=True)
def private_storage(tmp_path, monkeypatch):
    """Qualification documents go to a per-test private folder (the real one is under the data dir)."""
    storage = FileSystemStorage(location=tmp_path / "private", base_url=None)
    monkeypatch.setattr(Application._meta.get_field("qualification"), "storage", storage)
    return storage


def user(name: str = "reader", **fields):
    return get_user_model().objects.create_user(name, password=PASSWORD, **fields)


def editor(name: str = "editor"):
    person = user(name)
    person.groups.add(Group.objects.get_or_create(name=EDITORS_GROUP)[0])
    return person


def logged_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def photo(size=(800, 450), color=(200, 80, 60), fmt="JPEG", **save) -> bytes:
    return factories.image_bytes(size, color, fmt, **save)


def upload(data: bytes | None = None, name: str = "me.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, photo() if data is None else data, content_type="application/octet-stream")


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def form(**overrides) -> dict:
    data = {
        "name": "山野观察",
        "handle": "shanye-guancha",
        "avatar": upload(),
        "slogan": "记录山野里的小事",
        "field": "travel",
        "intro": "我是一名户外作者，写徒步、露营和山里的风土人情。",
        "credential_name": "",
        "credential_expires_on": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def data(**overrides) -> applications.ApplicationData:
    values = form(**overrides)
    values.pop("credential_expires_on", None)
    values.setdefault("qualification", None)
    return applications.ApplicationData(credential_expires_on=overrides.get("credential_expires_on"), **values)


def refusal(person, **overrides) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as exc:
        applications.apply(person, data(**overrides))
    assert not Application.objects.filter(user=person).exists()
    return exc.value.message_dict


def stored_image(field_file) -> PILImage.Image:
    with field_file.storage.open(field_file.name) as fh:
        image = PILImage.open(io.BytesIO(fh.read()))
        image.load()
    return image


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A tiny PNG whose header claims a huge picture."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def gps_photo() -> bytes:
    exif = PILImage.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (39.0, 54.0, 27.0)}
    out = io.BytesIO()
    PILImage.new("RGB", (640, 480), (30, 120, 200)).save(out, "JPEG", exif=exif, comment=b"home address")
    return out.getvalue()


# --- landing -------------------------------------------------------------------------------------------


def test_landing_says_what_creators_get_and_is_cached_for_anonymous_readers(client):
    first = client.get("/join/")
    assert first.status_code == 200
    page = first.content.decode()
    assert "申请入驻，成为创作者" in page and "原创保护" in page and "创作工作台" in page
    assert 'href="/join/apply/"' in page and "登录后申请" in page
    assert "csrfmiddlewaretoken" not in page and 'method="post"' not in page  # safe to share between readers
    assert first["X-Page-Cache"] == "miss"
    assert client.get("/join/")["X-Page-Cache"] == "hit"


def test_landing_button_follows_the_visitors_state():
    reader = user()
    assert "立即申请" in logged_in(reader).get("/join/").content.decode()
    applications.apply(reader, data())
    assert '<a class="button" href="/join/status/">查看申请进度</a>' in logged_in(reader).get("/join/").content.decode()
    owner = user("owner")
    factories.account(owner=owner)
    page = logged_in(owner).get("/join/").content.decode()
    assert '<a class="button" href="/studio/">进入创作工作台</a>' in page and "立即申请" not in page


def test_anonymous_visitors_are_sent_to_log_in_first(client):
    for url in ("/join/apply/", "/join/status/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url == f"/login/?next={url}"
    response = client.post("/join/apply/", form())
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert not Application.objects.exists()


# --- the whole flow --------------------------------------------------------------------------------------


def test_apply_approve_and_own_a_creator_account_through_the_site():
    reader, boss = user(), editor()
    applicant = logged_in(reader)
    form_page = applicant.get("/join/apply/")
    assert form_page.status_code == 200 and 'enctype="multipart/form-data"' in form_page.content.decode()

    response = applicant.post("/join/apply/", form())
    assert response.status_code == 302 and response.url == "/join/status/"
    status_page = applicant.get("/join/status/").content.decode()
    assert "山野观察" in status_page and "审核中" in status_page
    assert applicant.get("/join/apply/").url == "/join/status/"  # one pending application at a time

    desk = logged_in(boss)
    queue = desk.get("/review/applications/").content.decode()
    assert "山野观察" in queue and "共 1 份待审核" in queue
    item = Application.objects.get(user=reader)
    detail = desk.get(f"/review/applications/{item.pk}/").content.decode()
    assert "我是一名户外作者" in detail and "shanye-guancha" in detail
    response = desk.post(f"/review/applications/{item.pk}/", {"decision": "approve", "reason": "内容方向清楚"})
    assert response.status_code == 302

    account = creator_account(get_user_model().objects.get(pk=reader.pk))
    assert account is not None
    assert (account.name, account.handle, account.slogan, account.field) == (
        "山野观察", "shanye-guancha", "记录山野里的小事", "travel",
    )  # fmt: skip
    assert account.intro.startswith("我是一名户外作者") and account.badge == 0 and account.verified is False
    avatar = stored_image(account.avatar)
    assert avatar.size == (256, 256) and account.avatar.name != item.avatar.name  # a copy, not a shared file

    status_page = applicant.get("/join/status/").content.decode()
    assert "已通过" in status_page and "内容方向清楚" in status_page
    assert 'href="/studio/"' in status_page and 'href="/u/shanye-guancha/"' in status_page
    assert Client().get("/u/shanye-guancha/").status_code == 200
    assert applicant.get("/join/apply/").content.decode().count("你已经是创作者") == 1

    entry = AuditEntry.objects.get(action="application.approve")
    assert entry.actor == boss and entry.target_id == str(item.pk) and entry.reason == "内容方向清楚"
    assert entry.before["status"] == "pending" and entry.after["status"] == "approved"
    assert entry.after["account"] == account.pk


def test_rejection_shows_the_reason_and_the_applicant_may_apply_again():
    reader, boss = user(), editor()
    applicant = logged_in(reader)
    applicant.post("/join/apply/", form())
    item = Application.objects.get(user=reader)
    logged_in(boss).post(
        f"/review/applications/{item.pk}/", {"decision": "reject", "reason": "简介太笼统，请补充代表作。"}
    )

    page = applicant.get("/join/status/").content.decode()
    assert "未通过" in page and "简介太笼统，请补充代表作。" in page and "重新申请" in page
    assert creator_account(reader) is None
    # Rejected means no studio: nothing can be written or published.
    assert applicant.get("/studio/").status_code == 403
    assert applicant.post("/studio/new/").status_code == 403
    # The name and handle of a rejected application are free again, also for the same applicant.
    response = applicant.post("/join/apply/", form(intro="我是一名户外作者，代表作有《秦岭七日》等长篇游记。"))
    assert response.status_code == 302
    assert Application.objects.filter(user=reader).count() == 2


# --- names and handles -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "官方科技",
        "科技官 方",
        "科技官·方",
        "官\u200b微速递",
        "平台客服小王",
        "ＭＡＳＴＨＥＡＤ日报",
        "masthead news",
        "Masthead 号精选",
        "人民 日报评论",
        "新华视点观察",
        "某市公安提醒",
        "认证作者",
        "OFFICIAL 科技",
        "管理員公告",
    ],
)
def test_names_that_impersonate_the_platform_or_officials_are_refused(name):
    reader = user()
    response = logged_in(reader).post("/join/apply/", form(name=name))
    assert response.status_code == 200
    assert IMPERSONATION_ERROR in response.content.decode()
    assert not Application.objects.exists()


def test_the_configured_site_name_is_refused_too(settings):
    settings.SITE_NAME = "山城号"
    assert refusal(user(), name="山 城 号 生活")["name"] == [IMPERSONATION_ERROR]
    assert applications.impersonates("山城 号") and not applications.impersonates("山城生活")


def test_ordinary_names_pass_and_are_stored_normalised():
    application = applications.apply(user(), data(name="  ＡＢＣ   科技 前沿  "))
    assert application.name == "ABC 科技 前沿"


@pytest.mark.parametrize("handle", ["admin", "Studio", "join", "review", "api", "static", "media", "the-official"])
def test_reserved_handles_are_refused(handle):
    assert refusal(user(), handle=handle)["handle"] == ["这个账号标识是保留的，请换一个。"]


@pytest.mark.parametrize("handle", ["ab", "中文标识", "-dash", "has space", "x" * 41])
def test_malformed_handles_are_refused(handle):
    assert "handle" in refusal(user(), handle=handle)


def test_names_and_handles_are_unique_across_accounts_and_pending_applications():
    factories.account(name="已有的号", handle="taken-handle")
    applications.apply(user("first"), data(name="排队中的号", handle="queued-handle"))
    second = user("second")
    assert refusal(second, name="已有的号")["name"] == ["这个号名称已被使用，请换一个。"]
    assert refusal(second, name="排队中的号")["name"] == ["这个号名称已被使用，请换一个。"]
    assert refusal(second, handle="Taken-Handle")["handle"] == ["这个账号标识已被使用，请换一个。"]
    assert refusal(second, handle="queued-handle")["handle"] == ["这个账号标识已被使用，请换一个。"]


def test_all_problems_are_reported_at_once():
    errors = refusal(user(), name="官方", handle="admin", field="nope", intro="短", avatar=upload(b"not a picture"))
    assert set(errors) == {"name", "handle", "field", "intro", "avatar"}


# --- one application, one account -------------------------------------------------------------------------


def test_a_double_submit_creates_one_application():
    reader = user()
    applicant = logged_in(reader)
    assert applicant.post("/join/apply/", form()).status_code == 302
    assert applicant.post("/join/apply/", form()).status_code == 302
    assert Application.objects.filter(user=reader).count() == 1
    again = applications.apply(reader, data(name="另一个名字", handle="another-one"))
    assert again.name == "山野观察"  # the pending one, not a second


def test_a_creator_cannot_apply_again():
    owner = user("owner")
    factories.account(owner=owner)
    page = logged_in(owner).get("/join/apply/").content.decode()
    assert "你已经是创作者" in page and "<form" not in page.split("<main", 1)[1]
    logged_in(owner).post("/join/apply/", form())
    assert not Application.objects.exists()
    with pytest.raises(ValidationError):
        applications.apply(owner, data())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submits_create_one_application():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks across connections)")
    reader = user()
    barrier, results = threading.Barrier(2), []

    def submit():
        try:
            barrier.wait()
            results.append(applications.apply(reader, data()).pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Application.objects.filter(user=reader).count() == 1
    assert len(results) == 2 and len(set(results)) == 1


# --- avatars ------------------------------------------------------------------------------------------------


def test_avatar_too_large_is_refused_with_the_limit(settings):
    settings.MASTHEAD_MAX_UPLOAD_BYTES = 1024 * 1024
    big = photo((10, 10)) + b"\0" * (1024 * 1024)
    response = logged_in(user()).post("/join/apply/", form(avatar=upload(big)))
    assert "头像太大：最大 1 MB。" in response.content.decode()
    assert not Application.objects.exists()


@pytest.mark.parametrize("payload", [b"", b"plain text", b"%PDF-1.7\n", b"<svg onload='alert(1)'/>"])
def test_avatar_that_is_not_an_image_is_refused(payload):
    errors = refusal(user(), avatar=upload(payload))
    assert errors["avatar"] == ["只支持 JPEG、PNG、WebP 或 GIF 图片。"]


def test_avatar_decompression_bomb_is_refused():
    assert refusal(user(), avatar=upload(png_bomb()))["avatar"] == ["图片尺寸过大，请缩小后再上传。"]


def test_avatar_exif_and_gps_are_stripped():
    application = applications.apply(user(), data(avatar=upload(gps_photo())))
    stored = stored_image(application.avatar)
    assert stored.format == "JPEG" and not stored.getexif() and "comment" not in stored.info
    with application.avatar.open("rb") as fh:
        raw = fh.read()
    assert b"SecretCam" not in raw and b"home address" not in raw


def test_avatar_is_centre_cropped_to_a_256_square():
    wide = PILImage.new("RGB", (900, 300), (220, 0, 0))
    wide.paste((0, 180, 0), (300, 0, 600, 300))  # only the middle third is green
    out = io.BytesIO()
    wide.save(out, "PNG")
    application = applications.apply(user(), data(avatar=upload(out.getvalue(), "wide.png")))
    stored = stored_image(application.avatar)
    assert stored.size == (256, 256)
    for corner in ((2, 2), (253, 2), (2, 253), (253, 253)):
        red, green, _blue = stored.getpixel(corner)
        assert green > 150 and red < 60, corner  # the red sides were cut away


def test_transparent_avatar_is_flattened_onto_white():
    out = io.BytesIO()
    PILImage.new("RGBA", (300, 300), (0, 0, 0, 0)).save(out, "PNG")
    stored = stored_image(applications.apply(user(), data(avatar=upload(out.getvalue(), "a.png"))).avatar)
    assert stored.mode == "RGB" and min(stored.getpixel((128, 128))) > 240


# --- regulated fields and the private qualification ---------------------------------------------------------


def test_regulated_fields_need_a_current_qualification():
    errors = refusal(user(), field="finance")
    assert set(errors) == {"credential_name", "credential_expires_on", "qualification"}
    yesterday = timezone.localdate() - timedelta(days=1)
    errors = refusal(
        user("b"),
        field="health",
        credential_name="医师执业证书",
        credential_expires_on=yesterday,
        qualification=upload(pdf_bytes(), "cert.pdf"),
    )
    assert errors == {"credential_expires_on": ["资质已过期，请先续期。"]}
    errors = refusal(
        user("c"),
        field="law",
        credential_name="律师执业证",
        credential_expires_on=timezone.localdate() + timedelta(days=300),
        qualification=upload(b"MZ\x90\x00 an executable", "cert.exe"),
    )
    assert errors == {"qualification": ["资质证明只支持 PDF 或 JPEG、PNG、WebP 图片。"]}


def test_regulated_form_errors_are_shown_on_the_page():
    response = logged_in(user()).post("/join/apply/", form(field="current-affairs"))
    page = response.content.decode()
    assert response.status_code == 200 and "该领域需要上传资质证明。" in page and "请填写资质名称。" in page


def test_qualification_is_private_and_only_editors_can_open_it(private_storage, settings):
    reader, boss, peer = user(), editor(), user("peer")
    expires = timezone.localdate() + timedelta(days=365)
    response = logged_in(reader).post(
        "/join/apply/",
        form(
            field="finance",
            credential_name="证券从业资格",
            credential_expires_on=expires.isoformat(),
            qualification=upload(pdf_bytes(), "zhengshu.pdf"),
        ),
    )
    assert response.status_code == 302
    item = Application.objects.get(user=reader)
    # Stored outside MEDIA_ROOT, and not reachable under MEDIA_URL.
    assert private_storage.exists(item.qualification.name)
    assert not default_storage.exists(item.qualification.name)
    assert not str(private_storage.path(item.qualification.name)).startswith(str(settings.MEDIA_ROOT))
    assert Client().get(f"/media/{item.qualification.name}").status_code == 404

    url = f"/review/applications/{item.pk}/qualification/"
    assert Client().get(url).status_code == 302  # to the login page
    assert logged_in(peer).get(url).status_code == 403
    assert logged_in(reader).get(url).status_code == 403  # editors only, the applicant included
    owner = user("owner")
    factories.account(owner=owner)
    assert logged_in(owner).get(url).status_code == 403
    opened = logged_in(boss).get(url)
    assert opened.status_code == 200 and opened["Content-Type"] == "application/pdf"
    assert b"".join(opened.streaming_content) == pdf_bytes()
    assert "no-store" in opened["Cache-Control"] and "sandbox" in opened["Content-Security-Policy"]
    assert url in logged_in(boss).get(f"/review/applications/{item.pk}/").content.decode()

    logged_in(boss).post(f"/review/applications/{item.pk}/", {"decision": "approve", "reason": ""})
    account = Account.objects.get(owner=reader)
    assert account.verified and account.credential_name == "证券从业资格"
    assert account.credential_expires_on == expires and account.credential_valid()


def test_image_qualification_loses_its_metadata(private_storage):
    application = applications.apply(
        user(),
        data(
            field="health",
            credential_name="医师执业证书",
            credential_expires_on=timezone.localdate() + timedelta(days=30),
            qualification=upload(gps_photo(), "scan.jpg"),
        ),
    )
    stored = stored_image(application.qualification)
    assert application.qualification.name.endswith(".jpg") and not stored.getexif()


def test_a_qualification_sent_for_an_unregulated_field_is_not_kept(private_storage):
    application = applications.apply(user(), data(qualification=upload(pdf_bytes(), "x.pdf"), credential_name="x"))
    assert not application.qualification and application.credential_name == ""
    assert not private_storage.exists("qualifications")


# --- CSRF and query budgets ---------------------------------------------------------------------------------


def test_the_application_form_needs_its_csrf_token():
    reader = user()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(reader)
    assert strict.post("/join/apply/", form()).status_code == 403
    assert not Application.objects.exists()
    page = strict.get("/join/apply/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    assert strict.post("/join/apply/", {**form(), "csrfmiddlewaretoken": token}).status_code == 302
    assert Application.objects.filter(user=reader).count() == 1


@pytest.mark.parametrize(("url", "budget"), [("/join/", 6), ("/join/apply/", 6), ("/join/status/", 6)])
def test_query_budgets_for_a_signed_in_reader(url, budget, django_assert_max_num_queries):
    reader = user()
    client = logged_in(reader)
    if url == "/join/status/":
        for n in range(3):  # the page does not grow with the number of applications
            item = applications.apply(reader, data(name=f"号{n}号", handle=f"handle-{n}"))
            Application.objects.filter(pk=item.pk).update(status=Application.Status.REJECTED, reason="不行")
    with django_assert_max_num_queries(budget):
        assert client.get(url).status_code == 200


def test_query_budget_of_the_cached_landing_page(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):  # the channel navigation, once; then none
        client.get("/join/")
    with django_assert_max_num_queries(0):
        assert client.get("/join/").status_code == 200
