"""Image intake: validate, strip metadata, store, and make WebP renditions for srcset."""

import io
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from masthead.articles.models import Image

RENDITION_WIDTHS = (320, 640, 960, 1280)
MAX_PIXELS = 40_000_000  # refuse decompression bombs well before Pillow's own limit
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


def _open(data: bytes) -> PILImage.Image:
    try:
        with PILImage.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise ValidationError(_("只支持 JPEG、PNG、WebP 或 GIF 图片。"), code="format")
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationError(_("图片尺寸过大，请缩小后再上传。"), code="pixels")
            probe.verify()
        image = PILImage.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, PILImage.DecompressionBombError) as exc:
        raise ValidationError(_("无法识别的图片文件，可能已损坏。"), code="invalid") from exc
    return ImageOps.exif_transpose(image)


def _encode(image: PILImage.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.save(out, fmt, **options)  # saving without exif= drops EXIF (GPS, camera serials)
    return out.getvalue()


def make_renditions(image: Image, source: PILImage.Image) -> list[dict]:
    stem = PurePosixPath(image.file.name).stem
    renditions = []
    widths = [w for w in RENDITION_WIDTHS if w < source.width] + [min(source.width, RENDITION_WIDTHS[-1])]
    for width in sorted(set(widths)):
        height = max(1, round(source.height * width / source.width))
        resized = source.convert("RGBA" if source.mode in ("RGBA", "LA", "P") else "RGB").resize(
            (width, height), PILImage.Resampling.LANCZOS
        )
        name = default_storage.save(
            f"renditions/{image.created_at:%Y/%m}/{stem}-{width}.webp",
            ContentFile(_encode(resized, "WEBP", quality=82, method=4)),
        )
        renditions.append({"w": width, "h": height, "name": name})
    return renditions


def create_image(
    data: bytes,
    *,
    filename: str,
    alt: str,
    account=None,
    caption: str = "",
    credit: str = "",
    label: str = "",
) -> Image:
    """Store an uploaded image; raises ValidationError with a reader-friendly message on bad input."""
    if len(data) > settings.MASTHEAD_MAX_UPLOAD_BYTES:
        limit = settings.MASTHEAD_MAX_UPLOAD_BYTES // (1024 * 1024)
        raise ValidationError(_("图片太大：最大 %(limit)s MB。") % {"limit": limit}, code="size")
    if not alt.strip():
        raise ValidationError(_("请为图片填写替代文字，方便视障读者。"), code="alt")
    source = _open(data)
    fmt = "PNG" if source.mode in ("RGBA", "LA", "P") else "JPEG"
    encoded = _encode(source, fmt, **({"quality": 88, "optimize": True} if fmt == "JPEG" else {}))
    name = f"{PurePosixPath(filename).stem[:40] or 'image'}.{'png' if fmt == 'PNG' else 'jpg'}"
    image = Image(account=account, alt=alt.strip(), caption=caption, credit=credit, label=label)
    image.width, image.height = source.size
    image.file.save(name, ContentFile(encoded), save=False)
    image.save()
    image.renditions = make_renditions(image, source)
    image.save(update_fields=["renditions"])
    return image
