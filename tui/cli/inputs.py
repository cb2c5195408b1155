"""Reading what a command is given besides its arguments: a file's text, a line of stdin.

Both end in ValidationError with a sentence for whatever the bytes are (binary, another
encoding, a directory, a missing file), so no command meets a UnicodeDecodeError.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Callable

from jumpdeck.core.errors import ValidationError
from jumpdeck.core.text_checks import NOT_UTF8_REMEDY, storable_text


def read_text_file(path: str, *, what: str, field: str) -> str:
    """The UTF-8 text of `path` (a byte-order mark dropped), or of stdin for `-`."""
    try:
        if path == "-":
            return storable_text(sys.stdin.read(), label="text on standard input", field=field)
        return Path(path).expanduser().read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValidationError(f"Cannot read {path}: {exc.strerror}.", field=field) from None
    except UnicodeDecodeError:
        raise ValidationError(f"{what} {path} is not UTF-8 text.", field=field,
                              remedy="Give a text file (a binary or another encoding cannot be read).") from None


def read_stdin_line(label: str) -> str:
    """One line of standard input without its line break, e.g. a piped password. The
    sentence never quotes the line: it may be a secret."""
    try:
        line = sys.stdin.readline()
    except UnicodeDecodeError:  # a UTF-8 locale decodes strictly
        raise ValidationError(f"The {label} on standard input is not UTF-8 text.", field=label,
                              remedy=NOT_UTF8_REMEDY) from None
    return storable_text(line.rstrip("\r\n"), label=label, field=label)


def seconds(low: float, high: float) -> Callable[[str], float]:
    """An argparse type for a duration from `low` to `high` seconds. Plain `float` lets
    nan and inf through, and a daemon waiting nan seconds between cycles never waits."""
    return _bounded(float, low, high, "a number of seconds", "seconds")


def whole_number(low: int, high: int, noun: str = "a whole number") -> Callable[[str], int]:
    """An argparse type for an integer from `low` to `high`. Plain `int` takes 10**20,
    which no SQLite or PostgreSQL integer column can hold."""
    return _bounded(int, low, high, noun, "")


def _bounded(convert: Callable[[str], float], low: float, high: float, noun: str, unit: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text[:40]}' is not {noun}") from None
        if not (math.isfinite(value) and low <= value <= high):
            span = f"{low:g} to {high:g}" if convert is float else f"{low} to {high}"
            raise argparse.ArgumentTypeError(f"give {span}{' ' + unit if unit else ''}, not {text[:40]}")
        return value

    parse.__name__ = noun  # argparse names the type in some messages
    return parse
