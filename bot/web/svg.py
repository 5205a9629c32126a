"""Small server-side SVG charts: a line chart, horizontal bars, a network of teams.

Each chart is one inline `<svg role="img">` with a `<title>` and a `<desc>` (what a screen
reader says) and a `<title>` on every point; it scales to its box (a viewBox, no fixed
width) and is coloured by CSS classes only, since the Content-Security-Policy allows no
inline style. Every text is escaped here: the output is safe to mark up.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

Fmt = Callable[[float], str]
_ids = itertools.count(1)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    css: str = "s0"  # s0..s5: the series' colour (dashboard.css)


def _nice_max(value: float) -> float:
    """A round top for the y axis, at least `value`."""
    if value <= 0:
        return 1.0
    step = float(10.0 ** math.floor(math.log10(value)))
    for m in (1, 2, 2.5, 5, 10):
        if m * step >= value:
            return m * step
    return 10 * step


_MINUTE, _HOUR, _DAY = 60, 3600, 86400
# Axis tops for durations whose quarters are round: 1m, 5m, 15m, 30m, 1h, 2h, 3h, 6h, 12h, 1d…
_DURATION_TOPS = [
    4 * _MINUTE, 20 * _MINUTE, _HOUR, 2 * _HOUR, 4 * _HOUR, 8 * _HOUR, 12 * _HOUR,
    _DAY, 2 * _DAY, 4 * _DAY, 8 * _DAY, 12 * _DAY, 28 * _DAY, 56 * _DAY,
]  # fmt: skip


def nice_duration(value: float) -> float:
    """A round top for a time axis (seconds), at least `value`."""
    return next((top for top in _DURATION_TOPS if top >= value), _nice_max(value))


def _open(title: str, desc: str, width: int, height: int) -> tuple[str, list[str]]:
    n = next(_ids)
    tid, did = f"chart{n}-t", f"chart{n}-d"
    head = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{tid} {did}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{tid}">{escape(title)}</title><desc id="{did}">{escape(desc)}</desc>'
    )
    return head, []


def line_chart(
    series: Sequence[Series],
    labels: Sequence[str],
    *,
    title: str,
    y_label: str,
    fmt: Fmt = _num,
    reference: tuple[float, str] | None = None,
    top: float | None = None,
    nice: Callable[[float], float] = _nice_max,
    width: int = 480,
    height: int = 220,
) -> Markup:
    """Lines over `labels` (one value per label; None leaves a gap), with a dashed
    reference line (an SLA, a target) when given; `nice` rounds the axis's top up."""
    left, right, upper, lower = 78, 12, 18, 36
    plot_w, plot_h = width - left - right, height - upper - lower
    values = [v for s in series for v in s.values if v is not None]
    ceiling = top or nice(max([*values, reference[0] if reference else 0.0], default=0.0))
    count = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / count)

    def y(v: float) -> float:
        return upper + plot_h * (1 - min(v, ceiling) / ceiling)

    summary = "; ".join(
        f"{s.name}: "
        + ", ".join(
            f"{lab} {fmt(v)}" for lab, v in zip(labels, s.values, strict=False) if v is not None
        )
        or f"{s.name}: no data"
        for s in series
    )
    head, parts = _open(title, summary, width, height)
    for k in range(5):  # gridlines and y ticks
        tick = ceiling * k / 4
        ty = y(tick)
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(tick))}</text>"
        )
    step = max(1, math.ceil(count / 6))  # at most 6 x labels, so they never overlap
    for i, lab in enumerate(labels):
        if (count - 1 - i) % step == 0:  # the latest week always labelled
            parts.append(
                f'<text class="tick" x="{x(i):.1f}" y="{height - lower + 16}" '
                f'text-anchor="middle">{escape(lab)}</text>'
            )
    parts.append(
        f'<text class="axis" x="12" y="{upper + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {upper + plot_h / 2:.1f})">{escape(y_label)}</text>'
    )
    if reference is not None:
        ry = y(reference[0])
        parts.append(
            f'<line class="ref" x1="{left}" x2="{width - right}" y1="{ry:.1f}" y2="{ry:.1f}">'
            f"<title>{escape(reference[1])}: {escape(fmt(reference[0]))}</title></line>"
            f'<text class="ref-label" x="{width - right}" y="{ry - 4:.1f}" text-anchor="end">'
            f"{escape(reference[1])}</text>"
        )
    for s in series:
        runs: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(s.values):
            if v is None:
                runs.append([])
            else:
                runs[-1].append((x(i), y(v)))
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
                parts.append(f'<polyline class="line {s.css}" points="{points}"/>')
        for i, v in enumerate(s.values):
            if v is not None:
                tip = f"{s.name}, {labels[i] if i < len(labels) else ''}: {fmt(v)}"
                parts.append(
                    f'<circle class="dot {s.css}" cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5">'
                    f"<title>{escape(tip)}</title></circle>"
                )
    if not values:
        parts.append(
            f'<text class="empty" x="{left + plot_w / 2:.1f}" y="{upper + plot_h / 2:.1f}" '
            'text-anchor="middle">no data in these weeks</text>'
        )
    return Markup(head + "".join(parts) + "</svg>")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    target: float | None = None
    note: str = ""  # shown after the value (e.g. "on track")


def bar_chart(
    bars: Sequence[Bar], *, title: str, fmt: Fmt = _num, top: float | None = None,
    width: int = 480,
) -> Markup:  # fmt: skip
    """Horizontal bars (labels read well on a phone), with a target tick when given."""
    row, left, right = 30, 134, 116
    height = row * max(len(bars), 1) + 12
    plot_w = width - left - right
    known = [b.value for b in bars if b.value is not None] + [
        b.target for b in bars if b.target is not None
    ]
    ceiling = top or _nice_max(max(known, default=0.0))
    desc = "; ".join(
        f"{b.label}: {'no data' if b.value is None else fmt(b.value)}"
        + (f" (target {fmt(b.target)})" if b.target is not None else "")
        for b in bars
    )
    head, parts = _open(title, desc or "no data", width, height)
    for i, b in enumerate(bars):
        y0 = 6 + i * row
        parts.append(
            f'<text class="label" x="{left - 8}" y="{y0 + 17}" text-anchor="end">'
            f"{escape(b.label[:16])}</text>"
            f'<rect class="track" x="{left}" y="{y0 + 4}" width="{plot_w}" height="18"/>'
        )
        shown = "no data" if b.value is None else fmt(b.value)
        if b.value is not None:
            w = plot_w * max(0.0, min(b.value, ceiling)) / ceiling
            parts.append(
                f'<rect class="bar" x="{left}" y="{y0 + 4}" width="{w:.1f}" height="18">'
                f"<title>{escape(b.label)}: {escape(shown)}</title></rect>"
            )
        if b.target is not None:
            tx = left + plot_w * max(0.0, min(b.target, ceiling)) / ceiling
            parts.append(
                f'<line class="target" x1="{tx:.1f}" x2="{tx:.1f}" y1="{y0}" y2="{y0 + 26}">'
                f"<title>target {escape(fmt(b.target))}</title></line>"
            )
        text = shown + (f" · {b.note}" if b.note else "")
        parts.append(
            f'<text class="value" x="{left + plot_w + 8}" y="{y0 + 17}">{escape(text)}</text>'
        )
    return Markup(head + "".join(parts) + "</svg>")


@dataclass(frozen=True)
class Node:
    key: str
    label: str
    shown: bool  # over the privacy floor: its own figures may be shown
    siloed: bool | None
    detail: str = ""


def network(nodes: Sequence[Node], edges: Sequence[tuple[str, str, int]], *, title: str) -> Markup:
    """Teams on a circle, ties as lines whose width grows with their weight; siloed teams
    ringed in the alarm colour, teams under the privacy floor drawn hollow. Names sit
    outside the circle, clear of the lines."""
    width, height = 560, 400
    cx, cy, radius = width / 2, height / 2, 140
    place: dict[str, tuple[float, float, float]] = {}
    for i, n in enumerate(nodes):
        angle = 2 * math.pi * i / max(len(nodes), 1) - math.pi / 2
        place[n.key] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle), angle)
    heaviest = max((w for _, _, w in edges), default=1)
    label_of = {n.key: n.label for n in nodes}
    desc = (
        "; ".join(f"{label_of[a]} and {label_of[b]}: {w} ties" for a, b, w in edges)
        or "no cross-team ties between teams shown"
    )
    head, parts = _open(title, desc, width, height)
    for a, b, w in edges:
        (x1, y1, _), (x2, y2, _) = place[a], place[b]
        stroke = 1.5 + 8 * w / heaviest
        parts.append(
            f'<line class="edge" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke-width="{stroke:.1f}"><title>{escape(label_of[a])} and '
            f"{escape(label_of[b])}: {w} ties</title></line>"
        )
    for n in nodes:
        x, y, angle = place[n.key]
        dx, dy = math.cos(angle), math.sin(angle)
        anchor = "middle" if abs(dx) < 0.35 else ("start" if dx > 0 else "end")
        lx, ly = x + 30 * dx, y + 30 * dy + (5 if abs(dx) >= 0.35 else 12 * (1 if dy > 0 else -0.3))
        css = "node" + (" siloed" if n.siloed else "") + ("" if n.shown else " hidden")
        tip = n.label + (f": {n.detail}" if n.detail else "")
        parts.append(
            f'<g class="{css}"><circle cx="{x:.1f}" cy="{y:.1f}" r="22"><title>{escape(tip)}'
            f'</title></circle><text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}">'
            f"{escape(n.label[:18])}</text>"
            + (
                f'<text class="mark" x="{x:.1f}" y="{y + 5:.1f}" text-anchor="middle">!</text>'
                if n.siloed
                else ""
            )
            + "</g>"
        )
    return Markup(head + "".join(parts) + "</svg>")
