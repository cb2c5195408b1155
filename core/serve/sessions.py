"""The live session table of one serve-ssh server: limits, idle time, ending one.

It lives in the server process; other processes (an admin's jumpdeck inside a session,
or a local one) reach it through the control socket (`control.py`)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from jumpdeck.core.errors import Conflict, NotFound


@dataclass(frozen=True)
class SessionLimits:
    max_sessions: int = 50
    max_per_user: int = 5
    idle_timeout: float = 1800.0  # seconds without input from the client (output does not count); 0 = never


@dataclass(frozen=True)
class LiveSession:
    """One session as the sessions view shows it."""

    id: int
    user: str
    address: str
    fingerprint: str
    since: datetime
    idle_seconds: float
    pid: int
    bytes_out: int = 0  # sent to the client so far: thin links care

    def to_json(self) -> dict:
        return {"id": self.id, "user": self.user, "address": self.address, "fingerprint": self.fingerprint,
                "since": self.since.isoformat(), "idle_seconds": round(self.idle_seconds, 1), "pid": self.pid,
                "bytes_out": self.bytes_out}

    @classmethod
    def from_json(cls, data: dict) -> LiveSession:
        return cls(int(data["id"]), data["user"], data["address"], data["fingerprint"],
                   datetime.fromisoformat(data["since"]), float(data["idle_seconds"]), int(data["pid"]),
                   int(data.get("bytes_out", 0)))


class _Entry:
    def __init__(self, id: int, user: str, address: str, fingerprint: str, end: Callable[[str], None]) -> None:
        self.id, self.user, self.address, self.fingerprint = id, user, address, fingerprint
        self.since = datetime.now(timezone.utc)
        self.last_input = time.monotonic()
        self.pid = 0
        self.bytes_out = 0
        self.end = end  # end(reason): close the session from the server side
        # Handed to the session's child only: its requests carry it, so the server knows
        # whose they are even before it learns the child's pid.
        self.token = secrets.token_urlsafe(24)


class SessionTable:
    def __init__(self, limits: SessionLimits) -> None:
        self.limits = limits
        self._entries: dict[int, _Entry] = {}
        self._next_id = 1
        # Told when a session opens, ends or gets its pid (the Sessions screens listen).
        self.on_change: Callable[[], None] | None = None

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def entries(self) -> list[_Entry]:
        return list(self._entries.values())

    def open(self, user: str, address: str, fingerprint: str, end: Callable[[str], None]) -> _Entry:
        """Reserve a slot, or raise Conflict with the sentence the client will read."""
        if len(self._entries) >= self.limits.max_sessions:
            raise Conflict(f"jumpdeck is full: {len(self._entries)} of {self.limits.max_sessions} sessions are in use.",
                           remedy="Try again in a few minutes, or ask an admin to end an idle session.")
        mine = sum(1 for e in self._entries.values() if e.user == user)
        if mine >= self.limits.max_per_user:
            raise Conflict(f"You already have {mine} jumpdeck sessions open (the limit is {self.limits.max_per_user}).",
                           remedy="Quit one of them (q), or ask an admin to end one.")
        entry = _Entry(self._next_id, user, address, fingerprint, end)
        self._next_id += 1
        self._entries[entry.id] = entry
        self._changed()
        return entry

    def close(self, session_id: int) -> None:
        if self._entries.pop(session_id, None) is not None:
            self._changed()

    def touch(self, session_id: int) -> None:
        entry = self._entries.get(session_id)
        if entry is not None:
            entry.last_input = time.monotonic()

    def by_token(self, token: object) -> _Entry | None:
        if not isinstance(token, str) or not token:
            return None
        return next((e for e in self._entries.values() if secrets.compare_digest(e.token, token)), None)

    def by_pid(self, pid: int) -> _Entry | None:
        return next((e for e in self._entries.values() if e.pid == pid and pid), None)

    def get(self, session_id: int) -> _Entry:
        entry = self._entries.get(session_id)
        if entry is None:
            raise NotFound(f"There is no live session {session_id}.", remedy="It may have ended already; refresh the list.")
        return entry

    def list(self) -> list[LiveSession]:
        now = time.monotonic()
        return [LiveSession(e.id, e.user, e.address, e.fingerprint, e.since, now - e.last_input, e.pid, e.bytes_out)
                for e in sorted(self._entries.values(), key=lambda e: e.id)]

    def idle_beyond_limit(self) -> list[_Entry]:
        if not self.limits.idle_timeout:
            return []
        now = time.monotonic()
        return [e for e in self._entries.values() if now - e.last_input > self.limits.idle_timeout]

    def __len__(self) -> int:
        return len(self._entries)
