"""Server-rendered SVG bar charts: readable without JavaScript, labelled for screen readers.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that says the numbers
in words; the page shows the same numbers in a table next to it. Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import count

from markupsafe import Markup

WIDTH = 480
ROW = 46  # a label line above its bar: a phone keeps the full width for the bars
BAR = 18
VALUE_ROOM = 170  # room right of the longest bar for its value
LABEL_CHARS = 44  # longer labels are cut on the chart (the <desc> and the table keep them whole)
COLOURS = ("#0b5fff", "#0a7a3d", "#9a6200", "#b3261e", "#5b6475", "#6b3fa0")
_ids = count(1)


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal  # the bar's length (money or a count)
    text: str  # the value as people read it ("€ 1.234,00 · 12")


def bar_chart(title: str, bars: Sequence[Bar], *, chart_id: str | None = None) -> Markup:
    """A horizontal bar chart; bar lengths are proportional to ``value`` (negatives as 0)."""
    chart_id = chart_id or f"chart-{next(_ids)}"
    top = max((bar.value for bar in bars), default=Decimal(0))
    height = max(len(bars), 1) * ROW + 8
    span = WIDTH - VALUE_ROOM
    parts = [
        Markup('<svg class="chart" role="img" viewBox="0 0 {} {}" '
               'aria-labelledby="{}-title {}-desc" xmlns="http://www.w3.org/2000/svg">')
        .format(WIDTH, height, chart_id, chart_id),
        Markup('<title id="{}-title">{}</title>').format(chart_id, title),
        Markup('<desc id="{}-desc">{}</desc>').format(
            chart_id, "; ".join(f"{bar.label}: {bar.text}" for bar in bars)),
    ]
    for index, bar in enumerate(bars):
        y = index * ROW + 4
        length = max(int(span * bar.value / top) if top > 0 and bar.value > 0 else 0, 2)
        colour = COLOURS[index % len(COLOURS)]
        label = bar.label if len(bar.label) <= LABEL_CHARS else bar.label[:LABEL_CHARS - 1] + "…"
        parts.append(Markup('<text x="0" y="{}" class="chart-label">{}</text>')
                     .format(y + 13, label))
        parts.append(Markup('<rect x="0" y="{}" width="{}" height="{}" rx="3" fill="{}"></rect>')
                     .format(y + 19, length, BAR, colour))
        parts.append(Markup('<text x="{}" y="{}" class="chart-value">{}</text>')
                     .format(length + 8, y + 33, bar.text))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
