"""Counts in words, as the faces print them: "1 server", "6 servers", "2 of 6 servers"."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count:,} {noun if count == 1 else (plural or noun + 's')}"


def shown_of(shown: int, total: int, noun: str, plural: str | None = None) -> str:
    """All of them ("6 servers"), or how many a filter leaves ("2 of 6 servers")."""
    if shown == total:
        return counted(total, noun, plural)
    return f"{shown:,} of {counted(total, noun, plural)}"
