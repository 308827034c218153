"""Tests for the deterministic demo artwork (pure Pillow, no Django needed)."""

import io

import pytest
from PIL import Image, ImageChops

from masthead.demo import art

SMALL = (240, 135)


def _same(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and a.mode == b.mode and ImageChops.difference(a, b).getbbox() is None


def test_motif_list_is_complete():
    assert len(art.MOTIFS) == 16
    assert len(set(art.MOTIFS)) == 16
    assert {"city", "chart", "circuit", "night", "harbor", "map"} <= set(art.MOTIFS)


def test_palettes_have_required_names_and_valid_colours():
    required = {"teal", "olive", "orange", "purple", "blue", "indigo", "red", "green", "pink", "cyan", "amber", "lime"}
    assert required <= set(art.PALETTES)
    for colours in art.PALETTES.values():
        assert len(colours) >= 5
        for colour in colours:
            assert len(colour) == 3
            assert all(0 <= channel <= 255 for channel in colour)


@pytest.mark.parametrize("motif", art.MOTIFS)
def test_every_motif_renders_at_requested_size_in_rgb(motif):
    image = art.illustration(motif, seed=7, size=SMALL)
    assert image.size == SMALL
    assert image.mode == "RGB"
    # A real picture, not a flat fill.
    lo, hi = zip(*image.getextrema(), strict=True)
    assert max(hi) - min(lo) > 40


def test_default_size_is_16_by_9():
    assert art.illustration("sky", 1).size == (1200, 675)


@pytest.mark.parametrize("size", [(1, 1), (64, 36), (300, 300), (200, 400), (800, 90)])
@pytest.mark.parametrize("motif", ["stadium", "map", "circuit", "device", "fabric"])
def test_odd_sizes_render(motif, size):
    image = art.illustration(motif, 3, size=size)
    assert image.size == size
    assert image.mode == "RGB"


@pytest.mark.parametrize("motif", art.MOTIFS)
def test_same_arguments_give_identical_pixels(motif):
    first = art.illustration(motif, 42, size=SMALL, palette="teal")
    second = art.illustration(motif, 42, size=SMALL, palette="teal")
    assert first.tobytes() == second.tobytes()
    assert art.to_bytes(first) == art.to_bytes(second)


@pytest.mark.parametrize("motif", art.MOTIFS)
def test_different_seeds_differ(motif):
    a = art.illustration(motif, 1, size=SMALL, palette="blue")
    b = art.illustration(motif, 2, size=SMALL, palette="blue")
    assert not _same(a, b)


def test_palette_argument_changes_colours():
    a = art.illustration("mountains", 5, size=SMALL, palette="red")
    b = art.illustration("mountains", 5, size=SMALL, palette="green")
    assert not _same(a, b)


def test_unknown_motif_raises():
    with pytest.raises(ValueError, match="motif"):
        art.illustration("unicorns", 1)


def test_unknown_palette_raises():
    with pytest.raises(ValueError, match="palette"):
        art.illustration("city", 1, palette="plaid")
    with pytest.raises(ValueError, match="palette"):
        art.avatar(1, palette="plaid")


def test_avatar_is_square_and_deterministic():
    first = art.avatar(11, size=128)
    assert first.size == (128, 128)
    assert first.mode == "RGB"
    assert first.tobytes() == art.avatar(11, size=128).tobytes()
    assert art.avatar(11, size=128, palette="pink").tobytes() == art.avatar(11, size=128, palette="pink").tobytes()


def test_avatar_default_size_and_variety():
    assert art.avatar(1).size == (256, 256)
    images = [art.avatar(seed, size=64).tobytes() for seed in range(12)]
    assert len(set(images)) == 12


def test_to_bytes_jpeg_is_decodable():
    image = art.illustration("city", 3, size=SMALL)
    data = art.to_bytes(image)
    assert data[:2] == b"\xff\xd8"
    decoded = Image.open(io.BytesIO(data))
    assert decoded.format == "JPEG"
    assert decoded.size == SMALL
    assert decoded.mode == "RGB"


def test_to_bytes_jpeg_converts_non_rgb_images():
    rgba = art.avatar(2, size=64).convert("RGBA")
    decoded = Image.open(io.BytesIO(art.to_bytes(rgba, "JPEG", quality=70)))
    assert decoded.format == "JPEG"
    assert decoded.mode == "RGB"


def test_to_bytes_png_is_lossless():
    image = art.avatar(5, size=96)
    data = art.to_bytes(image, "PNG")
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    decoded = Image.open(io.BytesIO(data))
    assert decoded.format == "PNG"
    assert _same(decoded.convert("RGB"), image)


def test_jpeg_quality_affects_size():
    image = art.illustration("fabric", 9, size=(480, 270))
    assert len(art.to_bytes(image, quality=40)) < len(art.to_bytes(image, quality=95))
