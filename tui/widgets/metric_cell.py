"""How one metric reads in a table cell: a small sparkline of the hour and the value,
coloured by its level. Pure functions: the table diffs their output to repaint only
cells whose text changed."""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from rich.text import Text

from jumpdeck.core.monitor.service import Level, Reading

SPARK_BLOCKS = " ▁▂▃▄▅▆▇█"
SPARK_ASCII = " .:-=+*#%@"
SPARK_WIDTH = 8

LEVEL_STYLES: dict[Level, str] = {
    Level.OK: "green",
    Level.WARNING: "bold yellow",
    Level.CRITICAL: "bold red",
    Level.NO_DATA: "dim",
    Level.UNREACHABLE: "dim red",
    Level.UNKNOWN: "dim",
}


@lru_cache(maxsize=64)
def _buckets(count: int, width: int) -> tuple[tuple[int, int], ...]:
    return tuple((i * count // width, max(i * count // width + 1, (i + 1) * count // width)) for i in range(width))


def sparkline(history: Sequence[float | None], *, width: int = SPARK_WIDTH, ascii_only: bool = False) -> str:
    """`width` characters for a 0-100 % series: each one the highest value of its share
    of the hour (a spike must not vanish between two buckets); blank where no data.
    Called for every cell of a 1,000-row table on each refresh: kept to plain loops."""
    ramp = SPARK_ASCII if ascii_only else SPARK_BLOCKS
    if not history:
        return " " * width
    top = len(ramp) - 2
    scale = (len(ramp) - 1) / 100
    out = []
    for lo, hi in _buckets(len(history), width):
        best = -1.0
        for value in history[lo:hi]:
            if value is not None and value > best:
                best = value
        out.append(" " if best < 0 else ramp[1 + min(top, int(min(100.0, best) * scale))])
    return "".join(out)


def _value_label(reading: Reading, spark: bool) -> str:
    """The cell's text after its sparkline (all of it without one)."""
    if reading.value is None:
        label = {Level.NO_DATA: "no data", Level.UNREACHABLE: "?", Level.UNKNOWN: "-"}.get(reading.level, "-")
        return f"{' ' * SPARK_WIDTH} {label:>6}" if spark else label
    return f" {reading.value:5.1f}%" if spark else f"{reading.value:5.1f}%"


def metric_text(reading: Reading, *, ascii_only: bool = False, spark: bool = True) -> Text:
    """`spark=False` (narrow terminals) leaves the sparkline out: the value is what must fit."""
    style = LEVEL_STYLES[reading.level]
    label = _value_label(reading, spark)
    if reading.value is None or not spark:
        return Text(label, style=style)
    text = Text(sparkline(reading.history, ascii_only=ascii_only), style="cyan" if reading.level is Level.OK else style)
    text.append(label, style=style)
    return text


def metric_width(reading: Reading, *, spark: bool = True) -> int:
    """How wide `metric_text` is, without drawing the sparkline (a table's column widths
    are needed for every row, the cells only for the rows on screen)."""
    label = _value_label(reading, spark)
    return len(label) + (SPARK_WIDTH if spark and reading.value is not None else 0)


def state_text(level: Level) -> Text:
    return Text(level.label, style=LEVEL_STYLES[level])
