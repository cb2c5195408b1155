"""Checks every face's input passes before core stores or compares it.

Text typed, piped or read from a file can hold what no store accepts: lone surrogates
(Python's stand-ins for bytes that were not UTF-8, e.g. from a command-line argument in
another encoding) cannot be encoded for SQLite, PostgreSQL or Fernet, and NUL ends a C
string in every DB driver. Numbers parsed from text can be nan or inf, which no limit
comparison rejects. Each check raises ValidationError with one sentence, so a form, the
CLI and an import file all get the same answer instead of a driver's exception.

A leaf module: it imports only the error family, so any core module may use it.
"""

from __future__ import annotations

import math

from jumpdeck.core.errors import ValidationError

NOT_UTF8_REMEDY = "Retype it as UTF-8 text (check the terminal's or the file's encoding)."


def is_utf8_text(text: str) -> bool:
    """False when `text` holds a lone surrogate, i.e. bytes that did not decode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable_text(text: str, *, label: str, field: str | None = None) -> str:
    """`text` unchanged, or ValidationError when it cannot be stored as text."""
    if not is_utf8_text(text):
        raise ValidationError(f"The {label} holds bytes that are not UTF-8 text.", field=field,
                              remedy=NOT_UTF8_REMEDY)
    if "\0" in text:
        raise ValidationError(f"The {label} cannot contain a NUL character.", field=field)
    return text


def finite_number(value: float, *, label: str, field: str | None = None) -> float:
    """`value` unchanged, or ValidationError for nan and infinities."""
    if not math.isfinite(value):
        raise ValidationError(f"The {label} must be a finite number, not {value}.", field=field)
    return value
