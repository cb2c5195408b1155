"""Data as text, never as markup.

Textual reads a `str` given to a Static, a DataTable cell or a toast as markup, so
`fatal: [web-1]: UNREACHABLE!` from a playbook, a driver's `[FreeTDS][SQL Server]` or
a name with brackets would lose the bracketed part. What comes from outside the code
goes in as `rich.text.Text` (or a Static made with markup=False) instead.
"""

from __future__ import annotations

from rich.text import Text


def cell(value: object) -> object:
    """A DataTable cell that shows a str exactly as written. Made the way the table makes
    its own str cells (one line, no trailing newline), without reading markup."""
    return Text(value, no_wrap=True, end="") if isinstance(value, str) else value


def cells(values) -> list:  # noqa: ANN001
    return [cell(v) for v in values]
