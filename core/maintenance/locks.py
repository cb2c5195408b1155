"""Cross-process locks for maintenance work, as flock()ed files in the database dir.

Each kind of work (backup, watcher, rollover, restore) has its own lock file, so two
watchers never run together and a restore can be refused, with a sentence naming what
runs, while any of the others holds its lock. The kernel drops a flock when its holder
dies, so a SIGKILLed process never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from jumpdeck.core.config import Config
from jumpdeck.core.errors import Conflict
from jumpdeck.core.private_files import private_dir

KINDS = ("backup", "watcher", "rollover", "restore")
_WORDS = {"backup": "a backup", "watcher": "the DB watcher", "rollover": "the archive rollover", "restore": "a restore"}


def lock_path(config: Config, kind: str) -> Path:
    return config.database_dir / f".{kind}.lock"


@dataclass(frozen=True)
class Holder:
    kind: str
    pid: int | None
    since: float | None

    def sentence(self) -> str:
        who = f" (pid {self.pid}" + (f", since {time.strftime('%H:%M:%S', time.localtime(self.since))})" if self.since else ")") if self.pid else ""
        return f"{_WORDS[self.kind]} is running{who}"


class MaintenanceLock:
    """A held lock; release with `release()` or use as a context manager."""

    def __init__(self, config: Config, kind: str) -> None:
        self.kind = kind
        self.path = lock_path(config, kind)
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        try:
            private_dir(self.path.parent)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:  # a read-only disk: maintenance writes, so it cannot start
            raise Conflict(f"Cannot take the maintenance lock {self.path} ({exc.strerror}): this work writes in the data directory.",
                           remedy="Run it where the data directory is writable.") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "since": time.time()}).encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> MaintenanceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(config: Config, kind: str) -> Holder | None:
    """Who holds `kind`'s lock, or None. Probes by trying the lock itself."""
    probe = MaintenanceLock(config, kind)
    path = probe.path
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                info = json.loads(path.read_text() or "{}")
            except (OSError, ValueError):
                info = {}
            return Holder(kind, info.get("pid"), info.get("since"))
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def running(config: Config) -> list[Holder]:
    return [h for kind in KINDS if (h := holder(config, kind)) is not None]


def acquire(config: Config, kind: str, *, remedy: str | None = None) -> MaintenanceLock:
    """Take `kind`'s lock or raise Conflict naming who holds it."""
    lock = MaintenanceLock(config, kind)
    if lock.try_acquire():
        return lock
    held = holder(config, kind) or Holder(kind, None, None)
    raise Conflict(f"Cannot start: {held.sentence()}.", remedy=remedy or "Wait for it to finish and try again.")


def acquire_all(config: Config, purpose: str) -> list[MaintenanceLock]:
    """Take every lock (a restore excludes all other maintenance), or refuse naming what runs."""
    taken: list[MaintenanceLock] = []
    busy: list[Holder] = []
    for kind in KINDS:
        lock = MaintenanceLock(config, kind)
        if lock.try_acquire():
            taken.append(lock)
        else:
            busy.append(holder(config, kind) or Holder(kind, None, None))
    if busy:
        for lock in taken:
            lock.release()
        raise Conflict(f"Cannot {purpose} while " + " and ".join(h.sentence() for h in busy) + ".",
                       remedy="Wait for it to finish (the Maintenance screen shows it) and try again.")
    return taken
