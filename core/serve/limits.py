"""serve-ssh's limits before and around a login, after OpenSSH's own.

- `max_unauthenticated` and `login_grace`: sshd's MaxStartups (as a hard cap) and
  LoginGraceTime. Idle connections that never log in cannot pile up.
- `SourcePenalties`: sshd's PerSourcePenalties. An address whose logins keep failing is
  refused at once, for longer each time it comes back and fails again.
- `UserSlots`: connections per user. `ssh -N` (a connection with no session) holds a slot
  like a session does, so a user cannot hold the server open with forwards-only logins.
- `RefusalLog`: which refusals reach the activity log. The first per address per window,
  then one summary row, so a flood costs the log two rows a minute per address.

Everything takes its clock, so the tests drive time instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from jumpdeck.core.errors import Conflict

Clock = Callable[[], float]

# A flood from very many addresses must not grow the tables without bound: beyond this,
# addresses are forgotten oldest first (penalties) or counted together (refusal log).
MAX_SOURCES = 10_000
OTHER_SOURCES = "other addresses"


@dataclass(frozen=True)
class LoginLimits:
    max_unauthenticated: int = 20  # connections not logged in yet, all addresses together
    login_grace: float = 60.0  # seconds to log in before the connection is closed
    failures_allowed: int = 5  # failed logins from one address before it is refused; 0 = no penalty
    penalty: float = 15.0  # the first refusal; each further one doubles, up to penalty_max
    penalty_max: float = 600.0
    refusal_window: float = 60.0  # activity log: the first refusal per address per window, then a summary


@dataclass
class _Source:
    failures: int = 0  # since the last penalty
    strikes: int = 0  # penalties so far: the next one lasts penalty * 2**strikes
    until: float = 0.0  # refused before this time
    last_failure: float = 0.0


class SourcePenalties:
    def __init__(self, limits: LoginLimits, clock: Clock = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._sources: dict[str, _Source] = {}

    def refused_for(self, address: str) -> float:
        """Seconds the address is still refused for (0: let it try)."""
        source = self._sources.get(address)
        return max(0.0, source.until - self.clock()) if source else 0.0

    def failed(self, address: str) -> float:
        """Count one failed login; return the penalty it starts (0: none yet)."""
        if not self.limits.failures_allowed:
            return 0.0
        now = self.clock()
        source = self._sources.pop(address, None) or _Source()
        if self._forgotten(source, now):
            source = _Source()
        source.failures += 1
        source.last_failure = now
        penalty = 0.0
        if source.failures >= self.limits.failures_allowed:
            penalty = min(self.limits.penalty * 2 ** source.strikes, self.limits.penalty_max)
            source.strikes += 1
            source.failures = 0
            source.until = now + penalty
        self._sources[address] = source  # re-inserted: the dict's order is oldest failure first
        while len(self._sources) > MAX_SOURCES:
            del self._sources[next(iter(self._sources))]
        return penalty

    def _forgotten(self, source: _Source, now: float) -> bool:
        # A quiet address starts over: as long without failures as the longest penalty,
        # counted from the end of its last one.
        return now - max(source.last_failure, source.until) > self.limits.penalty_max

    def __len__(self) -> int:
        return len(self._sources)


@dataclass
class _Held:
    user: str
    sessions: int = 0
    sessionless_since: float = 0.0


class UserSlots:
    """Slots per user: an authenticated connection holds one, and every session on it
    beyond its first (a multiplexing client) one more."""

    def __init__(self, max_per_user: int, clock: Clock = time.monotonic) -> None:
        self.max_per_user = max_per_user
        self.clock = clock
        self._held: dict[Hashable, _Held] = {}

    def held(self, user: str) -> int:
        return sum(max(1, h.sessions) for h in self._held.values() if h.user == user)

    def _refuse_if_full(self, user: str) -> None:
        held = self.held(user)
        if held >= self.max_per_user:
            noun = "connection" if held == 1 else "connections"
            raise Conflict(f"You already have {held} jumpdeck {noun} open, ssh -N included (the limit is {self.max_per_user}).",
                           remedy="Quit one (q) or end an ssh -N, or ask an admin to end one.")

    def connect(self, user: str, connection: Hashable) -> None:
        """Take a slot for a connection that just logged in, or raise Conflict."""
        self._refuse_if_full(user)
        self._held[connection] = _Held(user, sessionless_since=self.clock())

    def open_session(self, connection: Hashable) -> None:
        held = self._held.get(connection)
        if held is None:  # its connection is being closed (a refusal, the idle sweep)
            raise Conflict("This connection is closing.", remedy="Connect again.")
        if held.sessions:
            self._refuse_if_full(held.user)
        held.sessions += 1

    def close_session(self, connection: Hashable) -> None:
        held = self._held.get(connection)
        if held is not None and held.sessions:
            held.sessions -= 1
            if not held.sessions:
                held.sessionless_since = self.clock()

    def disconnect(self, connection: Hashable) -> None:
        self._held.pop(connection, None)

    def sessionless_beyond(self, seconds: float) -> list[Hashable]:
        """Connections that have had no session for longer than `seconds` (ssh -N)."""
        now = self.clock()
        return [c for c, h in self._held.items() if not h.sessions and now - h.sessionless_since > seconds]


@dataclass
class _Window:
    opened: float
    more: int = 0


@dataclass(frozen=True)
class RefusalSummary:
    address: str
    more: int
    user: str = ""  # a known user's refusals are counted apart from the address's anonymous ones

    def sentence(self) -> str:
        return f"{self.more} more refused from {self.address}" + (f" for {self.user}" if self.user else "")


@dataclass(frozen=True)
class Noted:
    write: bool  # write this refusal's own row
    summary: RefusalSummary | None = None  # the address's previous window, to write first


class RefusalLog:
    def __init__(self, window: float = 60.0, clock: Clock = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self._windows: dict[tuple[str, str], _Window] = {}

    def note(self, address: str, user: str = "") -> Noted:
        """One refusal from `address` (of a known `user`'s key, if it was one): whether to
        write it, and what its last window left. A known user's refusals have their own
        window, so a flood of unknown keys from their address does not hide them."""
        now = self.clock()
        key = (address, user)
        current = self._windows.get(key)
        if current is not None and now - current.opened < self.window:
            current.more += 1
            return Noted(False)
        if current is None and len(self._windows) >= MAX_SOURCES:
            # Counted, not written: a row per address of a huge flood would fill the log.
            self._windows.setdefault((OTHER_SOURCES, ""), _Window(now)).more += 1
            return Noted(False)
        self._windows[key] = _Window(now)
        return Noted(True, RefusalSummary(address, current.more, user) if current is not None and current.more else None)

    def due(self, *, everything: bool = False) -> list[RefusalSummary]:
        """Summaries of the windows that have ended (or all, at shutdown), forgetting them."""
        now = self.clock()
        out = []
        for (address, user), window in list(self._windows.items()):
            if everything or now - window.opened >= self.window:
                del self._windows[(address, user)]
                if window.more:
                    out.append(RefusalSummary(address, window.more, user))
        return out
