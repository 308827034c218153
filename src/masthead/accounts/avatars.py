"""Avatar and qualification-document intake for applications to join.

Avatars get the same checks as article pictures (size limit, a real image of an accepted format, no
decompression bombs, fully decoded before anything is stored), are turned upright, centre-cropped to
a square and resized to AVATAR_SIZE, and re-encoded without EXIF/GPS/XMP. Qualification documents are
an image (re-encoded the same way, metadata stripped) or a PDF (checked by its header and kept as is).
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image as PILImage
from PIL import ImageOps

# The decoding and cleaning steps are the articles app's, so both intakes harden together.
from masthead.articles.images import _decode, _encode, _normalise

AVATAR_SIZE = 256
PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class Document:
    """A checked upload, ready to store: its bytes and the file extension to store it under."""

    data: bytes
    extension: str


def read_limited(upload: UploadedFile, what: str) -> bytes:
    """The upload's bytes, refusing files over MASTHEAD_MAX_UPLOAD_BYTES before reading them whole."""
    limit = settings.MASTHEAD_MAX_UPLOAD_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            _("%(what)s太大：最大 %(limit)s MB。") % {"what": what, "limit": f"{limit / 2**20:.3g}"}, code="size"
        )
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:  # a size the client lied about
        raise ValidationError(_("%(what)s太大。") % {"what": what}, code="size")
    return data


def prepare_avatar(data: bytes) -> bytes:
    """A square AVATAR_SIZE JPEG made from an uploaded picture; raises ValidationError on bad input."""
    limit = settings.MASTHEAD_MAX_UPLOAD_BYTES
    if len(data) > limit:
        raise ValidationError(_("头像太大：最大 %(limit)s MB。") % {"limit": f"{limit / 2**20:.3g}"}, code="size")
    decoded, _fmt = _decode(data)
    image = _normalise(decoded)
    if image.mode != "RGB":
        # Transparent and greyscale pictures go onto white: every avatar is then one small JPEG.
        flat = PILImage.new("RGB", image.size, (255, 255, 255))
        flat.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        flat.info = image.info
        image = flat
    square = ImageOps.fit(image, (AVATAR_SIZE, AVATAR_SIZE), PILImage.Resampling.LANCZOS, centering=(0.5, 0.5))
    square.info = {k: v for k, v in image.info.items() if k == "icc_profile"}
    return _encode(square, "JPEG", quality=88, optimize=True)


def prepare_document(data: bytes) -> Document:
    """A qualification document: a PDF kept as uploaded, or a picture re-encoded without metadata."""
    if data.startswith(PDF_MAGIC):
        return Document(data, "pdf")
    try:
        decoded, fmt = _decode(data)
    except ValidationError as exc:
        if exc.code == "format":
            raise ValidationError(_("资质证明只支持 PDF 或 JPEG、PNG、WebP 图片。"), code="format") from exc
        raise
    image = _normalise(decoded)
    if image.mode == "RGBA" or fmt not in ("JPEG", "MPO", "WEBP"):
        return Document(_encode(image, "PNG", optimize=True), "png")
    return Document(_encode(image, "JPEG", quality=90), "jpg")


def is_pdf(name: str) -> bool:
    return name.lower().endswith(".pdf")


def content_type(name: str) -> str:
    """The type a stored document is served with (only what prepare_document writes)."""
    lower = name.lower()
    if lower.endswith(".pdf"):
        return "application/pdf"
    if lower.endswith(".png"):
        return "image/png"
    return "image/jpeg"
