"""Bar and line charts as inline SVG, drawn on the server: no script, no outside request.

A control room may have no internet, and a chart drawn here is the same in the page, a
printed report and a screenshot. Labels are escaped (feeder codes and region names come
from imported data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

WIDTH = 640
HEIGHT = 220
PAD_LEFT = 48
PAD_BOTTOM = 44
PAD_TOP = 24
MAX_BARS = 40


def _scale(values: Sequence[float]) -> float:
    top = max((v for v in values if v is not None), default=0.0)
    return top if top > 0 else 1.0


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    highlight: Sequence[bool] | None = None,
) -> str:
    """A vertical bar chart of at most ``MAX_BARS`` bars (the first ones); ``highlight``
    draws marked bars (major event days, breaches) in red."""
    labels, values = list(labels)[:MAX_BARS], list(values)[:MAX_BARS]
    marks = list(highlight or [False] * len(labels))[:MAX_BARS]
    clean = [0.0 if v is None else float(v) for v in values]
    top = _scale(clean)
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(1, len(clean))
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="{PAD_LEFT}" y="16" class="chart-title">{escape(title)}</text>',
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{WIDTH - 8}" '
        f'y2="{PAD_TOP + plot_h}" stroke="#888"/>',
        f'<text x="{PAD_LEFT - 4}" y="{PAD_TOP + 8}" text-anchor="end" '
        f'class="chart-axis">{_fmt(top)}</text>',
    ]
    for i, (label, value, marked) in enumerate(zip(labels, clean, marks, strict=True)):
        h = plot_h * value / top
        x = PAD_LEFT + i * step + step * 0.15
        y = PAD_TOP + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{"#c53030" if marked else "#2b6cb0"}" class="{"marked" if marked else "bar"}">'
            f"<title>{escape(str(label))}: {_fmt(value)}</title></rect>"
        )
        parts.append(
            f'<text x="{x + step * 0.35:.1f}" y="{HEIGHT - PAD_BOTTOM + 14}" '
            f'text-anchor="middle" class="chart-label">{escape(str(label))[:10]}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    band: tuple[Sequence[float], Sequence[float]] | None = None,
) -> str:
    """Lines over shared x labels; ``band`` (low, high) shades an interval behind them."""
    n = len(labels)
    every = [float(v) for s in series.values() for v in s if v is not None]
    if band is not None:
        every += [float(v) for v in band[1]]
    top = _scale(every)
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_TOP - PAD_BOTTOM
    dx = plot_w / max(1, n - 1)

    def point(i: int, v: float) -> str:
        return f"{PAD_LEFT + i * dx:.1f},{PAD_TOP + plot_h - plot_h * v / top:.1f}"

    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="{PAD_LEFT}" y="16" class="chart-title">{escape(title)}</text>',
        f'<text x="{PAD_LEFT - 4}" y="{PAD_TOP + 8}" text-anchor="end" '
        f'class="chart-axis">{_fmt(top)}</text>',
    ]
    if band is not None and n:
        upper = [point(i, float(v)) for i, v in enumerate(band[1])]
        lower = [point(i, float(v)) for i, v in reversed(list(enumerate(band[0])))]
        parts.append(f'<polygon points="{" ".join(upper + lower)}" fill="#bee3f8"/>')
    colours = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1")
    for k, (name, values) in enumerate(series.items()):
        pts = [point(i, float(v)) for i, v in enumerate(values) if v is not None]
        colour = colours[k % len(colours)]
        parts.append(
            f'<polyline points="{" ".join(pts)}" fill="none" stroke="{colour}" '
            f'stroke-width="1.5"><title>{escape(name)}</title></polyline>'
        )
        parts.append(
            f'<text x="{WIDTH - 8}" y="{PAD_TOP + 12 * (k + 1)}" text-anchor="end" '
            f'fill="{colour}" class="chart-legend">{escape(name)}</text>'
        )
    for i in range(0, n, max(1, n // 8)):
        parts.append(
            f'<text x="{PAD_LEFT + i * dx:.1f}" y="{HEIGHT - PAD_BOTTOM + 14}" '
            f'text-anchor="middle" class="chart-label">{escape(str(labels[i]))[:16]}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _fmt(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:.3g}"
