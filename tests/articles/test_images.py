"""Image intake: refusals with clear messages, metadata stripped, upright, WebP renditions."""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from PIL import ExifTags
from PIL import Image as PILImage

from masthead.articles.images import create_image
from masthead.articles.models import Image
from tests import factories

pytestmark = pytest.mark.django_db

FORMAT_MESSAGE = "只支持 JPEG、PNG、WebP 或 GIF 图片。"
BROKEN_MESSAGE = "图片文件已损坏或不完整，请重新导出后再上传。"
PIXELS_MESSAGE = "图片尺寸过大，请缩小后再上传。"


def _upload(data: bytes, **fields) -> Image:
    return create_image(
        data, filename=fields.pop("filename", "upload.jpg"), alt=fields.pop("alt", "替代文字"), **fields
    )


def _refusal(data: bytes, **fields) -> ValidationError:
    with pytest.raises(ValidationError) as exc:
        _upload(data, **fields)
    assert not Image.objects.exists()
    assert not default_storage.exists("images") and not default_storage.exists("renditions")  # nothing half-written
    return exc.value


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims to be huge: a decompression bomb as far as the header goes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _open_stored(name: str) -> PILImage.Image:
    with default_storage.open(name) as fh:
        image = PILImage.open(io.BytesIO(fh.read()))
        image.load()
    return image


def test_too_large_file_is_refused_with_the_limit(settings):
    settings.MASTHEAD_MAX_UPLOAD_BYTES = 2 * 1024 * 1024
    data = factories.image_bytes((10, 10)) + b"\0" * (2 * 1024 * 1024)
    error = _refusal(data)
    assert error.messages == ["图片太大：最大 2 MB。"] and error.code == "size"


@pytest.mark.parametrize(
    "data",
    [b"", b"just some text, not a picture", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", b"<svg onload='alert(1)'></svg>"],
    ids=["empty", "text", "pdf", "svg"],
)
def test_non_images_are_refused(data):
    error = _refusal(data)
    assert error.messages == [FORMAT_MESSAGE] and error.code == "format"


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO"])
def test_unsupported_image_formats_are_refused(fmt):
    error = _refusal(factories.image_bytes((64, 64), fmt=fmt))
    assert error.messages == [FORMAT_MESSAGE] and error.code == "format"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_truncated_files_are_refused(fmt):
    data = factories.image_bytes((600, 400), fmt=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    error = _refusal(data[: len(data) // 2])
    assert error.messages == [BROKEN_MESSAGE] and error.code == "invalid"


def test_corrupt_png_is_refused():
    data = bytearray(factories.image_bytes((64, 64), fmt="PNG"))
    idat = data.index(b"IDAT")
    data[idat + 8 : idat + 12] = b"\xde\xad\xbe\xef"  # damaged pixels: the checksum no longer matches
    error = _refusal(bytes(data))
    assert error.messages == [BROKEN_MESSAGE]


@pytest.mark.parametrize("side", [8_000, 30_000], ids=["above ours", "above Pillow's own limit"])
def test_decompression_bombs_are_refused_before_decoding(side):
    data = _png_header_only(side, side)
    assert len(data) < 200
    error = _refusal(data)
    assert error.messages == [PIXELS_MESSAGE] and error.code == "pixels"


@pytest.mark.parametrize("alt", ["", "   ", "\x00\n"])
def test_alt_text_is_required(alt):
    error = _refusal(factories.image_bytes(), alt=alt)
    assert error.messages == ["请为图片填写替代文字，方便视障读者。"]


def test_words_that_do_not_fit_or_unknown_labels_are_refused():
    assert _refusal(factories.image_bytes(), alt="长" * 201).messages == ["替代文字最多 200 个字。"]
    assert _refusal(factories.image_bytes(), caption="长" * 301).messages == ["图片说明最多 300 个字。"]
    assert _refusal(factories.image_bytes(), label="资料图").messages == ["未知的图片标注。"]


def _photo_with_metadata() -> bytes:
    exif = PILImage.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.Orientation] = 6  # the camera was held upright: turn 90° clockwise to show
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (39.0, 54.0, 27.0)}
    photo = PILImage.new("RGB", (400, 200), (220, 30, 30))
    photo.paste((30, 30, 220), (200, 0, 400, 200))  # left half red, right half blue
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=95, exif=exif, comment=b"home address", xmp=b"<x:xmpmeta>GPS</x:xmpmeta>")
    return out.getvalue()


def test_exif_gps_comments_and_xmp_are_stripped_from_the_stored_original():
    image = _upload(_photo_with_metadata())
    with default_storage.open(image.file.name) as fh:
        raw = fh.read()
    stored = PILImage.open(io.BytesIO(raw))
    assert stored.format == "JPEG" and not stored.getexif() and "comment" not in stored.info
    for secret in (b"SecretCam", b"home address", b"xmpmeta", b"Exif"):
        assert secret not in raw
    for rendition in image.renditions:
        with default_storage.open(rendition["name"]) as fh:
            assert b"SecretCam" not in fh.read()


def test_exif_orientation_is_applied():
    image = _upload(_photo_with_metadata())
    assert (image.width, image.height) == (200, 400)
    stored = _open_stored(image.file.name).convert("RGB")
    assert stored.size == (200, 400)
    red, blue = stored.getpixel((100, 50)), stored.getpixel((100, 350))
    assert red[0] > 180 > red[2] and blue[2] > 180 > blue[0]  # the left half is now on top


@pytest.mark.parametrize(
    ("size", "widths"),
    [
        ((2000, 1000), [320, 640, 960, 1280]),
        ((800, 450), [320, 640, 800]),
        ((200, 100), [200]),
        ((1000, 20000), [320, 640, 819]),  # a 长图: WebP holds at most 16383 pixels on a side
    ],
)
def test_webp_renditions_at_the_expected_widths_never_upscaled(size, widths):
    image = _upload(factories.image_bytes(size))
    assert [r["w"] for r in image.renditions] == widths
    for rendition in image.renditions:
        decoded = _open_stored(rendition["name"])
        assert decoded.format == "WEBP" and decoded.size == (rendition["w"], rendition["h"])
        assert rendition["h"] == max(1, round(size[1] * rendition["w"] / size[0]))
    assert image.srcset.endswith(f"{widths[-1]}w") and image.srcset.count(".webp") == len(widths)


def test_png_with_transparency_stays_png_with_its_alpha():
    picture = PILImage.new("RGBA", (300, 200), (0, 0, 0, 0))
    picture.paste((0, 160, 0, 255), (100, 50, 200, 150))
    out = io.BytesIO()
    picture.save(out, "PNG")
    image = _upload(out.getvalue(), filename="logo.png")
    assert image.file.name.endswith(".png")
    stored = _open_stored(image.file.name)
    assert stored.format == "PNG" and stored.mode == "RGBA"
    assert stored.getpixel((0, 0))[3] == 0 and stored.getpixel((150, 100)) == (0, 160, 0, 255)
    assert _open_stored(image.renditions[0]["name"]).mode == "RGBA"


def test_palette_gif_with_transparency_is_kept_transparent():
    picture = PILImage.new("P", (120, 80), 0)
    picture.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    picture.paste(1, (40, 20, 80, 60))
    out = io.BytesIO()
    picture.save(out, "GIF", transparency=0)
    image = _upload(out.getvalue(), filename="anim.gif")
    stored = _open_stored(image.file.name)
    assert stored.format == "PNG" and stored.getpixel((0, 0))[3] == 0 and stored.getpixel((60, 40))[:3] == (200, 0, 0)


def test_sixteen_bit_greyscale_png_keeps_its_tones():
    out = io.BytesIO()
    PILImage.new("I;16", (100, 50), 32768).save(out, "PNG")
    image = _upload(out.getvalue(), filename="scan.png")
    assert _open_stored(image.file.name).convert("L").getpixel((10, 10)) == 128
    assert _open_stored(image.renditions[0]["name"]).convert("L").getpixel((10, 10)) in range(126, 131)


def test_cmyk_jpeg_is_stored_as_rgb():
    out = io.BytesIO()
    PILImage.new("CMYK", (100, 100), (0, 255, 255, 0)).save(out, "JPEG")  # red in print colours
    stored = _open_stored(_upload(out.getvalue()).file.name)
    r, g, b = stored.getpixel((50, 50))
    assert stored.mode == "RGB" and r > 200 and g < 60 and b < 60


def test_a_good_upload_is_stored_with_its_words():
    writer = factories.account()
    image = create_image(
        factories.image_bytes((640, 480)), filename="C:\\Users\\me\\照片 01.JPG", alt="  一只猫\n在窗台上 ",
        account=writer, caption="窗台", credit="读者供图", label="author",
    )  # fmt: skip
    image.refresh_from_db()
    assert (image.alt, image.caption, image.credit, image.label) == ("一只猫 在窗台上", "窗台", "读者供图", "author")
    assert image.account == writer and (image.width, image.height) == (640, 480)
    assert image.file.name.startswith("images/") and image.file.name.endswith(".jpg") and "\\" not in image.file.name


def test_multi_picture_jpeg_from_a_phone_is_accepted_as_a_photo():
    first, depth_map = PILImage.new("RGB", (640, 480), (10, 200, 10)), PILImage.new("RGB", (640, 480), (0, 0, 0))
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[depth_map])
    image = _upload(out.getvalue())
    stored = _open_stored(image.file.name)
    assert stored.format == "JPEG" and stored.size == (640, 480) and stored.getpixel((5, 5))[1] > 180
