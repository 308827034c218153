"""Deterministic, text-free demo illustrations drawn with Pillow.

Every picture is a pure function of its arguments: the same motif, seed, size
and palette always give identical pixels, so the demo site's cover images,
inline figures and creator avatars can be regenerated at any time without
shipping binary assets. Scenes are drawn at twice the requested size and
downsampled with LANCZOS for smooth, anti-aliased edges.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image, ImageChops, ImageDraw

Color = tuple[int, int, int]
RGBA = tuple[int, int, int, int]
Point = tuple[float, float]
# A palette is (ink, dark, mid, light, pale, accent).
Palette = tuple[Color, Color, Color, Color, Color, Color]

MOTIFS: tuple[str, ...] = (
    "city",
    "mountains",
    "sea",
    "field",
    "stadium",
    "chart",
    "circuit",
    "device",
    "road",
    "books",
    "fabric",
    "palette",
    "map",
    "sky",
    "harbor",
    "night",
)

_SCALE = 2  # supersampling factor
_TAU = math.tau
WHITE: Color = (255, 255, 255)


def _hex(value: str) -> Color:
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def _palette(ink: str, dark: str, mid: str, light: str, pale: str, accent: str) -> Palette:
    return (_hex(ink), _hex(dark), _hex(mid), _hex(light), _hex(pale), _hex(accent))


PALETTES: dict[str, Palette] = {
    "teal": _palette("123f3d", "0f766e", "14b8a6", "7fdcd0", "e0f5f1", "f5a524"),
    "olive": _palette("2f3317", "555b24", "868c3a", "c2c67e", "f1f2dc", "e0734f"),
    "orange": _palette("5c2410", "b4430f", "f07a2a", "f9b98a", "fdeedd", "2f8fd8"),
    "purple": _palette("2e1248", "6b2fa8", "9b5de5", "cdb0f4", "f3ebfd", "f7c948"),
    "blue": _palette("14295c", "1f4fb8", "3b82f6", "9cc3fa", "e4effd", "f59e42"),
    "indigo": _palette("221f5c", "3f3ab8", "6366f1", "aab0f7", "e8eafe", "fbbf24"),
    "red": _palette("571818", "a82424", "e04848", "f4a4a0", "fde9e7", "f5c542"),
    "green": _palette("123d24", "1d7040", "2fa35d", "90d6a5", "e3f6e8", "f08a3c"),
    "pink": _palette("5a1236", "b01d62", "e8508f", "f6aecb", "fdebf3", "3cc6d8"),
    "cyan": _palette("0f3a4a", "0e6e8a", "15a9c9", "86dbea", "e0f7fb", "f2665b"),
    "amber": _palette("54290b", "a85b0a", "eda21c", "f8d27a", "fdf4dc", "2f6fd6"),
    "lime": _palette("2c4211", "4e7413", "85c51d", "c4e886", "f2fadf", "d9468f"),
}


@dataclass
class _Scene:
    """Mutable drawing context shared by the motif painters."""

    img: Image.Image
    draw: ImageDraw.ImageDraw
    rng: random.Random
    pal: Palette
    w: int
    h: int
    # Filters applied after downsampling (cheaper for smooth, full-frame effects).
    post: list[Callable[[Image.Image], Image.Image]] = field(default_factory=list)

    @property
    def u(self) -> float:
        """One percent of the shorter side, the unit for element sizes."""
        return min(self.w, self.h) / 100

    def paste(self, layer: Image.Image) -> None:
        """Replace the canvas content (e.g. with a gradient) and keep drawing."""
        self.img.paste(layer)


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def _mix(a: Color, b: Color, t: float) -> Color:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _a(c: Color, alpha: int) -> RGBA:
    return (c[0], c[1], c[2], alpha)


def _gradient(size: tuple[int, int], top: Color, bottom: Color) -> Image.Image:
    """Vertical gradient: build one column through per-channel lookup tables, then stretch it."""
    column = Image.linear_gradient("L").resize((1, size[1]), Image.Resampling.BILINEAR)
    bands = [column.point([round(a + (b - a) * v / 255) for v in range(256)]) for a, b in zip(top, bottom, strict=True)]
    return Image.merge("RGB", bands).resize(size, Image.Resampling.NEAREST)


def _circle(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, fill: Color | RGBA) -> None:
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)


def _sun_color(pal: Palette, t: float = 0.25) -> Color:
    """A warm sun: the accent when it is warm, otherwise a golden yellow."""
    acc = pal[5]
    warm = acc if acc[0] >= acc[2] else (255, 232, 160)
    return _mix(warm, WHITE, t)


def _sun(s: _Scene, cx: float, cy: float, r: float, color: Color, glow: int = 4) -> None:
    for i in range(glow, 0, -1):
        _circle(s.draw, cx, cy, r * (1 + 0.32 * i), _a(color, 26))
    _circle(s.draw, cx, cy, r, color)


def _wave(w: float, base: float, amp: float, rng: random.Random, n: int = 64) -> list[Point]:
    """A smooth horizon line made of two summed sines."""
    k1, k2 = rng.uniform(0.6, 1.6), rng.uniform(2.0, 4.0)
    p1, p2 = rng.uniform(0, _TAU), rng.uniform(0, _TAU)
    pts = []
    for i in range(n + 1):
        t = i / n
        y = base - amp * (0.65 * math.sin(k1 * _TAU * t + p1) + 0.35 * math.sin(k2 * _TAU * t + p2))
        pts.append((w * t, y))
    return pts


def _fill_below(draw: ImageDraw.ImageDraw, line: list[Point], bottom: float, fill: Color | RGBA) -> None:
    draw.polygon([*line, (line[-1][0], bottom), (line[0][0], bottom)], fill=fill)


def _ridge(rng: random.Random, w: float, base: float, rise: float, step: float) -> list[Point]:
    """A jagged mountain ridge alternating peaks and valleys."""
    x = -rng.uniform(0.02, 0.12) * w
    pts: list[Point] = [(x, base - rng.uniform(0.1, 0.4) * rise)]
    up = True
    while x < w * 1.05:
        x += step * rng.uniform(0.6, 1.4)
        frac = rng.uniform(0.55, 1.0) if up else rng.uniform(0.05, 0.35)
        pts.append((x, base - frac * rise))
        up = not up
    return pts


def _pine(draw: ImageDraw.ImageDraw, x: float, base: float, height: float, color: Color) -> None:
    half = height * 0.24
    draw.rectangle((x - height * 0.03, base - height * 0.2, x + height * 0.03, base), fill=color)
    for i in range(3):
        apex = base - height + i * height * 0.22
        bottom = apex + height * 0.42
        hw = half * (0.6 + 0.3 * i)
        draw.polygon([(x, apex), (x + hw, bottom), (x - hw, bottom)], fill=color)


def _round_tree(draw: ImageDraw.ImageDraw, x: float, base: float, height: float, trunk: Color, crown: Color) -> None:
    draw.rectangle((x - height * 0.05, base - height * 0.5, x + height * 0.05, base), fill=trunk)
    _circle(draw, x, base - height * 0.62, height * 0.36, crown)


def _cloud(draw: ImageDraw.ImageDraw, cx: float, cy: float, width: float, color: Color, rng: random.Random) -> None:
    """A flat-bottomed cartoon cloud; opaque so overlapping puffs stay clean."""
    h = width * 0.24
    draw.rounded_rectangle((cx - width / 2, cy - h / 2, cx + width / 2, cy + h / 2), radius=h / 2, fill=color)
    for offset, radius in ((-0.2, 0.55), (0.1, 0.8), (0.3, 0.5)):
        r = h * radius * rng.uniform(0.85, 1.2)
        px = cx + width * (offset + rng.uniform(-0.05, 0.05))
        _circle(draw, px, cy + h / 2 - r, r, color)


def _bird(draw: ImageDraw.ImageDraw, x: float, y: float, span: float, color: Color, width: int) -> None:
    half = span / 2
    draw.arc((x - half, y - half * 0.45, x, y + half * 0.45), 195, 335, fill=color, width=width)
    draw.arc((x, y - half * 0.45, x + half, y + half * 0.45), 205, 345, fill=color, width=width)


def _blob(cx: float, cy: float, rx: float, ry: float, rng: random.Random, wobble: float = 0.12) -> list[Point]:
    """An organic closed shape: an ellipse with low-frequency radial noise."""
    terms = [(rng.uniform(0, wobble / k), k, rng.uniform(0, _TAU)) for k in (2, 3, 5)]
    pts = []
    for i in range(72):
        th = _TAU * i / 72
        f = 1 + sum(amp * math.sin(k * th + ph) for amp, k, ph in terms)
        pts.append((cx + rx * f * math.cos(th), cy + ry * f * math.sin(th)))
    return pts


def _bezier(p0: Point, p1: Point, p2: Point, n: int = 40) -> list[Point]:
    out = []
    for i in range(n + 1):
        t = i / n
        a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t * t
        out.append((a * p0[0] + b * p1[0] + c * p2[0], a * p0[1] + b * p1[1] + c * p2[1]))
    return out


def _stroke(path: list[Point], width: float) -> list[Point]:
    """Outline polygon of a brush stroke along path that tapers at both ends."""
    left, right = [], []
    n = len(path) - 1
    for i, (x, y) in enumerate(path):
        x0, y0 = path[max(i - 1, 0)]
        x1, y1 = path[min(i + 1, n)]
        dx, dy = x1 - x0, y1 - y0
        norm = math.hypot(dx, dy) or 1.0
        half = width / 2 * (0.25 + 0.75 * math.sin(math.pi * i / n) ** 0.4)
        nx, ny = -dy / norm * half, dx / norm * half
        left.append((x + nx, y + ny))
        right.append((x - nx, y - ny))
    return left + right[::-1]


def _sky(s: _Scene, warm: float = 0.18) -> None:
    _, _, mid, light, pale, acc = s.pal
    s.paste(_gradient((s.w, s.h), _mix(light, mid, 0.3), _mix(pale, acc, warm)))


# ---------------------------------------------------------------------------
# Motif painters (all coordinates are in supersampled pixels)
# ---------------------------------------------------------------------------


def _city(s: _Scene) -> None:
    ink, dark, mid, light, pale, acc = s.pal
    w, h, u, rng, d = s.w, s.h, s.u, s.rng, s.draw
    _sky(s, 0.25)
    _sun(s, rng.uniform(0.15, 0.85) * w, rng.uniform(0.16, 0.3) * h, u * 8, _sun_color(s.pal, 0.3))
    for _ in range(rng.randint(1, 3)):
        _cloud(
            d,
            rng.uniform(0.05, 0.95) * w,
            rng.uniform(0.1, 0.3) * h,
            u * rng.uniform(14, 24),
            _mix(pale, WHITE, 0.6),
            rng,
        )
    ground = h * 0.88
    # Far skyline: pale silhouettes with spires and antennas.
    far = _mix(light, mid, 0.5)
    x = -rng.uniform(0, 6) * u
    while x < w:
        bw, bh = rng.uniform(6, 12) * u, rng.uniform(0.3, 0.62) * h
        top = ground - bh
        d.rectangle((x, top, x + bw, ground), fill=far)
        if rng.random() < 0.3:
            d.polygon([(x, top), (x + bw, top), (x + bw / 2, top - bw * 0.7)], fill=far)
        elif rng.random() < 0.4:
            d.rectangle((x + bw * 0.45, top - u * 6, x + bw * 0.55, top), fill=far)
        x += bw + rng.uniform(-1.5, 1.5) * u
    # Near skyline with window grids.
    x = -rng.uniform(0, 4) * u
    lit = _mix(acc, WHITE, 0.35)
    while x < w:
        bw, bh = rng.uniform(9, 16) * u, rng.uniform(0.16, 0.46) * h
        top = ground - bh
        col = rng.choice((dark, _mix(dark, ink, 0.45), _mix(dark, mid, 0.3)))
        d.rectangle((x, top, x + bw, ground), fill=col)
        roof = rng.random()
        if roof < 0.3:
            d.rectangle((x + bw * 0.2, top - u * 3, x + bw * 0.8, top), fill=col)
        elif roof < 0.5:
            d.rectangle((x + bw * 0.7, top - u * 5, x + bw * 0.75, top), fill=col)
        cols = max(2, int(bw / (u * 3)))
        gap = bw / cols
        rows = int((bh - u * 4) / (u * 3.6))
        dim = _mix(col, light, 0.28)
        for r in range(rows):
            wy = top + u * 2.5 + r * u * 3.6
            for c in range(cols):
                wx = x + c * gap + gap * 0.28
                fill = lit if rng.random() < 0.25 else dim
                d.rectangle((wx, wy, wx + gap * 0.44, wy + u * 1.9), fill=fill)
        x += bw + rng.uniform(0.6, 2.4) * u
    d.rectangle((0, ground, w, h), fill=ink)
    dash = u * 4
    for i in range(int(w / (dash * 2)) + 1):
        xx = i * dash * 2 + rng.uniform(0, 0.1) * u
        d.rectangle(
            (xx, ground + (h - ground) * 0.48, xx + dash, ground + (h - ground) * 0.58), fill=_mix(ink, pale, 0.35)
        )


def _mountains(s: _Scene) -> None:
    ink, dark, mid, light, pale, _acc = s.pal
    w, h, u, rng, d = s.w, s.h, s.u, s.rng, s.draw
    _sky(s, 0.3)
    _sun(s, rng.uniform(0.2, 0.8) * w, rng.uniform(0.22, 0.36) * h, u * 9, _sun_color(s.pal, 0.25))
    layers = 4
    snow = _mix(pale, WHITE, 0.7)
    for i in range(layers):
        t = (i + 1) / (layers + 1)
        color = _mix(_mix(light, mid, 0.2), ink, t * 0.95)
        base = h * (0.55 + 0.11 * i)
        rise = h * (0.34 - 0.05 * i) * rng.uniform(0.85, 1.15)
        pts = _ridge(rng, w, base, rise, w * (0.14 - 0.02 * i))
        _fill_below(d, pts, h, color)
        if i == 0:
            # Snow caps on the tallest, farthest peaks.
            for j in range(1, len(pts) - 1):
                px, py = pts[j]
                if py > pts[j - 1][1] or py > pts[j + 1][1] or py > base - rise * 0.7:
                    continue
                (lx, ly), (rx, ry) = pts[j - 1], pts[j + 1]
                f = 0.28
                a = (px + (lx - px) * f, py + (ly - py) * f)
                b = (px + (rx - px) * f, py + (ry - py) * f)
                mid_pt = ((a[0] + b[0]) / 2, max(a[1], b[1]) - (abs(b[1] - a[1]) * 0.2) - u * 0.5)
                d.polygon(
                    [
                        (px, py),
                        b,
                        (b[0] - (b[0] - mid_pt[0]) * 0.5, mid_pt[1] + u * 1.2),
                        mid_pt,
                        (a[0] + (mid_pt[0] - a[0]) * 0.5, mid_pt[1] + u * 1.2),
                        a,
                    ],
                    fill=snow,
                )
        if i == layers - 1:
            tree = _mix(ink, dark, 0.15)
            for _ in range(rng.randint(5, 9)):
                tx = rng.uniform(0, w)
                ty = h * 0.98 - rng.uniform(0, 0.04) * h
                _pine(d, tx, ty, u * rng.uniform(12, 20), tree)


def _sea(s: _Scene) -> None:
    ink, dark, mid, light, pale, acc = s.pal
    w, h, u, rng, d = s.w, s.h, s.u, s.rng, s.draw
    s.paste(_gradient((w, h), _mix(light, mid, 0.25), _mix(pale, acc, 0.35)))
    horizon = h * rng.uniform(0.5, 0.6)
    sx = rng.uniform(0.25, 0.75) * w
    sun = _sun_color(s.pal, 0.2)
    _sun(s, sx, horizon - u * rng.uniform(-2, 10), u * 11, sun, 5)
    for _ in range(rng.randint(2, 4)):
        bx, by = rng.uniform(0.1, 0.9) * w, rng.uniform(0.12, 0.32) * h
        _bird(d, bx, by, u * rng.uniform(3, 5), dark, max(2, int(u * 0.45)))
    extra = rng.random()
    if extra < 0.4:
        # A distant island on the horizon.
        ix, iw = rng.uniform(0.05, 0.95) * w, u * rng.uniform(18, 34)
        island = _mix(light, dark, 0.45)
        d.chord((ix - iw, horizon - iw * 0.28, ix + iw, horizon + iw * 0.28), 180, 360, fill=island)
        d.chord((ix - iw * 0.2, horizon - iw * 0.42, ix + iw * 0.9, horizon + iw * 0.42), 180, 360, fill=island)
    elif extra < 0.75:
        # A small sailboat far away.
        bx = rng.choice((rng.uniform(0.1, 0.3), rng.uniform(0.7, 0.9))) * w
        _boat(d, bx, horizon + u * 0.8, u * 2.6, _mix(dark, ink, 0.4), WHITE, _mix(pale, WHITE, 0.4), WHITE)
    bands = 6
    for i in range(bands):
        t = i / (bands - 1)
        color = _mix(_mix(light, mid, 0.6), dark, t * 0.9)
        base = horizon + (h - horizon) * (t**1.3) * 0.92
        line = _wave(w, base, u * (0.3 + 2.2 * t), rng, 80)
        _fill_below(d, line, h, color)
        if i >= 2:
            # Foam crests on the nearer waves.
            for _ in range(rng.randint(2, 4)):
                cx = rng.uniform(0, w)
                cw = u * rng.uniform(4, 9) * (0.6 + t)
                cy = base + u * rng.uniform(1, 4)
                d.arc((cx - cw, cy - u, cx + cw, cy + u * 2), 200, 340, fill=_a(pale, 170), width=max(2, int(u * 0.5)))
    # Sun glitter on the water, widening towards the viewer.
    gy = horizon + u * 1.5
    k = 0
    while gy < h - u * 4:
        gw = u * (4 + k * 1.8) * rng.uniform(0.5, 1.0)
        gx = sx + rng.uniform(-2, 2) * u
        d.rounded_rectangle(
            (gx - gw, gy, gx + gw, gy + u * 1.1), radius=u * 0.55, fill=_a(_mix(sun, WHITE, 0.45), 170 - min(k * 8, 90))
        )
        gy += u * (2.2 + k * 0.5)
        k += 1


def _field(s: _Scene) -> None:
    ink, dark, mid, light, pale, acc = s.pal
    w, h, u, rng, d = s.w, s.h, s.u, s.rng, s.draw
    _sky(s, 0.2)
    _sun(s, rng.uniform(0.15, 0.85) * w, rng.uniform(0.16, 0.3) * h, u * 7, _sun_color(s.pal, 0.25))
    for _ in range(rng.randint(1, 3)):
        _cloud(d, rng.uniform(0, w), rng.uniform(0.1, 0.3) * h, u * rng.uniform(14, 24), _mix(pale, WHITE, 0.6), rng)
    horizon = h * rng.uniform(0.48, 0.56)
    _fill_below(d, _wave(w, horizon - u * 5, u * 4, rng), h, _mix(light, mid, 0.35))
    crown = _mix(dark, mid, 0.3)
    for _ in range(rng.randint(4, 8)):
        _round_tree(d, rng.uniform(0, w), horizon + u * 0.5, u * rng.uniform(5, 9), dark, crown)
    if rng.random() < 0.7:
        # A little barn on the horizon.
        bx, bw = rng.uniform(0.1, 0.8) * w, u * 9
        barn = _mix(acc, dark, 0.25)
        d.rectangle((bx, horizon - u * 6, bx + bw, horizon + u * 0.5), fill=barn)
        d.polygon(
            [(bx - u, horizon - u * 6), (bx + bw / 2, horizon - u * 10), (bx + bw + u, horizon - u * 6)],
            fill=_mix(barn, ink, 0.35),
        )
        d.rectangle(
            (bx + bw * 0.35, horizon - u * 3.2, bx + bw * 0.65, horizon + u * 0.5), fill=_mix(barn, WHITE, 0.45)
        )
    # Crop rows converging on a vanishing point above the horizon.
    vx = rng.uniform(0.3, 0.7) * w
    vy = horizon - (h - horizon) * 0.35
    # Crops lean towards natural greens or wheat whatever the palette.
    crop = _mix(mid, (92, 158, 66) if rng.random() < 0.6 else (226, 176, 72), 0.75)
    d.rectangle((0, horizon, w, h), fill=_mix(crop, dark, 0.35))
    rows = rng.randint(12, 18)
    spread = w * 1.6 / rows
    colors = (crop, _mix(crop, WHITE, 0.22))

    def x_at(x_bottom: float, y: float) -> float:
        return vx + (x_bottom - vx) * (y - vy) / (h - vy)

    for i in range(-rows, rows + 1):
        x0 = vx + (i - 0.3) * spread
        x1 = vx + (i + 0.3) * spread
        d.polygon([(x_at(x0, horizon), horizon), (x_at(x1, horizon), horizon), (x1, h), (x0, h)], fill=colors[i % 2])


def _stadium(s: _Scene) -> None:
    if s.h > s.w:
        # Portrait frames get a landscape stadium turned on its side.
        sub = Image.new("RGB", (s.h, s.w))
        _stadium(_Scene(sub, ImageDraw.Draw(sub, "RGBA"), s.rng, s.pal, s.h, s.w))
        s.paste(sub.transpose(Image.Transpose.ROTATE_90))
        return
    ink, dark, mid, light, pale, acc = s.pal
    w, h, u, rng, d = s.w, s.h, s.u, s.rng, s.draw
    d.rectangle((0, 0, w, h), fill=ink)
    # Stands: a capsule full of spectators.
    m = u * 3
    d.rounded_rectangle((m, m, w - m, h - m), radius=(h - 2 * m) / 2, fill=dark)
    crowd = (pale, light, mid, acc, _mix(acc, WHITE, 0.4), WHITE)
    step = u * 2.3
    r0 = (h - 2 * m) / 2
    for yi in range(int((h - 2 * m) / step)):
        for xi in range(int((w - 2 * m) / step)):
            px = m + step * (xi + 0.5 + (yi % 2) * 0.5)
            py = m + step * (yi + 0.5)
            # Inside-capsule test: distance to the central segment.
            cx = min(max(px, m + r0), w - m - r0)
            if math.hypot(px - cx, py - h / 2) > r0 - step * 0.6:
                continue
            _circle(d, px, py, step * 0.3, _a(rng.choice(crowd), 150))
    # Track.
    tx0, ty0, tx1, ty1 = w * 0.1, h * 0.16, w * 0.9, h * 0.84
    if w < h * 1.2:
        tx0, tx1 = w * 0.12, w * 0.88
        ty0, ty1 = h * 0.2, h * 0.8
    lanes = rng.randint(6, 8)
    thick = (ty1 - ty0) * rng.uniform(0.17, 0.22)
    lane = thick / lanes
    track = _mix(acc, dark, 0.25) if rng.random() < 0.5 else _mix(mid, dark, 0.25)
    d.rounded_rectangle((tx0, ty0, tx1, ty1), radius=(ty1 - ty0) / 2, fill=track)
    line_w = max(2, int(u * 0.3))
    for i in range(lanes + 1):
        inset = i * lane
        box = (tx0 + inset, ty0 + inset, tx1 - inset, ty1 - inset)
        d.rounded_rectangle(box, radius=(box[3] - box[1]) / 2, outline=_a(WHITE, 210), width=line_w)
    # Infield with mowing stripes, pasted through a capsule mask.
    ix0, iy0, ix1, iy1 = (int(v) for v in (tx0 + thick, ty0 + thick, tx1 - thick, ty1 - thick))
    iw, ih = ix1 - ix0, iy1 - iy0
    grass = Image.new("RGB", (iw, ih), _mix(light, mid, 0.35))
    gd = ImageDraw.Draw(grass)
    stripe = iw / 12
    for k in range(0, 12, 2):
        gd.rectangle((k * stripe, 0, (k + 1) * stripe, ih), fill=_mix(light, mid, 0.55))
    mask = Image.new("L", (iw, ih), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, iw - 1, ih - 1), radius=ih / 2, fill=255)
    s.img.paste(grass, (ix0, iy0), mask)
    # Pitch markings.
    mark = _a(WHITE, 200)
    px0, px1 = ix0 + ih * 0.45, ix1 - ih * 0.45
    py0, py1 = iy0 + ih * 0.12, iy1 - ih * 0.12
    d.rectangle((px0, py0, px1, py1), outline=mark, width=line_w)
    d.line(((px0 + px1) / 2, py0, (px0 + px1) / 2, py1), fill=mark, width=line_w)
    cr = (py1 - py0) * 0.18
    d.ellipse(
        ((px0 + px1) / 2 - cr, (py0 + py1) / 2 - cr, (px0 + px1) / 2 + cr, (py0 + py1) / 2 + cr),
        outline=mark,
        width=line_w,
    )
    bh = (py1 - py0) * 0.5
    bw = (px1 - px0) * 0.12
    cy = (py0 + py1) / 2
    d.rectangle((px0, cy - bh / 2, px0 + bw, cy + bh / 2), outline=mark, width=line_w)
    d.rectangle((px1 - bw, cy - bh / 2, px1, cy + bh / 2), outline=mark, width=line_w)
    # Staggered start marks on the top straight.
    sx = rng.uniform(0.35, 0.6) * w
    for i in range(lanes):
        x = sx + i * u * 2.2
        d.line((x, ty0 + i * lane, x, ty0 + (i + 1) * lane), fill=WHITE, width=line_w * 2)


def _chart(s: _Scene) -> None:
    ink, dark, mid, light, pale, acc = s.pal
    w, h, u, rng, d = s.w, s.h, s.u, s.rng, s.draw
    s.paste(_gradient((w, h), _mix(pale, light, 0.45), pale))
    for _ in range(3):
        _circle(d, rng.uniform(0, w), rng.uniform(0, h), u * rng.uniform(15, 35), _a(light, 60))
    m = u * 7
    card = (m, m, w - m, h - m)
    d.rounded_rectangle(
        (card[0] + u, card[1] + u * 1.6, card[2] + u, card[3] + u * 1.6), radius=u * 3, fill=_a(ink, 40)
    )
    d.rounded_rectangle(card, radius=u * 3, fill=WHITE)
    grey = _mix(pale, (190, 196, 204), 0.6)
    # Header placeholders: a title pill and legend chips.
    d.rounded_rectangle((m + u * 5, m + u * 5, m + u * 30, m + u * 8), radius=u * 1.5, fill=_mix(dark, WHITE, 0.2))
    d.rounded_rectangle((m + u * 5, m + u * 10, m + u * 20, m + u * 12), radius=u, fill=grey)
    side = w - m > h * 1.25
    right = w - m - u * 5 - ((w - 2 * m) * 0.32 if side else 0)
    for k, col in enumerate((mid, acc)):
        lx = right - u * (24 - k * 12)
        _circle(d, lx, m + u * 6.5, u * 1.2, col)
        d.rounded_rectangle((lx + u * 2, m + u * 5.7, lx + u * 8, m + u * 7.3), radius=u * 0.8, fill=grey)
    # Plot area.
    x0, y0, x1, y1 = m + u * 7, m + u * 17, right, h - m - u * 7
    for k in range(5):
        gy = y0 + (y1 - y0) * k / 4
        d.line((x0, gy, x1, gy), fill=_mix(WHITE, grey, 0.6), width=max(2, int(u * 0.25)))
    n = rng.randint(7, 11)
    slot = (x1 - x0) / n
    v = rng.uniform(0.3, 0.5)
    values, line_vals = [], []
    for _ in range(n):
        v = min(0.95, max(0.12, v + rng.uniform(-0.15, 0.2)))
        values.append(v)
        line_vals.append(min(0.98, max(0.05, v * rng.uniform(0.55, 0.9) + 0.1)))
    # Let the tallest bar reach most of the plot height.
    top = max(values)
    values = [val * 0.92 / top for val in values]
    line_vals = [min(0.98, val * 0.92 / top) for val in line_vals]
    hi = rng.randrange(n)
    for i, val in enumerate(values):
        bx = x0 + slot * (i + 0.2)
        col = acc if i == hi else (mid if i % 2 == 0 else _mix(mid, light, 0.45))
        d.rounded_rectangle((bx, y1 - (y1 - y0) * val, bx + slot * 0.6, y1), radius=u * 0.8, fill=col)
    pts = [(x0 + slot * (i + 0.5), y1 - (y1 - y0) * val) for i, val in enumerate(line_vals)]
    d.line(pts, fill=ink, width=max(3, int(u * 0.7)), joint="curve")
    for px, py in pts:
        _circle(d, px, py, u * 1.3, ink)
        _circle(d, px, py, u * 0.65, WHITE)
    d.line((x0, y1, x1, y1), fill=_mix(grey, ink, 0.3), width=max(2, int(u * 0.35)))
    if side:
        # Donut chart with legend rows.
        cx = (right + w - m) / 2 + u * 1.5
        cy = (y0 + y1) / 2 - u * 4
        r = min((w - m - right) * 0.36, (y1 - y0) * 0.36)
        shares = [rng.uniform(1, 3) for _ in range(4)]
        total = sum(shares)
        start = -90.0
        cols = (dark, mid, light, acc)
        for share, col in zip(shares, cols, strict=True):
            end = start + 360 * share / total
            d.pieslice((cx - r, cy - r, cx + r, cy + r), start, end, fill=col)
            start = end
        _circle(d, cx, cy, r * 0.58, WHITE)
        for k, col in enumerate(cols):
            ly = cy + r + u * (4 + k * 3.2)
            d.rounded_rectangle((cx - r, ly, cx - r + u * 2, ly + u * 2), radius=u * 0.5, fill=col)
            d.rounded_rectangle(
                (cx - r + u * 3.5, ly + u * 0.4, cx - r + u * (10 + (k * 7) % 9), ly + u * 1.6),
                radius=u * 0.6,
                fill=grey,
            )


def _circuit(s: _Scene) -> None:
    ink, dark, mid, light, _pale, acc = s.pal
    w, h, u, rng, d = s.w, s.h, s.u, s.rng, s.draw
    s.paste(_gradient((w, h), _mix(dark, ink, 0.55), _mix(dark, ink, 0.8)))
    dot = _a(light, 28)
    g = u * 4
    for yi in range(int(h / g) + 1):
        for xi in range(int(w / g) + 1):
            _circle(d, xi * g, yi * g, u * 0.22, dot)
    cx, cy = w * rng.uniform(0.42, 0.58), h * rng.uniform(0.45, 0.55)
    half = min(w, h) * rng.uniform(0.14, 0.18)
    n = rng.randint(5, 7)
    pitch = half * 2 / (n + 1)
    tw = max(3, int(pitch * 0.22))
    trace = _mix(light, mid, 0.25)
    pad_col = _mix(acc, WHITE, 0.2)
    bg = _mix(dark, ink, 0.65)
    # Four sides in a pinwheel: every trace bends clockwise, so none cross.
    sides = (
        lambda a, o: (cx + a, cy - half - o),
        lambda a, o: (cx + half + o, cy + a),
        lambda a, o: (cx - a, cy + half + o),
        lambda a, o: (cx - half - o, cy - a),
    )
    reach = max(w, h)
    # One diagonal length per side keeps the staggered bends parallel.
    diags = [pitch * rng.choice((1.0, 2.0, 2.0, 3.0)) for _ in sides]
    for frame, diag in zip(sides, diags, strict=True):
        for k in range(n):
            a0 = -half + pitch * (k + 1)
            o_bend = u * 3 + (n - 1 - k) * pitch * (math.sqrt(2) - 1)
            o_end = o_bend + diag + rng.uniform(0.05, 0.6) * reach * 0.5
            path = [frame(a0, 0), frame(a0, o_bend), frame(a0 + diag, o_bend + diag), frame(a0 + diag, o_end)]
            d.line(path, fill=trace, width=tw, joint="curve")
            ex, ey = path[-1]
            if 0 < ex < w and 0 < ey < h:
                _circle(d, ex, ey, pitch * 0.36, pad_col)
                _circle(d, ex, ey, pitch * 0.16, bg)
            if rng.random() < 0.3:
                mx, my = frame(a0 + diag, o_bend + diag + (o_end - o_bend - diag) * 0.5)
                _circle(d, mx, my, pitch * 0.3, trace)
    # Small parts in the four empty corners between the pinwheel arms.
    gap = pitch * 1.5
    top, right, bottom, left = diags
    corners = (
        (0, 0, cx - half - gap, cy - half - left - gap),
        (cx + half + top + gap, 0, w, cy - half - gap),
        (cx + half + gap, cy + half + right + gap, w, h),
        (0, cy + half + gap, cx - half - bottom - gap, h),
    )
    body = _mix(mid, ink, 0.35)
    cap = _mix(light, WHITE, 0.5)
    for x0, y0, x1, y1 in corners:
        x0, y0, x1, y1 = x0 + u * 7, y0 + u * 7, x1 - u * 7, y1 - u * 7
        if x1 - x0 < u * 14 or y1 - y0 < u * 10:
            continue
        placed: list[tuple[float, float, float, float]] = []
        for _ in range(rng.randint(1, 3) * 4):
            if len(placed) == 3:
                break
            horizontal = rng.random() < 0.5
            lw, lh = (u * 8, u * 3.4) if horizontal else (u * 3.4, u * 8)
            px = rng.uniform(x0, x1 - lw)
            py = rng.uniform(y0, y1 - lh)
            keep = (px - u * 6, py - u * 6, px + lw + u * 6, py + lh + u * 6)
            if any(keep[0] < b[2] and b[0] < keep[2] and keep[1] < b[3] and b[1] < keep[3] for b in placed):
                continue
            placed.append(keep)
            if horizontal:
                d.line((px - u * 3, py + lh / 2, px + lw + u * 3, py + lh / 2), fill=trace, width=tw)
                _circle(d, px - u * 3, py + lh / 2, pitch * 0.3, pad_col)
                _circle(d, px + lw + u * 3, py + lh / 2, pitch * 0.3, pad_col)
            else:
                d.line((px + lw / 2, py - u * 3, px + lw / 2, py + lh + u * 3), fill=trace, width=tw)
                _circle(d, px + lw / 2, py - u * 3, pitch * 0.3, pad_col)
                _circle(d, px + lw / 2, py + lh + u * 3, pitch * 0.3, pad_col)
            d.rounded_rectangle((px, py, px + lw, py + lh), radius=u * 0.6, fill=cap)
            inner = (
                (px + u * 1.5, py, px + lw - u * 1.5, py + lh)
                if horizontal
                else (px, py + u * 1.5, px + lw, py + lh - u * 1.5)
            )
            d.rectangle(inner, fill=body)
    # The chip itself with pins.
    pin = pitch * 0.3
    for frame in sides:
        for k in range(n):
            a0 = -half + pitch * (k + 1)
            px, py = frame(a0, u * 1.5)
            _circle(d, px, py, pin, _mix(light, WHITE, 0.4))
    d.rounded_rectangle(
        (cx - half + u * 0.8, cy - half + u * 1.4, cx + half + u * 0.8, cy + half + u * 1.4),
        radius=u * 2,
        fill=_a(ink, 140),
    )
    d.rounded_rectangle((cx - half, cy - half, cx + half, cy + half), radius=u * 2, fill=ink)
    inner = half * 0.55
    d.rounded_rectangle((cx - inner, cy - inner, cx + inner, cy + inner), radius=u * 1.5, fill=_mix(ink, mid, 0.35))
    _circle(d, cx - half + u * 3, cy - half + u * 3, u * 1, _mix(ink, light, 0.4))


def _screen(
    d: ImageDraw.ImageDraw, box: tuple[float, float, float, float], pal: Palette, rng: random.Random, u: float
) -> None:
    """Fill a device screen with a text-free app layout."""
    _ink, dark, mid, light, pale, acc = pal
    x0, y0, x1, y1 = box
    sw, sh = x1 - x0, y1 - y0
    grey = _mix(pale, (185, 192, 200), 0.55)
    d.rectangle((x0, y0, x1, y0 + sh * 0.08), fill=mid)
    _circle(d, x0 + sh * 0.04 + u, y0 + sh * 0.04, sh * 0.022, WHITE)
    hero_b = y0 + sh * (0.42 if sw > sh else 0.32)
    hero = (x0 + u * 1.5, y0 + sh * 0.08 + u * 1.5, x1 - u * 1.5, hero_b)
    d.rounded_rectangle(hero, radius=u, fill=light)
    hx0, hy0, hx1, hy1 = hero
    hw = hx1 - hx0
    _circle(d, hx0 + hw * 0.75, hy0 + (hy1 - hy0) * 0.35, (hy1 - hy0) * 0.14, _mix(acc, WHITE, 0.2))
    d.polygon([(hx0, hy1), (hx0 + hw * 0.35, hy0 + (hy1 - hy0) * 0.35), (hx0 + hw * 0.6, hy1)], fill=mid)
    d.polygon([(hx0 + hw * 0.4, hy1), (hx0 + hw * 0.68, hy0 + (hy1 - hy0) * 0.55), (hx1, hy1)], fill=dark)
    y = hero_b + u * 2
    # Text lines as grey pills, grouped into paragraphs.
    line_h = max(u * 1.1, sh * 0.025)
    while y + line_h < y1 - u * 2:
        if rng.random() < 0.18:
            d.rounded_rectangle(
                (x0 + u * 1.5, y, x0 + sw * 0.55, y + line_h * 1.4), radius=line_h * 0.7, fill=_mix(dark, WHITE, 0.25)
            )
            y += line_h * 2.6
            continue
        end = x1 - u * 1.5 - (sw * rng.uniform(0.1, 0.45) if rng.random() < 0.3 else 0)
        d.rounded_rectangle((x0 + u * 1.5, y, end, y + line_h), radius=line_h / 2, fill=grey)
        y += line_h * 2


def _device_at(s: _Scene, box: tuple[float, float, float, float], radius: float, bezel: float) -> None:
    ink, dark = s.pal[0], s.pal[1]
    x0, y0, x1, y1 = box
    u, d = s.u, s.draw
    d.rounded_rectangle((x0 + u * 1.5, y0 + u * 2.5, x1 + u * 1.5, y1 + u * 2.5), radius=radius, fill=_a(ink, 60))
    d.rounded_rectangle(box, radius=radius, fill=_mix(ink, dark, 0.15))
    screen = (x0 + bezel, y0 + bezel, x1 - bezel, y1 - bezel)
    d.rounded_rectangle(screen, radius=max(radius - bezel, 1), fill=WHITE)
    _screen(d, (screen[0], screen[1] + bezel * 0.6, screen[2], screen[3] - bezel * 0.4), s.pal, s.rng, u)
    _circle(d, (x0 + x1) / 2, y0 + bezel / 2, bezel * 0.18, _mix(dark, WHITE, 0.2))


def _device(s: _Scene) -> None:
    ink, dark, mid, light, pale, acc = s.pal
    w, h, u, rng, d = s.w, s.h, s.u, s.rng, s.draw
    s.paste(_gradient((w, h), _mix(light, pale, 0.35), _mix(pale, acc, 0.12)))
    for _ in range(4):
        pts = _blob(rng.uniform(0, w), rng.uniform(0, h), u * rng.uniform(12, 30), u * rng.uniform(12, 30), rng, 0.2)
        d.polygon(pts, fill=_a(rng.choice((mid, light, acc)), 45))
    # Tablet (landscape) behind, phone (portrait) in front.
    th = h * 0.62
    tw = min(th * 1.42, w * 0.62)
    ph = h * 0.7
    pw = ph * 0.49
    overlap = rng.uniform(0.1, 0.3) * pw
    tx = max(u * 4, (w - (tw + pw - overlap)) / 2 + rng.uniform(-3, 3) * u)
    ty = (h - th) / 2 - u * 3
    _device_at(s, (tx, ty, tx + tw, ty + th), u * 3.5, u * 2.4)
    px = min(tx + tw - overlap, w - pw - u * 4)
    py = h * 0.16 + rng.uniform(0, 0.04) * h
    _device_at(s, (px, py, px + pw, py + ph), u * 4.5, u * 1.6)
    # A small round watch or earbud case for variety.
    if rng.random() < 0.5:
        cx, cy, r = w * rng.uniform(0.06, 0.12), h * 0.86, u * 6
        d.rounded_rectangle((cx - r * 0.45, cy - r * 1.6, cx + r * 0.45, cy + r * 1.6), radius=r * 0.3, fill=dark)
        _circle(d, cx, cy, r, ink)
        _circle(d, cx, cy, r * 0.8, mid)
        d.arc(
            (cx - r * 0.62, cy - r * 0.62, cx + r * 0.62, cy + r * 0.62),
            -90,
            rng.randint(40, 220),
            fill=WHITE,
            width=max(3, int(u * 0.8)),
        )


def _road(s: _Scene) -> None:
    ink, dark, mid, light, pale, acc = s.pal
    w, h, u, rng, d = s.w, s.h, s.u, s.rng, s.draw
    _sky(s, 0.3)
    horizon = h * rng.uniform(0.44, 0.52)
    _sun(s, rng.uniform(0.2, 0.8) * w, horizon - u * rng.uniform(8, 16), u * 8, _sun_color(s.pal, 0.25))
    _fill_below(d, _ridge(rng, w, horizon + u, h * 0.16, w * 0.12), h, _mix(light, mid, 0.35))
    _fill_below(d, _wave(w, horizon + u, u * 2, rng), h, _mix(light, mid, 0.6))
    d.rectangle((0, horizon + u, w, h), fill=_mix(mid, dark, 0.15))
    # Perspective: depth z maps to screen y = horizon + k / z; the road bends
    # then runs straight, so its screen offset saturates towards the horizon.
    k = h - horizon
    bend = w * rng.uniform(-0.22, 0.22)
    half = w * 0.42

    def at(z: float, off: float) -> Point:
        return (w / 2 + bend * (1 - math.exp(-(z - 1) / 4)) + off * half / z, horizon + k / z)

    zs = [1.0 * 1.06**i for i in range(90)]
    shoulder = [at(z, -1.12) for z in zs] + [at(z, 1.12) for z in reversed(zs)]
    d.polygon(shoulder, fill=_mix(mid, dark, 0.35))
    road = [at(z, -1) for z in zs] + [at(z, 1) for z in reversed(zs)]
    d.polygon(road, fill=_mix(ink, dark, 0.25))
    edge = _mix(pale, WHITE, 0.5)
    for side in (-0.92, 0.92):
        d.line([at(z, side) for z in zs], fill=edge, width=max(2, int(u * 0.6)), joint="curve")
    z = 1.0
    while z < 40:
        zz = [z + (0.45 * i / 6) for i in range(7)]
        quad = [at(q, -0.035) for q in zz] + [at(q, 0.035) for q in reversed(zz)]
        d.polygon(quad, fill=_mix(acc, WHITE, 0.3))
        z += 0.9
    # Telegraph poles on one side, trees on the other, drawn far to near.
    pole_side = rng.choice((-1, 1))
    pole = _mix(dark, ink, 0.5)
    tops = []
    for z in (24.0, 16.0, 10.5, 7.0, 4.6, 3.0, 2.0, 1.3):
        x, y = at(z, pole_side * 1.6)
        top = y - h * 0.55 / z
        tops.append((x, top + h * 0.04 / z))
        d.line((x, y, x, top), fill=pole, width=max(2, int(u * 2.2 / z)))
        d.line(
            (x - u * 4 / z, top + h * 0.04 / z, x + u * 4 / z, top + h * 0.04 / z),
            fill=pole,
            width=max(2, int(u * 1.2 / z)),
        )
    d.line(tops, fill=_a(pole, 160), width=max(2, int(u * 0.25)), joint="curve")
    tree = _mix(dark, ink, 0.3)
    crown = _mix(dark, mid, 0.2)
    for z in (20.0, 13.0, 8.5, 5.5, 3.6, 2.4, 1.6):
        for off in (-rng.uniform(1.6, 2.6), rng.uniform(1.6, 2.6)):
            if rng.random() < 0.35 or ((off > 0) == (pole_side > 0) and rng.random() < 0.7):
                continue
            x, y = at(z, off * rng.uniform(1.0, 1.6))
            if rng.random() < 0.5:
                _pine(d, x, y, h * 0.45 / z, tree)
            else:
                _round_tree(d, x, y, h * 0.38 / z, tree, crown)


def _books(s: _Scene) -> None:
    ink, dark, mid, light, pale, acc = s.pal
    w, h, u, rng, d = s.w, s.h, s.u, s.rng, s.draw
    wall = _mix(pale, light, 0.25)
    s.paste(_gradient((w, h), wall, _mix(wall, light, 0.4)))
    for x in range(0, w, int(u * 6)):
        d.rectangle((x, 0, x + u * 3, h), fill=_a(WHITE, 30))
    shelves = 3 if h > w * 0.75 else 2
    top, bottom = h * 0.08, h * 0.94
    row_h = (bottom - top) / shelves
    plank = u * 2.4
    wood = _mix(dark, ink, 0.3)
    colors = (ink, dark, mid, light, acc, _mix(acc, dark, 0.35), _mix(mid, WHITE, 0.5), _mix(dark, acc, 0.5))
    for r in range(shelves):
        base = top + row_h * (r + 1) - plank
        x = u * 5
        end = w - u * 5
        plant_at = rng.uniform(0.55, 0.8) * w if rng.random() < 0.6 else -1.0
        while x < end - u * 4:
            if plant_at > 0 and x > plant_at:
                # A potted plant instead of books.
                pw = u * 8
                pot = _mix(acc, WHITE, 0.15)
                leaf = _mix(dark, mid, 0.35)
                for ang in (-60, -30, 0, 30, 60):
                    rad = math.radians(ang - 90)
                    lx, ly = x + pw / 2 + math.cos(rad) * u * 7, base - u * 6 + math.sin(rad) * u * 7
                    d.line((x + pw / 2, base - u * 5, lx, ly), fill=leaf, width=int(u * 2.2))
                    _circle(d, lx, ly, u * 1.6, leaf)
                d.polygon(
                    [(x, base - u * 6), (x + pw, base - u * 6), (x + pw * 0.82, base), (x + pw * 0.18, base)], fill=pot
                )
                x += pw + u * 3
                plant_at = -1.0
                continue
            bw = u * rng.uniform(2.6, 5.2)
            bh = row_h * rng.uniform(0.55, 0.82)
            col = rng.choice(colors)
            if rng.random() < 0.08 and x + bh < end:
                # A short stack of books lying flat.
                length = bh * 0.8
                y1 = base
                for _ in range(rng.randint(2, 4)):
                    thick = u * rng.uniform(2.8, 4.2)
                    inset = u * rng.uniform(0, 1.5)
                    d.rectangle((x + inset, y1 - thick, x + length - inset, y1), fill=rng.choice(colors))
                    d.rectangle(
                        (x + inset + u, y1 - thick * 0.6, x + inset + u * 2, y1 - thick * 0.4), fill=_a(WHITE, 110)
                    )
                    y1 -= thick
                x += length + u * 1.2
                continue
            if rng.random() < 0.06:
                # A leaning book resting on its bottom-right corner.
                ang = math.radians(rng.uniform(12, 22))
                lean_w = bh * math.sin(ang) + bw * math.cos(ang)
                ox = x + lean_w
                corners = [(ox, base), (ox - bw * math.cos(ang), base - bw * math.sin(ang))]
                tx, ty = -bh * math.sin(ang), -bh * math.cos(ang)
                corners += [(corners[1][0] + tx, corners[1][1] + ty), (ox + tx, base + ty)]
                d.polygon(corners, fill=col)
                x += lean_w + u * 1.5
                continue
            d.rectangle((x, base - bh, x + bw, base), fill=col)
            band = _a(WHITE, 110) if col not in (light, _mix(mid, WHITE, 0.5)) else _a(ink, 70)
            style = rng.random()
            if style < 0.5:
                d.rectangle((x, base - bh + u * 1.5, x + bw, base - bh + u * 2.1), fill=band)
                d.rectangle((x, base - u * 2.1, x + bw, base - u * 1.5), fill=band)
            elif style < 0.8:
                d.rounded_rectangle(
                    (x + bw * 0.22, base - bh * 0.7, x + bw * 0.78, base - bh * 0.35), radius=u * 0.5, fill=band
                )
            x += bw + u * rng.uniform(0.1, 0.5)
        d.rectangle((0, base, w, base + plank), fill=wood)
        d.rectangle((0, base + plank, w, base + plank + u * 1.2), fill=_a(ink, 50))


def _fabric(s: _Scene) -> None:
    ink, dark, mid, light, pale, acc = s.pal
    w, h, u, rng, d = s.w, s.h, s.u, s.rng, s.draw
    style = rng.choice(("plaid", "chevron", "dots", "quilt"))
    if style == "plaid":
        d.rectangle((0, 0, w, h), fill=mid)
        sett = [(u * rng.uniform(3, 9), rng.choice((ink, dark, dark, light))) for _ in range(rng.randint(3, 5))]
        sett.insert(rng.randrange(len(sett)), (u * 0.8, rng.choice((acc, WHITE))))
        period = sum(sw for sw, _ in sett) + u * 8
        for vertical in (True, False):
            pos = 0.0
            while pos < max(w, h):
                p = pos
                for sw, col in sett:
                    box = (p, 0, p + sw, h) if vertical else (0, p, w, p + sw)
                    d.rectangle(box, fill=_a(col, 200 if sw < u * 2 else 130))
                    p += sw + u * 1.2
                pos += period
        step = max(4, int(u * 0.6))
        for x in range(-h, w, step):
            d.line((x, 0, x + h, h), fill=_a(ink, 16), width=1)
    elif style == "chevron":
        band = u * rng.uniform(5, 8)
        cols = (dark, mid, light, pale, acc)
        offset = rng.randrange(len(cols))
        row = 0
        y = -band * 2
        while y < h + band:
            pts = []
            x = 0.0
            k = 0
            while x <= w + band * 2:
                pts.append((x, y + (band if k % 2 else 0)))
                x += band
                k += 1
            poly = pts + [(px, py + band) for px, py in reversed(pts)]
            d.polygon(poly, fill=cols[(row + offset) % len(cols)])
            y += band
            row += 1
    elif style == "dots":
        base, dot, small = rng.choice(((dark, pale, acc), (mid, WHITE, dark), (pale, mid, acc)))
        d.rectangle((0, 0, w, h), fill=base)
        g = u * rng.uniform(6, 9)
        for yi in range(int(h / g) + 2):
            for xi in range(int(w / g) + 2):
                cx = xi * g + (g / 2 if yi % 2 else 0)
                _circle(d, cx, yi * g, g * 0.22, dot)
                _circle(d, cx + g / 2, yi * g + g / 2 - (g / 2 if yi % 2 else 0) + g / 2 * (yi % 2), g * 0.07, small)
    else:
        g = u * rng.uniform(9, 14)
        cols = (dark, mid, light, pale, acc)
        for yi in range(int(h / g) + 1):
            for xi in range(int(w / g) + 1):
                x, y = xi * g, yi * g
                a, b = rng.sample(cols, 2)
                d.rectangle((x, y, x + g, y + g), fill=a)
                if rng.random() < 0.5:
                    d.polygon([(x, y), (x + g, y), (x, y + g)], fill=b)
                else:
                    d.polygon([(x + g, y), (x + g, y + g), (x, y)], fill=b)
                d.rectangle((x, y, x + g, y + g), outline=_a(WHITE, 60), width=max(1, int(u * 0.2)))
    # Soft folds: a low-frequency light/dark wave applied with soft light.
    fold = Image.new("L", (64, 36))
    phase = rng.uniform(0, _TAU)
    freq = rng.uniform(1.5, 2.5)
    fold.putdata(
        [int(128 + 48 * math.sin(freq * _TAU * (x / 64 + y / 36 * 0.3) + phase)) for y in range(36) for x in range(64)]
    )

    def folds(img: Image.Image) -> Image.Image:
        shade = fold.resize(img.size, Image.Resampling.BICUBIC).convert("RGB")
        return ImageChops.soft_light(img, shade)

    s.post.append(folds)
    # Hem with a running stitch.
    hem = h - u * 9
    d.rectangle((0, hem, w, h), fill=_a(ink, 45))
    dash = u * 2.2
    x = u
    while x < w:
        d.line((x, hem + u * 4, x + dash, hem + u * 4), fill=_a(WHITE, 200), width=max(2, int(u * 0.5)))
        x += dash * 2


def _palette_art(s: _Scene) -> None:
    ink, dark, mid, light, pale, acc = s.pal
    w, h, u, rng, d = s.w, s.h, s.u, s.rng, s.draw
    paper = _mix(pale, WHITE, 0.45)
    d.rectangle((0, 0, w, h), fill=paper)
    paints = (dark, mid, light, acc, _mix(acc, WHITE, 0.4), ink)
    for _ in range(rng.randint(3, 5)):
        y0 = rng.uniform(0.1, 0.9) * h
        y2 = rng.uniform(0.1, 0.9) * h
        p0, p2 = (-u * 5, y0), (w + u * 5, y2)
        p1 = (w * rng.uniform(0.3, 0.7), (y0 + y2) / 2 + rng.uniform(-0.3, 0.3) * h)
        path = _bezier(p0, p1, p2, 48)
        col = rng.choice(paints[:5])
        d.polygon(_stroke(path, u * rng.uniform(7, 13)), fill=_a(col, 200))
        for k in range(3):
            off = u * (k - 1) * 2
            d.line([(x, y + off) for x, y in path[4:-4]], fill=_a(paper, 60), width=max(1, int(u * 0.3)))
    # Painter's palette: an organic board with a thumb hole and paint dabs.
    cx, cy = w * rng.uniform(0.42, 0.58), h * 0.52
    rx, ry = min(w * 0.3, h * 0.62), h * 0.36
    bx0, by0 = int(cx - rx * 1.3), int(cy - ry * 1.3)
    bw, bh = int(rx * 2.6), int(ry * 2.6)
    mask = Image.new("L", (bw, bh), 0)
    md = ImageDraw.Draw(mask)
    md.polygon([(x - bx0, y - by0) for x, y in _blob(cx, cy, rx, ry, rng, 0.06)], fill=255)
    hole = math.radians(155)
    _circle(md, cx - bx0 + math.cos(hole) * rx * 0.58, cy - by0 + math.sin(hole) * ry * 0.5, u * 5, 0)
    notch = math.radians(118)
    _circle(md, cx - bx0 + math.cos(notch) * rx * 0.98, cy - by0 + math.sin(notch) * ry * 0.98, u * 9, 0)
    shadow = Image.new("RGB", (bw, bh), _mix(paper, ink, 0.25))
    s.img.paste(shadow, (bx0 + int(u * 1.5), by0 + int(u * 2.5)), mask)
    board = Image.new("RGB", (bw, bh), _mix(acc, WHITE, 0.55))
    s.img.paste(board, (bx0, by0), mask)
    dab_colors = [*list(paints), WHITE, _mix(mid, acc, 0.5)]
    rng.shuffle(dab_colors)
    for i, col in enumerate(dab_colors[:7]):
        ang = math.radians(-165 + i * 36)
        dx, dy = cx + math.cos(ang) * rx * 0.66, cy + math.sin(ang) * ry * 0.62
        d.polygon(_blob(dx, dy, u * 4.2, u * 3.6, rng, 0.15), fill=col)
    # A brush lying across the board.
    bx, by = cx + rx * 0.1, cy + ry * 0.9
    ang = math.radians(rng.uniform(-35, -20))
    ux, uy = math.cos(ang), math.sin(ang)
    handle_len, ferrule = rx * 1.1, u * 6
    hx, hy = bx + ux * handle_len, by + uy * handle_len
    d.line((bx, by, hx, hy), fill=dark, width=int(u * 2.6))
    _circle(d, bx, by, u * 1.3, dark)
    fx, fy = hx + ux * ferrule, hy + uy * ferrule
    d.line((hx, hy, fx, fy), fill=(200, 204, 210), width=int(u * 3))
    nx, ny = -uy, ux
    tip = rng.choice(paints[1:5])
    d.polygon(
        [
            (fx + nx * u * 1.7, fy + ny * u * 1.7),
            (fx - nx * u * 1.7, fy - ny * u * 1.7),
            (fx + ux * u * 7, fy + uy * u * 7),
        ],
        fill=tip,
    )


def _map(s: _Scene) -> None:
    ink, dark, mid, light, pale, acc = s.pal
    w, h, u, rng, d = s.w, s.h, s.u, s.rng, s.draw
    street = WHITE
    d.rectangle((0, 0, w, h), fill=street)
    land = _mix(pale, (236, 232, 224), 0.5)
    park = _mix(light, pale, 0.35)

    def grid(total: float, cell: float) -> list[float]:
        lines, p = [-cell * 0.3], -cell * 0.3
        while p < total + cell:
            p += cell * rng.uniform(0.7, 1.3)
            lines.append(p)
        return lines

    xs, ys = grid(w, u * 14), grid(h, u * 12)
    sw = u * 1.1
    for j in range(len(ys) - 1):
        for i in range(len(xs) - 1):
            fill = park if rng.random() < 0.12 else land
            d.rounded_rectangle((xs[i] + sw, ys[j] + sw, xs[i + 1] - sw, ys[j + 1] - sw), radius=u, fill=fill)
            if fill is land and rng.random() < 0.35:
                bx0, by0, bx1, by1 = xs[i] + sw * 2.5, ys[j] + sw * 2.5, xs[i + 1] - sw * 2.5, ys[j + 1] - sw * 2.5
                mx = bx0 + (bx1 - bx0) * rng.uniform(0.35, 0.65)
                d.rectangle((bx0, by0, mx - sw * 0.5, by1), fill=_mix(land, dark, 0.07))
                d.rectangle(
                    (mx + sw * 0.5, by0, bx1, by0 + (by1 - by0) * rng.uniform(0.4, 0.8)), fill=_mix(land, dark, 0.07)
                )
            if fill is park:
                for _ in range(3):
                    _circle(
                        d,
                        rng.uniform(xs[i] + u * 3, xs[i + 1] - u * 3),
                        rng.uniform(ys[j] + u * 3, ys[j + 1] - u * 3),
                        u * 1.2,
                        _mix(park, dark, 0.25),
                    )
    # A river winding through the blocks.
    water = _mix(light, mid, 0.2)
    vertical = rng.random() < 0.5
    if vertical:
        x0 = w * rng.uniform(0.1, 0.3)
        river = _bezier(
            (x0, -u * 5), (x0 + w * rng.uniform(-0.1, 0.2), h * 0.5), (x0 + w * rng.uniform(-0.05, 0.1), h + u * 5), 40
        )
    else:
        y0 = h * rng.uniform(0.7, 0.85)
        river = _bezier((-u * 5, y0), (w * 0.5, y0 + h * rng.uniform(-0.2, 0.2)), (w + u * 5, y0 - h * 0.1), 40)
    d.line(river, fill=water, width=int(u * 7), joint="curve")
    # Main streets cross the river on bridges.
    major = _mix(acc, WHITE, 0.55)
    for k in rng.sample(range(1, len(xs) - 1), 2):
        d.line((xs[k], 0, xs[k], h), fill=major, width=int(sw * 2))
    for k in rng.sample(range(1, len(ys) - 1), 1):
        d.line((0, ys[k], w, ys[k]), fill=major, width=int(sw * 2))
    # Route along the streets from A to B, kept well inside the frame.
    inner_x = [i for i, x in enumerate(xs) if 0.12 * w < x < 0.88 * w]
    inner_y = [j for j, y in enumerate(ys) if 0.3 * h < y < 0.85 * h]
    i0 = rng.choice(inner_x[: max(1, len(inner_x) // 3)])
    i1 = rng.choice(inner_x[len(inner_x) * 2 // 3 :])
    j0, j1 = rng.sample(inner_y, 2) if len(inner_y) > 1 else (inner_y[0], inner_y[0])
    im = rng.choice([i for i in inner_x if i0 < i < i1] or [i1])
    route = [(xs[i0], ys[j0]), (xs[im], ys[j0]), (xs[im], ys[j1]), (xs[i1], ys[j1])]
    if rng.random() < 0.5:
        route = route[::-1]
    d.line(route, fill=WHITE, width=int(u * 3.4), joint="curve")
    d.line(route, fill=dark, width=int(u * 2), joint="curve")
    for x, y in route[1:-1]:
        _circle(d, x, y, u * 1.0, dark)
    sx, sy = route[0]
    _circle(d, sx, sy, u * 2.4, WHITE)
    _circle(d, sx, sy, u * 1.6, dark)
    # Map pin at the destination.
    px, py = route[-1]
    r = u * 4.2
    d.ellipse((px - r * 0.7, py - r * 0.25, px + r * 0.7, py + r * 0.25), fill=_a(ink, 60))
    pc = (px, py - r * 1.9)
    d.polygon([(pc[0] - r * 0.87, pc[1] + r * 0.5), (pc[0] + r * 0.87, pc[1] + r * 0.5), (px, py)], fill=acc)
    _circle(d, pc[0], pc[1], r, acc)
    _circle(d, pc[0], pc[1], r * 0.42, WHITE)


def _sky_art(s: _Scene) -> None:
    ink, dark, mid, light, pale, _acc = s.pal
    w, h, u, rng, d = s.w, s.h, s.u, s.rng, s.draw
    s.paste(_gradient((w, h), _mix(mid, light, 0.3), _mix(pale, WHITE, 0.3)))
    _sun(s, rng.uniform(0.15, 0.85) * w, rng.uniform(0.2, 0.45) * h, u * 10, _sun_color(s.pal, 0.45), 5)
    clouds = sorted((rng.uniform(0.25, 1.0), rng.uniform(-0.05, 1.05) * w) for _ in range(rng.randint(5, 7)))
    for depth, x in clouds:
        y = h * (0.25 + 0.6 * depth) + rng.uniform(-0.08, 0.08) * h
        width = u * (18 + 40 * depth)
        _cloud(d, x, y + width * 0.06, width, _mix(light, WHITE, 0.35 + 0.2 * depth), rng)
        _cloud(d, x, y, width, _mix(light, WHITE, 0.55 + 0.45 * depth), rng)
    fx, fy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.15, 0.35) * h
    for _ in range(rng.randint(4, 7)):
        span = u * rng.uniform(3, 6)
        _bird(
            d,
            fx + rng.uniform(-18, 18) * u,
            fy + rng.uniform(-8, 8) * u,
            span,
            _mix(ink, dark, 0.3),
            max(2, int(u * 0.5)),
        )


def _boat(
    d: ImageDraw.ImageDraw, x: float, water: float, size: float, hull: Color, sail: Color, sail2: Color, refl: Color
) -> None:
    deck = water - size * 0.3
    mast_top = water - size * 2.2
    # Mirror image on the water, squashed and faded.
    d.polygon(
        [
            (x - size * 0.8, water),
            (x + size * 0.75, water),
            (x + size, water + size * 0.22),
            (x - size, water + size * 0.22),
        ],
        fill=_a(refl, 70),
    )
    d.polygon(
        [
            (x + size * 0.06, water + size * 0.28),
            (x + size * 0.85, water + size * 0.28),
            (x + size * 0.06, water + size * 1.1),
        ],
        fill=_a(refl, 45),
    )
    d.polygon(
        [
            (x - size * 0.06, water + size * 0.28),
            (x - size * 0.7, water + size * 0.28),
            (x - size * 0.06, water + size * 0.95),
        ],
        fill=_a(refl, 45),
    )
    d.polygon([(x - size, deck), (x + size, deck), (x + size * 0.75, water), (x - size * 0.8, water)], fill=hull)
    d.line((x, deck, x, mast_top), fill=hull, width=max(2, int(size * 0.06)))
    d.polygon(
        [
            (x + size * 0.06, mast_top + size * 0.1),
            (x + size * 0.06, deck - size * 0.12),
            (x + size * 0.85, deck - size * 0.12),
        ],
        fill=sail,
    )
    d.polygon(
        [
            (x - size * 0.06, mast_top + size * 0.35),
            (x - size * 0.06, deck - size * 0.12),
            (x - size * 0.7, deck - size * 0.12),
        ],
        fill=sail2,
    )


def _harbor(s: _Scene) -> None:
    ink, dark, mid, light, pale, acc = s.pal
    w, h, u, rng, d = s.w, s.h, s.u, s.rng, s.draw
    _sky(s, 0.25)
    _sun(s, rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.28) * h, u * 7, _sun_color(s.pal, 0.3))
    water = h * rng.uniform(0.56, 0.62)
    # Far shore with hills and little houses.
    shore = _wave(w, water - u * 6, u * 4, rng)
    _fill_below(d, shore, h, _mix(light, mid, 0.45))
    for _ in range(rng.randint(6, 10)):
        hx = rng.uniform(0, w)
        hy = water - u * rng.uniform(0.5, 2.5)
        hw, hh = u * rng.uniform(3, 5), u * rng.uniform(2.5, 4)
        col = rng.choice((WHITE, pale, _mix(acc, WHITE, 0.4), _mix(mid, WHITE, 0.3)))
        d.rectangle((hx, hy - hh, hx + hw, hy), fill=col)
        d.polygon(
            [(hx - u * 0.5, hy - hh), (hx + hw / 2, hy - hh - u * 2), (hx + hw + u * 0.5, hy - hh)],
            fill=_mix(dark, acc, 0.3),
        )
    d.rectangle((0, water, w, h), fill=_mix(mid, light, 0.3))
    for k in range(1, 8):
        y = water + (h - water) * (k / 8) ** 1.2
        for _ in range(3 + k):
            x = rng.uniform(0, w)
            span = u * (1.5 + k * 0.9)
            d.line((x, y, x + span, y), fill=_a(WHITE, 90), width=max(2, int(u * 0.35)))
    # Lighthouse on a rocky jetty.
    lx = w * rng.choice((rng.uniform(0.08, 0.2), rng.uniform(0.8, 0.92)))
    rock = _mix(dark, ink, 0.3)
    d.polygon(_blob(lx, water + u, u * 9, u * 3.5, rng, 0.1), fill=rock)
    base, top = water - u, water - u * 28
    bw, tw = u * 3.4, u * 2.2
    stripe = _mix(acc, dark, 0.1)
    for k in range(4):
        y0 = base + (top - base) * k / 4
        y1 = base + (top - base) * (k + 1) / 4
        half0 = bw + (tw - bw) * k / 4
        half1 = bw + (tw - bw) * (k + 1) / 4
        d.polygon(
            [(lx - half0, y0), (lx + half0, y0), (lx + half1, y1), (lx - half1, y1)], fill=WHITE if k % 2 else stripe
        )
    d.rectangle((lx - tw * 1.3, top - u * 0.8, lx + tw * 1.3, top), fill=ink)
    beam_y = top - u * 2.8
    for sign in (-1, 1):
        d.polygon(
            [(lx, beam_y), (lx + sign * w * 0.3, beam_y - u * 6), (lx + sign * w * 0.3, beam_y + u * 5)],
            fill=_a(_mix(acc, WHITE, 0.5), 70),
        )
    d.rectangle((lx - tw, top - u * 4.5, lx + tw, top - u * 0.8), fill=_mix(acc, WHITE, 0.5))
    d.pieslice((lx - tw * 1.1, top - u * 7, lx + tw * 1.1, top - u * 2.5), 180, 360, fill=ink)
    # Sailboats.
    count = rng.randint(2, 4)
    slots = rng.sample(range(5), count)
    boats = []
    for slot in slots:
        bx = (0.26 + 0.12 * slot + rng.uniform(-0.03, 0.03)) * w
        depth = rng.uniform(0.12, 0.55)
        boats.append((depth, bx))
    for depth, bx in sorted(boats):
        by = water + (h - water) * depth
        size = u * rng.uniform(4.5, 6.5) * (0.6 + depth)
        _boat(d, bx, by, size, _mix(dark, ink, 0.3), WHITE, _mix(_sun_color(s.pal, 0.1), WHITE, 0.3), WHITE)
    # Wooden pier in the foreground.
    if rng.random() < 0.7:
        py = h - u * 9
        left = rng.random() < 0.5
        x0, x1 = (0, w * 0.35) if left else (w * 0.65, w)
        wood = _mix(dark, acc, 0.35)
        for k in range(6):
            px = x0 + (x1 - x0) * (k + 0.5) / 6
            d.rectangle((px - u * 0.8, py, px + u * 0.8, h), fill=_mix(wood, ink, 0.4))
        d.rectangle((x0, py - u * 2.5, x1, py), fill=wood)
        bollard_x = x1 - u * 4 if left else x0 + u * 4
        d.rounded_rectangle((bollard_x - u, py - u * 5, bollard_x + u, py - u * 2.5), radius=u * 0.6, fill=ink)


def _night(s: _Scene) -> None:
    ink, dark, _mid, _light, pale, acc = s.pal
    w, h, u, rng, d = s.w, s.h, s.u, s.rng, s.draw
    s.paste(_gradient((w, h), _mix(ink, (8, 10, 24), 0.5), _mix(dark, ink, 0.35)))
    star = _mix(pale, WHITE, 0.5)
    for _ in range(int(w * h / (u * u * 40))):
        x, y = rng.uniform(0, w), rng.uniform(0, h * 0.8)
        _circle(d, x, y, u * rng.uniform(0.12, 0.35), _a(star, rng.randint(90, 230)))
    for _ in range(rng.randint(4, 7)):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h * 0.6), u * rng.uniform(1, 1.8)
        d.polygon(
            [
                (x, y - r),
                (x + r * 0.22, y - r * 0.22),
                (x + r, y),
                (x + r * 0.22, y + r * 0.22),
                (x, y + r),
                (x - r * 0.22, y + r * 0.22),
                (x - r, y),
                (x - r * 0.22, y - r * 0.22),
            ],
            fill=star,
        )
    # Crescent moon: a disc minus an offset disc, pasted through a mask.
    mx, my, mr = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.32) * h, u * 9
    moon = _mix((252, 224, 150), pale, 0.25)
    for i in range(4, 0, -1):
        _circle(d, mx, my, mr * (1 + 0.3 * i), _a(moon, 14))
    size = int(mr * 2) + 2
    mask = Image.new("L", (size, size), 0)
    md = ImageDraw.Draw(mask)
    md.ellipse((0, 0, size - 1, size - 1), fill=255)
    off = mr * rng.uniform(0.4, 0.6)
    md.ellipse((off, -off * 0.5, size - 1 + off, size - 1 - off * 0.5), fill=0)
    s.img.paste(Image.new("RGB", (size, size), moon), (int(mx - mr), int(my - mr)), mask)
    if rng.random() < 0.6:
        # A shooting star.
        x, y = rng.uniform(0.1, 0.6) * w, rng.uniform(0.08, 0.2) * h
        for k in range(12):
            d.line(
                (x + k * u, y + k * u * 0.4, x + (k + 1) * u, y + (k + 1) * u * 0.4),
                fill=_a(star, 20 + k * 18),
                width=max(2, int(u * 0.4)),
            )
    far = _wave(w, h * 0.72, u * 5, rng)
    _fill_below(d, far, h, _mix(dark, ink, 0.55))
    near = _wave(w, h * 0.84, u * 4, rng)
    silhouette = _mix(ink, (5, 6, 14), 0.4)
    _fill_below(d, near, h, silhouette)
    for _ in range(rng.randint(6, 12)):
        tx = rng.uniform(0, w)
        ty = near[int(tx / w * (len(near) - 1))][1] + u * 1.5
        _pine(d, tx, ty, u * rng.uniform(9, 16), silhouette)
    # A cabin with a warm lit window.
    cx = rng.uniform(0.2, 0.8) * w
    cy = near[int(cx / w * (len(near) - 1))][1] + u * 2
    cw, ch = u * 9, u * 6
    for i in range(3, 0, -1):
        _circle(d, cx + cw * 0.67, cy - ch * 0.52, u * 2.5 * i, _a(moon, 12))
    d.rectangle((cx, cy - ch, cx + cw, cy), fill=silhouette)
    d.polygon([(cx - u, cy - ch), (cx + cw / 2, cy - ch - u * 4.5), (cx + cw + u, cy - ch)], fill=silhouette)
    d.rectangle((cx + cw * 0.55, cy - ch * 0.7, cx + cw * 0.8, cy - ch * 0.35), fill=_mix(acc, WHITE, 0.35))


_PAINTERS: dict[str, Callable[[_Scene], None]] = {
    "city": _city,
    "mountains": _mountains,
    "sea": _sea,
    "field": _field,
    "stadium": _stadium,
    "chart": _chart,
    "circuit": _circuit,
    "device": _device,
    "road": _road,
    "books": _books,
    "fabric": _fabric,
    "palette": _palette_art,
    "map": _map,
    "sky": _sky_art,
    "harbor": _harbor,
    "night": _night,
}


def _pick_palette(name: str | None, rng: random.Random) -> Palette:
    if name is None:
        return PALETTES[rng.choice(list(PALETTES))]
    try:
        return PALETTES[name]
    except KeyError:
        raise ValueError(f"unknown palette {name!r}; choose from {', '.join(PALETTES)}") from None


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def illustration(
    motif: str,
    seed: int,
    size: tuple[int, int] = (1200, 675),
    palette: str | None = None,
) -> Image.Image:
    """Draw a flat-design RGB scene for ``motif``; deterministic in all arguments.

    ``palette`` names an entry of :data:`PALETTES`; when omitted one is chosen
    from the seed. Raises ``ValueError`` for an unknown motif or palette.
    """
    painter = _PAINTERS.get(motif)
    if painter is None:
        raise ValueError(f"unknown motif {motif!r}; choose from {', '.join(MOTIFS)}")
    width, height = int(size[0]), int(size[1])
    if width < 1 or height < 1:
        raise ValueError(f"invalid size {size!r}")
    rng = random.Random(f"masthead-art:{motif}:{seed}")
    pal = _pick_palette(palette, rng)
    # Supersample; tiny targets are drawn at a workable minimum size first.
    scale = max(_SCALE, 96 / min(width, height))
    w, h = round(width * scale), round(height * scale)
    img = Image.new("RGB", (w, h), pal[4])
    scene = _Scene(img, ImageDraw.Draw(img, "RGBA"), rng, pal, w, h)
    painter(scene)
    out = img.resize((width, height), Image.Resampling.LANCZOS)
    for effect in scene.post:
        out = effect(out)
    return out


def avatar(seed: int, size: int = 256, palette: str | None = None) -> Image.Image:
    """Draw a square, face-free geometric emblem that also looks good cropped round."""
    if int(size) < 1:
        raise ValueError(f"invalid size {size!r}")
    rng = random.Random(f"masthead-avatar:{seed}")
    _ink, dark, mid, light, pale, acc = _pick_palette(palette, rng)
    n = int(size) * _SCALE
    bg, fg, alt = rng.choice(((mid, WHITE, pale), (light, dark, acc), (dark, light, acc), (pale, mid, acc)))
    img = Image.new("RGB", (n, n), bg)
    d = ImageDraw.Draw(img, "RGBA")
    c = n / 2
    style = rng.randrange(4)
    if style == 0:
        # Symmetric identicon with rounded cells.
        cells = 5
        cell = n * 0.56 / cells
        x0 = c - cell * cells / 2
        bits = [[rng.random() < 0.5 for _ in range(3)] for _ in range(cells)]
        if sum(map(sum, bits)) < 5:
            bits[2] = [True, True, True]
        for r, row in enumerate(bits):
            for k, on in enumerate(row):
                if not on:
                    continue
                col = alt if rng.random() < 0.15 else fg
                for cc in {k, cells - 1 - k}:
                    x, y = x0 + cc * cell, x0 + r * cell
                    d.rounded_rectangle(
                        (x + cell * 0.06, y + cell * 0.06, x + cell * 0.94, y + cell * 0.94),
                        radius=cell * 0.28,
                        fill=col,
                    )
    elif style == 1:
        # Rosette of rounded lens-shaped petals.
        petals = rng.randint(5, 8)
        length = n * rng.uniform(0.3, 0.34)
        fat = rng.uniform(0.32, 0.42)
        rot = rng.uniform(0, _TAU)
        steps = 32
        for i in range(petals):
            a = rot + _TAU * i / petals
            ca, sa = math.cos(a), math.sin(a)
            pts = []
            for j in [*range(steps + 1), *range(steps, -1, -1)]:
                t = j / steps
                side = math.sin(math.pi * t) ** 0.7 * length * fat / 2
                side = side if len(pts) <= steps else -side
                pts.append((c + ca * length * t - sa * side, c + sa * length * t + ca * side))
            d.polygon(pts, fill=fg if i % 2 == 0 or petals % 2 else _mix(fg, bg, 0.3))
        _circle(d, c, c, n * 0.08, alt)
    elif style == 2:
        # Concentric ring segments with rounded caps.
        base = rng.uniform(0, 360)
        width = n * 0.055
        for k, r in enumerate((0.32, 0.23, 0.14)):
            rr = n * r
            start = base + k * rng.choice((90, 120, 180))
            span = rng.uniform(230, 290)
            col = alt if k == 1 else fg
            box = (c - rr, c - rr, c + rr, c + rr)
            d.arc(box, start, start + span, fill=col, width=int(width))
            mid_r = rr - width / 2
            for ang in (start, start + span):
                rad = math.radians(ang)
                _circle(d, c + math.cos(rad) * mid_r, c + math.sin(rad) * mid_r, width / 2, col)
        _circle(d, c, c, n * 0.05, fg)
    else:
        # Bauhaus tiles: quarter circles and halves on a 2x2 grid.
        g = n * 0.27
        x0 = c - g
        for r in range(2):
            for k in range(2):
                x, y = x0 + k * g, x0 + r * g
                col = rng.choice((fg, fg, alt))
                shape = rng.randrange(3)
                if shape == 0:
                    corner = rng.randrange(4)
                    cx = x if corner in (0, 3) else x + g
                    cy = y if corner in (0, 1) else y + g
                    start = (0, 90, 180, 270)[corner]
                    d.pieslice((cx - g, cy - g, cx + g, cy + g), start, start + 90, fill=col)
                elif shape == 1:
                    _circle(d, x + g / 2, y + g / 2, g * 0.42, col)
                else:
                    start = rng.choice((0, 90, 180, 270))
                    d.pieslice((x, y, x + g, y + g), start, start + 180, fill=col)
    return img.resize((int(size), int(size)), Image.Resampling.LANCZOS)


def to_bytes(image: Image.Image, fmt: str = "JPEG", quality: int = 85) -> bytes:
    """Encode ``image`` as JPEG (converted to RGB), PNG or WEBP, optimized."""
    fmt = fmt.upper()
    if fmt == "JPG":
        fmt = "JPEG"
    buf = io.BytesIO()
    if fmt == "JPEG":
        if image.mode != "RGB":
            image = image.convert("RGB")
        image.save(buf, "JPEG", quality=quality, optimize=True, progressive=True)
    elif fmt == "WEBP":
        image.save(buf, "WEBP", quality=quality, method=4)
    else:
        image.save(buf, fmt, optimize=True)
    return buf.getvalue()
