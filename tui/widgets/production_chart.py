"""Drawing production figures on a textual-plotext `Plot`.

Legibility over SSH: terminals there often lack braille glyphs or truecolor (ssh
forwards TERM, not COLORTERM). The marker setting (`Config.chart_marker`) picks
braille, block or ascii glyphs; series colors are chosen to stay distinct when the
terminal has only the 16 ANSI colors, and in ascii mode each series also gets its own
character, so overlaid lines are told apart without color.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from jumpdeck.core.production.models import DayTotal, ItemTrend, MonthTotal, TopItem

# Near the 16-color palette's blue, yellow, green, red, magenta, cyan: a downgrade keeps them apart.
SERIES_COLORS = [(0, 135, 255), (255, 175, 0), (0, 175, 0), (215, 0, 0), (175, 0, 175), (0, 175, 175),
                 (255, 255, 255), (128, 128, 128)]
ASCII_SERIES = ["*", "+", "o", "x", "#", "@", "%", "&"]
LINE_MARKERS = {"braille": "braille", "block": "hd", "ascii": "*"}
BAR_MARKERS = {"braille": "sd", "block": "sd", "ascii": "#"}

KINDS = {
    "monthly": "Monthly totals",
    "daily": "Daily totals",
    "trends": "Item trends",
    "top": "Top items",
}


def compact_number(value: float) -> str:
    """1234567 -> '1.2M', 85000 -> '85k': y ticks that fit a narrow terminal."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            text = f"{value / limit:.1f}".rstrip("0").rstrip(".")
            return text + suffix
    return f"{value:.0f}"


# A plot at least this wide labels the top-items bars with code and name, not the code alone.
NAMED_BARS_WIDTH = 140
ROWS_PER_VALUE_TICK = 6  # a taller plot gets more value ticks (never fewer than 5)


def _tick_count(height: int) -> int:
    return max(5, height // ROWS_PER_VALUE_TICK)


def _value_ticks(maximum: float, count: int = 5) -> tuple[list[float], list[str]]:
    if maximum <= 0:
        return [0], ["0"]
    step = maximum / count
    magnitude = 10 ** math.floor(math.log10(step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= step)
    ticks = [i * step for i in range(int(maximum // step) + 2)]
    return ticks, [compact_number(t) for t in ticks]


def _label_ticks(labels: Sequence[str], width: int) -> tuple[list[int], list[str]]:
    """Every k-th label, spaced so they never come near each other in `width` columns.
    plotext nudges a label that has a neighbour within its own length, and that nudge
    is not stable from one process to the next: two label lengths apart it never runs."""
    if not labels:
        return [], []
    longest = 2 * max(len(label) for label in labels) + 2
    room = max(1, (width - 10) // longest)
    every = max(1, math.ceil(len(labels) / room))
    positions = list(range(0, len(labels), every))
    return [p + 1 for p in positions], [labels[p] for p in positions]


def draw(plt: Any, kind: str, result: Sequence[Any], *, marker: str, width: int, title: str, height: int = 0) -> None:
    """Replace the plot's content with `result` drawn as `kind`, for a plot of `width` x
    `height` cells: labels are thinned to the width, value ticks follow the height."""
    plt.clear_data()
    plt.clear_figure()
    if title:
        plt.title(title)
    line_marker = LINE_MARKERS.get(marker, "braille")
    bar_marker = BAR_MARKERS.get(marker, "sd")
    if kind == "top":
        top: Sequence[TopItem] = list(reversed(result))  # plotext draws bottom-up: largest on top
        named = width >= NAMED_BARS_WIDTH
        plt.bar([f"{t.item.code} {t.item.name}".rstrip() if named else t.item.code for t in top],
                [t.quantity for t in top], orientation="horizontal", marker=bar_marker, color=SERIES_COLORS[0], width=0.6)
        ticks, labels = _value_ticks(max((t.quantity for t in top), default=0), _tick_count(width // 4))
        plt.xticks(ticks, labels)
        return
    if kind == "monthly":
        months: Sequence[MonthTotal] = result
        names = [m.month for m in months]
        plt.bar(list(range(1, len(names) + 1)), [m.quantity for m in months], marker=bar_marker,
                color=SERIES_COLORS[0], width=0.6)
        plt.xticks(*_label_ticks(names, width))
        ticks, labels = _value_ticks(max((m.quantity for m in months), default=0), _tick_count(height))
        plt.yticks(ticks, labels)
        return
    if kind == "daily":
        days: Sequence[DayTotal] = result
        plt.plot(list(range(1, len(days) + 1)), [d.quantity for d in days], marker=line_marker, color=SERIES_COLORS[0])
        plt.xticks(*_label_ticks([d.day for d in days], width))
        ticks, labels = _value_ticks(max((d.quantity for d in days), default=0), _tick_count(height))
        plt.yticks(ticks, labels)
        return
    if kind == "trends":
        trends: Sequence[ItemTrend] = result
        top_value = 0
        for i, trend in enumerate(trends):
            series_marker = ASCII_SERIES[i % len(ASCII_SERIES)] if marker == "ascii" else line_marker
            values = [m.quantity for m in trend.months]
            top_value = max([top_value, *values])
            plt.plot(list(range(1, len(values) + 1)), values, marker=series_marker,
                     color=SERIES_COLORS[i % len(SERIES_COLORS)], label=f"{trend.item.code} {trend.item.name}")
        if trends:
            plt.xticks(*_label_ticks([m.month for m in trends[0].months], width))
        ticks, labels = _value_ticks(top_value, _tick_count(height))
        plt.yticks(ticks, labels)
        return
    raise ValueError(f"unknown chart kind {kind!r}")
