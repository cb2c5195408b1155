"""The numbers behind a chart as a table (the Charts screen's `t`) and as CSV (`x`)."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from jumpdeck.core.private_files import open_private, private_dir
from jumpdeck.core.production.models import DayTotal, ItemTrend, MonthTotal, TopItem


def table_of(result: Sequence[Any]) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows for any query result the charts draw."""
    if not result:
        return ["value"], []
    first = result[0]
    if isinstance(first, MonthTotal):
        return ["month", "quantity"], [[m.month, m.quantity] for m in result]
    if isinstance(first, DayTotal):
        return ["day", "quantity"], [[d.day, d.quantity] for d in result]
    if isinstance(first, TopItem):
        return ["rank", "item_code", "item_name", "quantity"], [[i, t.item.code, t.item.name, t.quantity] for i, t in enumerate(result, 1)]
    if isinstance(first, ItemTrend):
        months = [m.month for m in first.months]
        headers = ["month"] + [t.item.code for t in result]
        rows = [[month] + [t.months[i].quantity for t in result] for i, month in enumerate(months)]
        return headers, rows
    raise TypeError(f"no table for {type(first).__name__}")


def write_csv(directory: Path, stem: str, headers: list[str], rows: list[list[Any]]) -> Path:
    """Write `<directory>/<stem>-<timestamp>.csv` (blocking) and return its path."""
    private_dir(directory)
    path = directory / f"{stem}-{datetime.now():%Y%m%d-%H%M%S}.csv"
    with open_private(path, "w") as handle:  # production figures: 0600 like the DBs
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path
