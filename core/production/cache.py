"""A small TTL + LRU cache for production query results (seed: 200 entries, 300 s).

Each entry remembers the signature (mtime, size of every DB file and its WAL) it was
computed under; a lookup under another signature is a miss and drops the entry, so a
write by the ERP, a restore or a rollover is never answered from stale numbers.
`clear()` is the watcher's explicit signal.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Hashable


@dataclass(frozen=True)
class CacheStats:
    size: int
    maxsize: int
    hits: int
    misses: int
    invalidations: int


class TTLCache:
    def __init__(self, maxsize: int = 200, ttl: float = 300.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.maxsize = maxsize
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Hashable, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = self.invalidations = 0

    _MISSING = object()

    def get(self, key: Hashable, signature: Hashable) -> Any:
        """The cached value, or `TTLCache.MISS`."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                expires, sig, value = entry
                if sig == signature and self._clock() < expires:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    return value
                del self._entries[key]
                if sig != signature:
                    self.invalidations += 1
            self.misses += 1
            return MISS

    def put(self, key: Hashable, signature: Hashable, value: Any) -> None:
        if self.maxsize <= 0 or self.ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (self._clock() + self.ttl, signature, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            if self._entries:
                self.invalidations += 1
            self._entries.clear()

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(len(self._entries), self.maxsize, self.hits, self.misses, self.invalidations)


MISS: Any = TTLCache._MISSING
