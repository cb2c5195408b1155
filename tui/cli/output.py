"""Small helpers for printing tables and JSON from CLI commands, and for an output
stream that fails (a closed pipe, a full disk)."""

from __future__ import annotations

import errno
import json
import os
import sys
from datetime import date, datetime
from enum import Enum
from typing import Any, Iterable, Sequence


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


def dumps(value: Any) -> str:
    return json.dumps(value, default=_default, ensure_ascii=False)


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, empty: str = "(none)") -> None:
    rows = [["" if v is None else str(v) for v in row] for row in rows]
    if not rows:
        print(empty)
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths)).rstrip())
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())


# What a shell reports for a tool that a closed pipe stopped (128 + SIGPIPE), as for
# `ls | head -1`: the reader had all it wanted, so there is nothing to say.
EXIT_CLOSED_PIPE = 141
# Errors of the output stream itself (a full disk, /dev/full, a vanished terminal).
_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT, errno.ENXIO}


def is_output_error(error: OSError) -> bool:
    """Whether `error` came from writing standard output rather than from a named file."""
    return error.filename is None and error.errno in _OUTPUT_ERRNOS


def drop_stdout() -> None:
    """Point standard output at /dev/null after it failed: what is still buffered is
    lost either way, and the interpreter's last flush must not fail a second time."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by a test, or already closed
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
