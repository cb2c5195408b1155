"""The fleet as a view sees it (seed 000 §6.3, §7): every server with its live state,
filters combined with AND, live counts, search and sort. Plain data, no UI: the
Servers screen draws it, tests drive it directly.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Iterable

from jumpdeck.core.servers.checks import CheckResult
from jumpdeck.core.servers.registry import DbType, ServerInfo


class LiveState(str, enum.Enum):
    UNKNOWN = "unknown"
    CHECKING = "checking"
    ONLINE = "online"
    OFFLINE = "offline"


class StatusFilter(str, enum.Enum):
    ALL = "all"
    ONLINE = "online"
    OFFLINE = "offline"
    UNKNOWN = "unknown"  # never checked yet, or being checked


class SortKey(str, enum.Enum):
    NAME = "name"
    CREATED = "created"
    STATUS = "status"
    LATENCY = "latency"


_STATUS_ORDER = {LiveState.OFFLINE: 0, LiveState.CHECKING: 1, LiveState.UNKNOWN: 2, LiveState.ONLINE: 3}


@dataclass
class ServerRow:
    """One server and what is known of it right now."""

    info: ServerInfo
    state: LiveState = LiveState.UNKNOWN
    result: CheckResult | None = None
    # Set while a new check runs: the last result stays visible under "checking".

    @property
    def status_bucket(self) -> StatusFilter:
        if self.state is LiveState.ONLINE:
            return StatusFilter.ONLINE
        if self.state is LiveState.OFFLINE:
            return StatusFilter.OFFLINE
        if self.state is LiveState.CHECKING and self.result is not None:
            return StatusFilter.ONLINE if self.result.online else StatusFilter.OFFLINE
        return StatusFilter.UNKNOWN


@dataclass
class FleetView:
    rows: dict[int, ServerRow] = field(default_factory=dict)
    db_type: DbType | None = None  # None: every type
    status: StatusFilter = StatusFilter.ALL
    search: str = ""
    sort: SortKey = SortKey.NAME

    # ------------------------------------------------------------------ data
    def load(self, servers: Iterable[ServerInfo]) -> None:
        """Replace the server list, keeping what is known of servers still there."""
        fresh: dict[int, ServerRow] = {}
        for info in servers:
            old = self.rows.get(info.id)
            if old is not None and (old.info.host, old.info.port, old.info.db_type) == (info.host, info.port, info.db_type):
                fresh[info.id] = ServerRow(info, old.state, old.result)
            else:
                fresh[info.id] = ServerRow(info)
        self.rows = fresh
        if self.db_type is not None and self.db_type not in self.types_present():
            self.db_type = None

    def mark_checking(self, server_ids: Iterable[int]) -> None:
        for sid in server_ids:
            row = self.rows.get(sid)
            if row is not None:
                row.state = LiveState.CHECKING

    def apply(self, result: CheckResult) -> ServerRow | None:
        """A check result landed. Returns the row it changed (None: server gone)."""
        row = self.rows.get(result.server_id) if result.server_id is not None else None
        if row is None:
            return None
        row.result = result
        row.state = LiveState.ONLINE if result.online else LiveState.OFFLINE
        return row

    # --------------------------------------------------------------- filters
    def types_present(self) -> list[DbType]:
        present = {row.info.db_type for row in self.rows.values()}
        return [t for t in DbType if t in present]

    def _matches_search(self, row: ServerRow) -> bool:
        if not self.search.strip():
            return True
        info = row.info
        haystack = " ".join([info.name, info.host, info.description, info.group, *info.tags]).casefold()
        return all(word in haystack for word in self.search.casefold().split())

    def _base(self) -> list[ServerRow]:
        """Rows passing the type filter and the search: the set the status counts cover."""
        return [r for r in self.rows.values()
                if (self.db_type is None or r.info.db_type is self.db_type) and self._matches_search(r)]

    def counts(self) -> dict[StatusFilter, int]:
        """Live counts per status, within the type filter and search (what each status
        button would show if pressed)."""
        base = self._base()
        counts = {s: 0 for s in StatusFilter}
        counts[StatusFilter.ALL] = len(base)
        for row in base:
            counts[row.status_bucket] += 1
        return counts

    def type_counts(self) -> dict[DbType, int]:
        counts: dict[DbType, int] = {}
        for row in self.rows.values():
            counts[row.info.db_type] = counts.get(row.info.db_type, 0) + 1
        return counts

    def visible(self) -> list[ServerRow]:
        rows = [r for r in self._base() if self.status is StatusFilter.ALL or r.status_bucket is self.status]
        return sorted(rows, key=self._sort_key)

    def _sort_key(self, row: ServerRow) -> tuple:
        name = row.info.name.casefold()
        if self.sort is SortKey.CREATED:
            return (row.info.created_at, name)
        if self.sort is SortKey.STATUS:
            return (_STATUS_ORDER[row.state], name)
        if self.sort is SortKey.LATENCY:
            latency = row.result.latency_ms if row.result is not None and row.result.online else None
            return (latency is None, latency or 0.0, name)
        return (name,)

    @property
    def filtered(self) -> bool:
        return self.db_type is not None or self.status is not StatusFilter.ALL or bool(self.search.strip())

    def reset_filters(self) -> None:
        self.db_type = None
        self.status = StatusFilter.ALL
        self.search = ""

    def cycle_type(self) -> None:
        """All → each type present → All."""
        options: list[DbType | None] = [None, *self.types_present()]
        self.db_type = options[(options.index(self.db_type) + 1) % len(options)] if self.db_type in options else None

    def cycle_status(self) -> None:
        order = list(StatusFilter)
        self.status = order[(order.index(self.status) + 1) % len(order)]

    def cycle_sort(self) -> None:
        order = list(SortKey)
        self.sort = order[(order.index(self.sort) + 1) % len(order)]
