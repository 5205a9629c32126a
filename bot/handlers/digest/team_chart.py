"""A team's weeks as a PNG for its weekly digest: bars of the flags routed to it (right
axis) and its first-response p50 in business hours as a line (left axis) against its SLA,
a dashed line. Drawn with Pillow like the maturity trend (bot.handlers.digest.chart).

Colours are from the Okabe-Ito palette, told apart by colour-blind readers, and each series
also differs in shape (bars, a solid line with dots, a dashed line), so the chart reads in
greyscale too. A week with no first response is a gap in the line, never a zero."""

from __future__ import annotations

import math
from io import BytesIO

from PIL import Image, ImageDraw, ImageFont

from bot.core.timecalc import format_duration
from bot.handlers.digest.series import TeamSeries

WIDTH, HEIGHT = 720, 360
LEFT, RIGHT, TOP, BOTTOM = 70, 56, 64, 52
INK = (33, 37, 41)
MUTED = (90, 98, 110)
GRID = (229, 231, 235)
BACKGROUND = (255, 255, 255)
LINE = (0, 114, 178)  # Okabe-Ito blue: the p50
SLA = (213, 94, 0)  # Okabe-Ito vermillion: the SLA, dashed
BARS = (178, 216, 240)  # Okabe-Ito sky blue, lightened: the flags
HOUR = 3600.0
STEPS = (0.25, 0.5, 1, 2, 3, 4, 6, 8, 12, 24, 48, 72, 168, 336)  # hours between gridlines


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (ValueError, OSError):  # a Pillow without FreeType: the bitmap font
        return ImageFont.load_default()


def time_scale(series: TeamSeries) -> tuple[float, float]:
    """(top of the left axis, gridline step), in hours: the SLA and every p50 fit under
    four steps, the same four the right axis is divided in, so both share the gridlines."""
    highest = max([series.sla_seconds * 1.25, *(p.p50 * 1.1 for p in series.points if p.p50)])
    hours = highest / HOUR
    step = next((s for s in STEPS if 4 * s >= hours), STEPS[-1])
    return 4 * step, step


def count_scale(series: TeamSeries) -> int:
    """The top of the right axis (flags): a whole number at least 4, so ticks are whole."""
    most = max(p.flags for p in series.points)
    return max(4, 4 * math.ceil(most / 4))


def plot_x(index: int, count: int) -> int:
    span = WIDTH - LEFT - RIGHT
    return LEFT + round(span * (index + 0.5) / count)


def plot_y(fraction: float) -> int:
    """0 at the axis, 1 at the top of the plot."""
    return TOP + round((HEIGHT - TOP - BOTTOM) * (1 - max(0.0, min(1.0, fraction))))


def _dashed(draw: ImageDraw.ImageDraw, y: int, colour: tuple[int, int, int]) -> None:
    for x in range(LEFT, WIDTH - RIGHT, 12):
        draw.line([(x, y), (min(x + 7, WIDTH - RIGHT), y)], fill=colour, width=2)


def _legend(
    draw: ImageDraw.ImageDraw,
    series: TeamSeries,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
) -> None:
    x, y = LEFT, 36
    draw.rectangle([x, y + 2, x + 14, y + 12], fill=BARS, outline=MUTED)
    draw.text((x + 20, y), "flags routed (right axis)", fill=INK, font=font)
    x += 200
    draw.line([(x, y + 7), (x + 22, y + 7)], fill=LINE, width=3)
    draw.ellipse([x + 7, y + 3, x + 15, y + 11], fill=LINE)
    draw.text((x + 28, y), "first response p50 (business hours)", fill=INK, font=font)
    x += 262
    draw.line([(x, y + 7), (x + 7, y + 7)], fill=SLA, width=2)
    draw.line([(x + 12, y + 7), (x + 19, y + 7)], fill=SLA, width=2)
    draw.text((x + 26, y), f"SLA {format_duration(series.sla_seconds)}", fill=INK, font=font)


def team_png(series: TeamSeries) -> bytes:
    """The chart of one team's weeks (see the module docstring)."""
    if not series.points:
        raise ValueError("a team chart needs at least one week")
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font, small, bold = _font(12), _font(11), _font(14)
    count = len(series.points)
    top_hours, step = time_scale(series)
    top_flags = count_scale(series)
    draw.text(
        (LEFT, 12),
        f"{series.name}: first response against the SLA, week by week",
        fill=INK,
        font=bold,
    )
    _legend(draw, series, font)
    # Gridlines and the left axis (hours).
    for n in range(5):
        y = plot_y(n / 4)
        draw.line([(LEFT, y), (WIDTH - RIGHT, y)], fill=GRID)
        label = format_duration(n * step * HOUR) if n else "0"
        draw.text((LEFT - 6, y), label, fill=MUTED, font=small, anchor="rm")
    # The right axis (flags), four whole steps.
    for n in range(5):
        y = plot_y(n / 4)
        draw.text(
            (WIDTH - RIGHT + 6, y), str(top_flags * n // 4), fill=MUTED, font=small, anchor="lm"
        )
    draw.text((14, TOP + (HEIGHT - TOP - BOTTOM) // 2), "p50", fill=INK, font=font, anchor="mm")
    draw.text(
        (WIDTH - 14, TOP + (HEIGHT - TOP - BOTTOM) // 2), "flags", fill=INK, font=font, anchor="mm"
    )
    # Bars first, so the lines are drawn over them.
    bar = max(6, (WIDTH - LEFT - RIGHT) // count // 2)
    for index, point in enumerate(series.points):
        x = plot_x(index, count)
        draw.text((x, HEIGHT - BOTTOM + 8), point.week, fill=INK, font=small, anchor="mt")
        if point.flags:
            y = plot_y(point.flags / top_flags)
            draw.rectangle([x - bar // 2, y, x + bar // 2, plot_y(0)], fill=BARS)
    draw.text(
        (LEFT + (WIDTH - LEFT - RIGHT) // 2, HEIGHT - 14),
        "ISO week",
        fill=MUTED,
        font=small,
        anchor="mm",
    )
    draw.line([(LEFT, plot_y(0)), (WIDTH - RIGHT, plot_y(0))], fill=MUTED)
    _dashed(draw, plot_y(series.sla_seconds / HOUR / top_hours), SLA)
    previous: tuple[int, int] | None = None
    for index, point in enumerate(series.points):
        if point.p50 is None:
            previous = None
            continue
        xy = (plot_x(index, count), plot_y(point.p50 / HOUR / top_hours))
        if previous is not None:
            draw.line([previous, xy], fill=LINE, width=3)
        previous = xy
    for index, point in enumerate(series.points):
        if point.p50 is not None:
            x, y = plot_x(index, count), plot_y(point.p50 / HOUR / top_hours)
            draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=LINE)
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def point_xy(series: TeamSeries, index: int) -> tuple[int, int] | None:
    """Where the p50 of the `index`-th week is drawn (tests look at that pixel)."""
    point = series.points[index]
    if point.p50 is None:
        return None
    top_hours, _ = time_scale(series)
    return plot_x(index, len(series.points)), plot_y(point.p50 / HOUR / top_hours)
