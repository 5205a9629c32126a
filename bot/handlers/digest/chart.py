"""The maturity trend as a small PNG for the weekly digest, drawn with Pillow: one line
chart does not justify a plotting library's weight in every replica.

Weeks without a score (not enough data) are gaps in the line, never zeros, so a quiet month
does not look like a collapse. The stage thresholds of METRICS.md are drawn as guides."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 44, 84, 34, 36
INK = (55, 65, 81)
GRID = (229, 231, 235)
LINE = (37, 99, 235)
BACKGROUND = (255, 255, 255)
STAGES = (
    (20, "Presence"),
    (40, "Engagement"),
    (55, "Formalized"),
    (70, "Strategic"),
    (85, "Converged"),
)


def point_xy(index: int, count: int, score: float) -> tuple[int, int]:
    """Where the score of the `index`-th of `count` weeks is drawn (0-100 upwards)."""
    span = WIDTH - LEFT - RIGHT
    x = LEFT + (span * index // (count - 1) if count > 1 else span // 2)
    y = TOP + round((HEIGHT - TOP - BOTTOM) * (1 - max(0.0, min(100.0, score)) / 100))
    return x, y


def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's own scalable font (no file to ship); the bitmap one without FreeType."""
    try:
        return ImageFont.load_default(size=12)
    except (ValueError, OSError):
        return ImageFont.load_default()


def trend_png(points: Sequence[tuple[str, int | None]], *, title: str) -> bytes:
    """A line chart of (week label, score or None) pairs, oldest first."""
    if not points:
        raise ValueError("a trend chart needs at least one week")
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = _font()
    draw.text((LEFT, 10), title, fill=INK, font=font)
    for value in (0, 100):
        _, y = point_xy(0, 1, value)
        draw.line([(LEFT, y), (WIDTH - RIGHT, y)], fill=GRID)
        draw.text((8, y - 6), str(value), fill=INK, font=font)
    for value, stage in STAGES:
        _, y = point_xy(0, 1, value)
        draw.line([(LEFT, y), (WIDTH - RIGHT, y)], fill=GRID)
        draw.text((WIDTH - RIGHT + 6, y - 6), stage, fill=INK, font=font)
    count = len(points)
    previous: tuple[int, int] | None = None
    for index, (label, score) in enumerate(points):
        x, _ = point_xy(index, count, 0)
        draw.text((x - 12, HEIGHT - BOTTOM + 8), label, fill=INK, font=font)
        if score is None:
            previous = None
            continue
        xy = point_xy(index, count, score)
        if previous is not None:
            draw.line([previous, xy], fill=LINE, width=3)
        draw.ellipse([xy[0] - 4, xy[1] - 4, xy[0] + 4, xy[1] + 4], fill=LINE)
        previous = xy
    last = next(((i, s) for i, (_, s) in reversed(list(enumerate(points))) if s is not None), None)
    if last is not None:
        x, y = point_xy(last[0], count, last[1])
        draw.text((x - 8, y - 20), str(last[1]), fill=LINE, font=font)
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
