"""Files and folders that hold fleet data: 0600 and 0700, whatever the umask.

The data dir is 0700, but a home set elsewhere (JUMPDECK_HOME on a shared disk) or
copied with `cp -r` keeps the modes of what is inside it, so every file jumpdeck writes
there carries its own 0600 from the moment it exists. SQLite creates `-wal`, `-shm` and
`-journal` with the mode of the main file, so a database file is made 0600 before
SQLite first opens it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
DIR_MODE = 0o700
SQLITE_SIDE_SUFFIXES = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """Make `path` (and any missing parents) a 0700 folder. Parents that already exist
    keep their mode: they may be the operator's own (~/.local/share)."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another process made it meanwhile
            pass
    if missing or path.is_dir():
        _chmod(path, DIR_MODE)
    for directory in missing[1:]:
        _chmod(directory, DIR_MODE)
    return path


def _chmod(path: Path, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except OSError:  # someone else's file, a read-only disk, or gone: its owner decides
        pass


def open_private(path: Path, mode: str = "w", *, encoding: str | None = "utf-8") -> IO:
    """`open(path, mode)` for "w", "a", "wb" or "ab", creating the file 0600; an existing
    file is made 0600 too (it may come from a version that did not)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    if stat.S_ISREG(os.fstat(fd).st_mode):  # not a pipe or /dev/stdout given as the file
        try:
            os.fchmod(fd, FILE_MODE)
        except PermissionError:
            pass
    if "b" in mode:
        return os.fdopen(fd, mode)
    return os.fdopen(fd, mode, encoding=encoding, newline="" if encoding else None)


def write_private_text(path: Path, text: str) -> None:
    with open_private(path, "w") as handle:
        handle.write(text)


def touch_private(path: Path) -> None:
    """An empty 0600 file where none exists, for SQLite to fill: its side files then
    inherit 0600. An existing file is left as it is."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def make_private(path: Path) -> None:
    """chmod 0600 a file and the SQLite side files beside it, where they exist."""
    for candidate in (path, *(path.with_name(path.name + s) for s in SQLITE_SIDE_SUFFIXES)):
        if candidate.exists():
            _chmod(candidate, FILE_MODE)
