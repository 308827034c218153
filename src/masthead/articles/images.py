"""Image intake: validate, strip metadata, store, and make WebP renditions for srcset.

AI-generated pictures are the one exception to "no metadata": the stored original and every
rendition carry an ``AIGC`` entry (the implicit label China's AIGC labelling rules ask for: a PNG
text chunk for PNG, XMP with the ``TC260:AIGC`` property for JPEG and WebP), and the renditions, which
are what readers see, also get a visible "AI生成" corner mark.

Everything that can fail (decoding, re-encoding) happens in memory before anything is written, so
a bad upload leaves neither a row nor stray files behind.
"""

import io
import json
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont, ImageOps, UnidentifiedImageError
from PIL.PngImagePlugin import PngInfo

from masthead.accounts.models import Account
from masthead.articles.body import clean_text
from masthead.articles.models import Image, ImageLabel

RENDITION_WIDTHS = (320, 640, 960, 1280)
MAX_PIXELS = 40_000_000  # refuse decompression bombs well before Pillow's own limit
WEBP_MAX_SIDE = 16383  # the WebP format cannot hold more pixels on a side (long 长图 hit this)
ACCEPTED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "GIF")  # MPO: a JPEG with extra frames, as some phones save
_DECODERS = ("JPEG", "PNG", "WEBP", "GIF")  # Pillow's openers for those (JPEG's also opens MPO)
_LOSSY_FORMATS = ("JPEG", "MPO", "WEBP")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")

AIGC_KEY = "AIGC"
AIGC_XMP_NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
AI_MARK_TEXT = "AI生成"
# Fonts with Hanzi, tried in order; without any, the mark reads "AI" (the caption still says AI生成).
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)


@dataclass
class PreparedImage:
    """A decoded, cleaned upload, encoded and ready to store."""

    data: bytes
    extension: str  # "jpg" or "png"
    width: int
    height: int
    renditions: list[tuple[int, int, bytes]] = field(default_factory=list)  # (width, height, WebP)
    aigc: dict | None = None  # the AIGC entry written into the files, for AI-generated pictures


def _format_error() -> ValidationError:
    return ValidationError(_("只支持 JPEG、PNG、WebP 或 GIF 图片。"), code="format")


def _probe(data: bytes) -> None:
    """Check type and size from the header alone, before any pixel is decoded."""
    try:
        with PILImage.open(io.BytesIO(data)) as probe:
            fmt, (width, height) = probe.format, probe.size
    except UnidentifiedImageError as exc:
        raise _format_error() from exc
    except PILImage.DecompressionBombError as exc:
        raise ValidationError(_("图片尺寸过大，请缩小后再上传。"), code="pixels") from exc
    except Exception as exc:  # any parser failure on untrusted bytes means a broken file
        raise ValidationError(_("图片文件已损坏或不完整，请重新导出后再上传。"), code="invalid") from exc
    if fmt not in ACCEPTED_FORMATS:
        raise _format_error()
    if width * height > MAX_PIXELS:
        raise ValidationError(_("图片尺寸过大，请缩小后再上传。"), code="pixels")


def _decode(data: bytes) -> tuple[PILImage.Image, str]:
    """Decode fully (truncated files fail here), turned upright by its EXIF orientation; and the format."""
    _probe(data)
    try:
        with PILImage.open(io.BytesIO(data), formats=_DECODERS) as check:
            check.verify()  # checksums (PNG) that load() alone does not look at
        image = PILImage.open(io.BytesIO(data), formats=_DECODERS)
        image.load()
    except Exception as exc:  # see _probe
        raise ValidationError(_("图片文件已损坏或不完整，请重新导出后再上传。"), code="invalid") from exc
    return _upright(image), image.format or ""


def _upright(image: PILImage.Image) -> PILImage.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # unreadable EXIF: the pixels are fine, show them as stored
        return image


def _has_alpha(image: PILImage.Image) -> bool:
    return image.mode in _ALPHA_MODES or (image.mode == "P" and "transparency" in image.info)


def _normalise(image: PILImage.Image) -> PILImage.Image:
    """RGB, RGBA or L, with no metadata but the colour profile (EXIF, GPS, XMP and comments go)."""
    icc = image.info.get("icc_profile")
    if image.mode.startswith("I"):  # 16-bit greyscale PNG: scale down, or it all turns white
        image = image.point(lambda v: v / 256).convert("L")
    target = "RGBA" if _has_alpha(image) else ("L" if image.mode in ("L", "1") else "RGB")
    clean = image.convert(target) if image.mode != target else image.copy()
    clean.info = {"icc_profile": icc} if icc else {}
    return clean


def aigc_entry(propagate_id: str) -> dict:
    """The AIGC label: generated by AI (Label "1"), passed on by this site under `propagate_id`."""
    return {
        "Label": "1",
        "ContentProducer": "",
        "ProduceID": "",
        "ContentPropagator": str(getattr(settings, "SITE_NAME", "Masthead")),
        "PropagateID": propagate_id,
    }


def _aigc_xmp(entry: dict) -> bytes:
    value = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:TC260="{AIGC_XMP_NS}"><TC260:AIGC>{value}</TC260:AIGC></rdf:Description>'
        '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def _encode(image: PILImage.Image, fmt: str, aigc: dict | None = None, **options) -> bytes:
    out = io.BytesIO()
    if icc := image.info.get("icc_profile"):
        options["icc_profile"] = icc
    if aigc is not None:
        # The only metadata written: saving without exif=, xmp= or comment= writes none of them.
        if fmt == "PNG":
            info = PngInfo()
            info.add_text(AIGC_KEY, json.dumps(aigc, ensure_ascii=False, separators=(",", ":")))
            options["pnginfo"] = info
        else:
            options["xmp"] = _aigc_xmp(aigc)
    image.save(out, fmt, **options)
    return out.getvalue()


def read_aigc(data: bytes) -> dict | None:
    """The AIGC entry of a stored file (PNG text chunk or XMP), or None."""
    with PILImage.open(io.BytesIO(data)) as image:
        if text := getattr(image, "text", {}).get(AIGC_KEY):
            return json.loads(text)
        xmp = image.info.get("xmp") or b""
    xmp = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else xmp
    start = xmp.find("<TC260:AIGC>")
    if start < 0:
        return None
    value = xmp[start + len("<TC260:AIGC>") :].split("</TC260:AIGC>", 1)[0]
    return json.loads(value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


@lru_cache(maxsize=16)
def _mark_font(size: int) -> tuple[ImageFont.ImageFont | ImageFont.FreeTypeFont, str]:
    """A font for the corner mark and the text it can draw."""
    configured = getattr(settings, "MASTHEAD_CJK_FONT", "")
    for path in (configured, *CJK_FONTS):
        if path and Path(path).is_file():
            try:
                return ImageFont.truetype(path, size), AI_MARK_TEXT
            except OSError:
                continue
    return ImageFont.load_default(size=size), "AI"


def draw_ai_mark(image: PILImage.Image) -> PILImage.Image:
    """A dark badge with "AI生成" (or "AI") in the bottom-right corner, sized to the picture."""
    size = max(10, min(image.width, image.height) // 16, image.width // 40)
    font, text = _mark_font(size)
    base = image.convert("RGBA")
    overlay = PILImage.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad, margin = max(3, size // 3), max(4, size // 2)
    # The badge is as wide as "AI生成" would be even when only "AI" can be drawn (no CJK font installed).
    box_w, box_h = max(right - left, 3 * size) + 2 * pad, bottom - top + 2 * pad
    x0, y0 = max(0, base.width - margin - box_w), max(0, base.height - margin - box_h)
    draw.rounded_rectangle((x0, y0, x0 + box_w, y0 + box_h), radius=max(2, size // 4), fill=(0, 0, 0, 170))
    text_x = x0 + (box_w - (right - left)) // 2 - left
    draw.text((text_x, y0 + pad - top), text, font=font, fill=(255, 255, 255, 255))
    marked = PILImage.alpha_composite(base, overlay)
    marked.info = dict(image.info)
    return marked if image.mode == "RGBA" else marked.convert("RGB")


def rendition_widths(width: int, height: int) -> list[int]:
    """The srcset widths for a picture: the standard ones below its own width, then its own width
    capped at the largest; never upscaled, and never so tall that WebP cannot hold it."""
    cap = min(width, RENDITION_WIDTHS[-1], max(1, WEBP_MAX_SIDE * width // height))
    return [w for w in RENDITION_WIDTHS if w < cap] + [cap]


def _renditions(source: PILImage.Image, aigc: dict | None = None) -> list[tuple[int, int, bytes]]:
    out = []
    for width in rendition_widths(*source.size):
        height = max(1, round(source.height * width / source.width))
        resized = source.resize((width, height), PILImage.Resampling.LANCZOS)
        if aigc is not None:
            resized = draw_ai_mark(resized)
        out.append((width, height, _encode(resized, "WEBP", aigc, quality=82, method=4)))
    return out


def _check_size(size: int) -> None:
    limit = settings.MASTHEAD_MAX_UPLOAD_BYTES
    if size > limit:
        raise ValidationError(_("图片太大：最大 %(limit)s MB。") % {"limit": f"{limit / 2**20:.3g}"}, code="size")


def read_upload(upload) -> bytes:
    """An uploaded file's bytes; a file over the limit is refused (code "size") before it is read into memory."""
    _check_size(upload.size)
    return upload.read()


def prepare_image(data: bytes, *, is_ai_generated: bool = False) -> PreparedImage:
    """Validate and re-encode an upload; raises ValidationError with a reader-friendly message.
    AI-generated pictures get the AIGC entry in every file and the corner mark on the renditions."""
    _check_size(len(data))
    decoded, fmt = _decode(data)
    source = _normalise(decoded)
    # Photos stay JPEG; pictures with transparency, drawings and screenshots (PNG, GIF) stay lossless.
    lossy = source.mode != "RGBA" and fmt in _LOSSY_FORMATS
    aigc = aigc_entry(uuid.uuid4().hex) if is_ai_generated else None
    if lossy:
        encoded = _encode(source, "JPEG", aigc, quality=88, optimize=True)
    else:
        encoded = _encode(source, "PNG", aigc, optimize=True)
    renditions = _renditions(source, aigc)
    return PreparedImage(encoded, "jpg" if lossy else "png", *source.size, renditions=renditions, aigc=aigc)


def _text(value: str, name: str, label: str) -> str:
    value = " ".join(clean_text(value).split())
    limit = Image._meta.get_field(name).max_length
    if len(value) > limit:
        raise ValidationError({name: _("%(label)s最多 %(limit)s 个字。") % {"label": label, "limit": limit}})
    return value


def describe(image: Image, *, alt: str, caption: str = "", credit: str = "", label: str = "") -> None:
    """Set the words that go with a picture, checked (alt text is required for blind readers)."""
    image.alt = _text(alt, "alt", _("替代文字"))
    if not image.alt:
        raise ValidationError({"alt": _("请为图片填写替代文字，方便视障读者。")}, code="alt")
    image.caption = _text(caption, "caption", _("图片说明"))
    image.credit = _text(credit, "credit", _("图片来源"))
    if label not in ImageLabel.values:
        raise ValidationError({"label": _("未知的图片标注。")}, code="label")
    image.label = label


def store_image(image: Image, prepared: PreparedImage, *, filename: str) -> Image:
    """Write a prepared picture and its renditions, and save the row."""
    stem = PurePosixPath(filename.replace("\\", "/")).stem[:40] or "image"
    image.width, image.height = prepared.width, prepared.height
    with transaction.atomic():
        image.file.save(f"{stem}.{prepared.extension}", ContentFile(prepared.data), save=False)
        image.save()
        base = PurePosixPath(image.file.name).stem
        folder = f"renditions/{image.created_at:%Y/%m}"
        image.renditions = [
            {"w": w, "h": h, "name": default_storage.save(f"{folder}/{base}-{w}.webp", ContentFile(webp))}
            for w, h, webp in prepared.renditions
        ]
        image.save(update_fields=["renditions"])
    return image


def create_image(
    data: bytes,
    *,
    filename: str,
    alt: str,
    account: Account | None = None,
    caption: str = "",
    credit: str = "",
    label: str = "",
    is_ai_generated: bool = False,
) -> Image:
    """Store an uploaded image; raises ValidationError with a reader-friendly message on bad input.

    A picture labelled AI生成 is AI-generated, and an AI-generated one without a label gets that label."""
    is_ai_generated = is_ai_generated or label == ImageLabel.AI
    if is_ai_generated and not label:
        label = ImageLabel.AI
    image = Image(account=account, is_ai_generated=is_ai_generated)
    describe(image, alt=alt, caption=caption, credit=credit, label=label)
    return store_image(image, prepare_image(data, is_ai_generated=is_ai_generated), filename=filename)
