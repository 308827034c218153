"""AI-generated pictures: an AIGC entry in the stored files' metadata, a visible corner mark on what
readers see, and an "AI生成" label in the figure caption."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image as PILImage
from PIL import ImageChops, ImageStat

from masthead.articles import actions
from masthead.articles.images import create_image
from masthead.articles.models import ImageLabel
from tests import factories

pytestmark = pytest.mark.django_db


def _gradient(size=(1000, 600), fmt="JPEG") -> bytes:
    """A picture with detail everywhere, so a mark is told apart from a flat colour."""
    image = PILImage.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def _read(name: str) -> bytes:
    with default_storage.open(name) as f:
        return f.read()


def _open(name: str) -> PILImage.Image:
    image = PILImage.open(io.BytesIO(_read(name)))
    image.load()
    return image


def _xmp(image: PILImage.Image) -> str:
    xmp = image.info.get("xmp") or b""
    return xmp.decode() if isinstance(xmp, bytes) else xmp


def _files(image) -> list[str]:
    return [image.file.name] + [r["name"] for r in image.renditions]


def _mean_difference(a: PILImage.Image, b: PILImage.Image, box) -> float:
    diff = ImageChops.difference(a.convert("RGB").crop(box), b.convert("RGB").crop(box))
    return sum(ImageStat.Stat(diff).mean) / 3


def test_a_jpeg_marked_ai_generated_carries_aigc_in_every_file():
    image = factories.image(data=_gradient(), is_ai_generated=True)
    assert image.is_ai_generated and image.label == ImageLabel.AI  # an unlabelled AI picture gets the label
    original = _open(image.file.name)
    assert original.format == "JPEG" and "<TC260:AIGC>" in _xmp(original) and '"Label":"1"' in _xmp(original)
    assert len(image.renditions) == 4
    for rendition in image.renditions:
        webp = _open(rendition["name"])
        assert webp.format == "WEBP" and '"Label":"1"' in _xmp(webp)
        assert "http://www.tc260.org.cn/ns/AIGC/1.0/" in _xmp(webp)
    assert not original.getexif()  # nothing else is written: no EXIF, GPS or comments


def test_a_png_marked_ai_generated_carries_aigc_as_a_text_chunk():
    image = factories.image(data=_gradient(fmt="PNG"), is_ai_generated=True)
    original = _open(image.file.name)
    assert original.format == "PNG"
    assert '"Label":"1"' in original.text["AIGC"] and "Masthead" in original.text["AIGC"]
    assert all('"Label":"1"' in _xmp(_open(r["name"])) for r in image.renditions)


def test_one_aigc_entry_identifies_the_picture_across_its_files():
    from masthead.articles.images import read_aigc

    image = factories.image(data=_gradient(), is_ai_generated=True)
    entries = [read_aigc(_read(name)) for name in _files(image)]
    assert entries[0]["PropagateID"] and all(e == entries[0] for e in entries)
    assert entries[0]["Label"] == "1"


def test_other_pictures_carry_no_metadata_at_all():
    image = factories.image(data=_gradient(fmt="PNG"))
    assert not image.is_ai_generated
    for name in _files(image):
        opened = _open(name)
        assert not _xmp(opened) and "AIGC" not in getattr(opened, "text", {})
        assert b"AIGC" not in _read(name)


def test_the_ai_label_alone_marks_a_picture_ai_generated():
    image = factories.image(data=_gradient(), label="ai")
    assert image.is_ai_generated and '"Label":"1"' in _xmp(_open(image.renditions[0]["name"]))


def test_the_renditions_show_a_corner_mark_and_the_rest_of_the_picture_is_unchanged():
    data = _gradient()
    plain = create_image(data, filename="p.jpg", alt="普通")
    marked = create_image(data, filename="m.jpg", alt="合成", is_ai_generated=True)
    for before, after in zip(plain.renditions, marked.renditions, strict=True):
        a, b = _open(before["name"]), _open(after["name"])
        w, h = a.size
        corner = (int(w * 0.75), int(h * 0.8), w, h)
        top_left = (0, 0, w // 2, h // 2)
        assert _mean_difference(a, b, corner) > 20, after["w"]  # the badge is plainly there
        assert _mean_difference(a, b, top_left) < 1.5  # and nowhere else
        diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB")).point(lambda v: 255 if v > 40 else 0)
        left, top, _right, _bottom = diff.getbbox()
        assert left > w * 0.6 and top > h * 0.6  # the changed pixels sit in the bottom-right corner
    # The original keeps its pixels as uploaded (only its metadata says AIGC).
    assert _mean_difference(_open(plain.file.name), _open(marked.file.name), (0, 0, 1000, 600)) < 0.5


def test_the_mark_keeps_transparency():
    out = io.BytesIO()
    PILImage.new("RGBA", (640, 360), (0, 128, 255, 0)).save(out, "PNG")
    image = create_image(out.getvalue(), filename="t.png", alt="透明", is_ai_generated=True)
    webp = _open(image.renditions[-1]["name"])
    assert webp.mode == "RGBA"
    assert webp.getpixel((10, 10))[3] == 0  # still transparent away from the mark
    corner = webp.crop((int(webp.width * 0.8), int(webp.height * 0.8), webp.width, webp.height))
    assert corner.getchannel("A").getextrema()[1] > 100  # the badge is not see-through


def test_the_figure_says_ai_generated_in_words(client):
    writer = factories.account()
    picture = factories.image(account=writer, alt="合成的港口", caption="夜色中的港口", is_ai_generated=True)
    item = factories.article(account_=writer, body=f'<p>{"正文。" * 10}</p><img data-image="{picture.pk}">')
    assert '<span class="img-label" data-label="ai">（AI生成）</span>' in item.body_html
    page = client.get(item.get_absolute_url()).content.decode()
    assert 'class="figure ai-generated"' in page and "（AI生成）" in page


def test_an_ai_picture_with_another_label_still_says_ai_generated():
    writer = factories.account()
    picture = factories.image(account=writer, is_ai_generated=True, label="illustration")
    item = actions.create_article(
        account=writer, channel=factories.channel(), title="示意", body=f'<img data-image="{picture.pk}">'
    )
    assert "（示意图）" in item.body_html and 'data-label="ai">（AI生成）' in item.body_html


def test_without_a_cjk_font_the_mark_still_shows(monkeypatch, settings):
    from masthead.articles import images

    settings.MASTHEAD_CJK_FONT = ""
    monkeypatch.setattr(images, "CJK_FONTS", ())
    images._mark_font.cache_clear()
    try:
        assert images._mark_font(20)[1] == "AI"
        data = _gradient()
        plain = create_image(data, filename="p.jpg", alt="普通")
        marked = create_image(data, filename="m.jpg", alt="合成", is_ai_generated=True)
        a, b = _open(plain.renditions[0]["name"]), _open(marked.renditions[0]["name"])
        diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB")).point(lambda v: 255 if v > 40 else 0)
        left, top, right, bottom = diff.getbbox()
        assert left > a.width * 0.6 and top > a.height * 0.6 and (right - left) * (bottom - top) > 100
    finally:
        images._mark_font.cache_clear()
