"""Horizontal bar charts drawn as SVG on the server, readable without colour or sight.

Each chart has a title and a description (``role="img"``, ``aria-labelledby``), the value
written beside every bar, bars filled with a hatching pattern and outlined (so a black-and-white
print reads the same), and a reference line or a shaded range with its own words ("Recommended:
40"). Pages put the same figures in a table beside each chart. Styling is by presentation
attributes only: the Content-Security-Policy forbids inline ``style``. Only counts and rates
come in, never a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 720
LABEL_WIDTH = 250
LABEL_CHARS = 36
VALUE_WIDTH = 150
BAR_HEIGHT = 22
GAP = 12
TOP = 34
BOTTOM = 30
INK = "#1b1f24"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    description: str
    bars: tuple[Bar, ...]
    # A line across the bars ("Recommended: 40") and a shaded range ("National range: 28% to
    # 40%"), each with the words that say what it is.
    reference: tuple[float, str] | None = None
    band: tuple[float, float, str] | None = None
    maximum: float | None = None


def _short(label: str) -> str:
    """A long agency name is cut to fit; the table beside the chart has it whole."""
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def _a(value: object) -> str:
    return escape(str(value), quote=True)


def _scale(chart: Chart) -> float:
    biggest = max(
        [b.value for b in chart.bars]
        + ([chart.reference[0]] if chart.reference else [])
        + ([chart.band[1]] if chart.band else [])
        + ([chart.maximum] if chart.maximum else [])
        + [1]
    )
    return (WIDTH - LABEL_WIDTH - VALUE_WIDTH) / biggest


def draw(chart: Chart) -> Markup:
    scale = _scale(chart)
    height = TOP + len(chart.bars) * (BAR_HEIGHT + GAP) + BOTTOM
    ids = f"chart-{_a(chart.key)}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-labelledby="{ids}-title {ids}-desc">',
        f'<title id="{ids}-title">{_a(chart.title)}</title>',
        f'<desc id="{ids}-desc">{_a(chart.description)}</desc>',
        "<defs>",
        f'<pattern id="{ids}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#dfe8f2"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="#2f5d8a" stroke-width="3"/></pattern>',
        f'<pattern id="{ids}-dots" width="8" height="8" patternUnits="userSpaceOnUse">'
        f'<circle cx="2" cy="2" r="1.2" fill="#6b7785"/></pattern>',
        "</defs>",
    ]
    plot_top = TOP - 8
    plot_bottom = height - BOTTOM + 4
    if chart.band:
        low, high, words = chart.band
        x = LABEL_WIDTH + low * scale
        out.append(
            f'<rect x="{x:.1f}" y="{plot_top}" width="{(high - low) * scale:.1f}" '
            f'height="{plot_bottom - plot_top}" fill="url(#{ids}-dots)" stroke="#6b7785" '
            f'stroke-dasharray="2 3"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{plot_bottom + 16}" font-size="12" fill="{INK}">'
            f"{_a(words)}</text>"
        )
    for n, bar in enumerate(chart.bars):
        y = TOP + n * (BAR_HEIGHT + GAP)
        width = max(bar.value * scale, 0)
        out.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT * 0.7:.1f}" font-size="13" '
            f'text-anchor="end" fill="{INK}">{_a(_short(bar.label))}</text>'
        )
        out.append(
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
            f'fill="url(#{ids}-hatch)" stroke="{INK}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + BAR_HEIGHT * 0.7:.1f}" '
            f'font-size="13" font-weight="bold" fill="{INK}">{_a(bar.text)}</text>'
        )
    if chart.reference:
        value, words = chart.reference
        x = LABEL_WIDTH + value * scale
        out.append(
            f'<line x1="{x:.1f}" y1="{plot_top}" x2="{x:.1f}" y2="{plot_bottom}" '
            f'stroke="{INK}" stroke-width="2" stroke-dasharray="6 4"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{plot_top - 6}" font-size="12" text-anchor="middle" '
            f'fill="{INK}">{_a(words)}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 (every value above is escaped)
