"""The change feed: which tables other processes (and this one) have changed, as they
commit, without reading the store to find out.

One `ChangeFeed` per process, over the triggers of core/store/announcers.py:

- PostgreSQL: one connection LISTENs on `jumpdeck_changes`. The event loop watches its
  socket (`add_reader`), so an idle feed makes no query and wakes no thread; a
  notification costs one read. A lost connection (an outage, a restart of the server)
  is reconnected with backoff, and its return announces every topic, since what
  changed meanwhile is unknown.
- SQLite: a thread reads `PRAGMA data_version` a few times a second, which changes only
  when another connection committed, and then reads the per-table counters in
  `store_changes` (a row per table) to learn which tables moved.

Subscribers get the set of changed topics (table names) on the event loop, a burst
coalesced into one call.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol

from jumpdeck.core.store.announcers import CHANNEL, WATCHED_TABLES

if TYPE_CHECKING:
    from jumpdeck.core.store.engine import Store

log = logging.getLogger("jumpdeck.changes")

Topics = frozenset[str]
Callback = Callable[[Topics], Any]
ALL_TOPICS: Topics = frozenset(WATCHED_TABLES)

# A burst of commits (a run's events, a restore) arrives as one call per this window.
COALESCE_SECONDS = 0.03
# SQLite: how often the watcher asks whether anything was committed.
SQLITE_INTERVAL = 0.1
# PostgreSQL: waits between attempts to get the listening connection back.
RECONNECT_DELAYS = (0.5, 1.0, 2.0, 3.0, 5.0)


class ChangeSource(Protocol):
    """What a face subscribes to: a `ChangeFeed`, or a serve-ssh session's relay of the
    server's feed."""

    def subscribe(self, topics: Iterable[str], callback: Callback) -> Callable[[], None]:
        """Call `callback(changed)` on the event loop when any of `topics` changes;
        returns the function that ends the subscription."""
        ...

    def close(self) -> None: ...


@dataclass
class _Subscription:
    topics: Topics
    callback: Callback


@dataclass
class FeedStats:
    """What the feed did, for tests and the bench."""

    deliveries: int = 0
    reconnects: int = 0
    sqlite_reads: int = 0  # reads of store_changes (not counting data_version)
    connected: bool = False
    errors: list[str] = field(default_factory=list)


class Subscribers:
    """The subscriptions and the coalescing, shared by every kind of source."""

    def __init__(self) -> None:
        self._subs: list[_Subscription] = []
        self._pending: set[str] = set()
        self._flush: asyncio.TimerHandle | None = None
        self.stats = FeedStats()

    def add(self, topics: Iterable[str], callback: Callback) -> Callable[[], None]:
        sub = _Subscription(frozenset(topics), callback)
        self._subs.append(sub)

        def cancel() -> None:
            if sub in self._subs:
                self._subs.remove(sub)

        return cancel

    @property
    def wanted(self) -> bool:
        return bool(self._subs)

    def arrived(self, topics: Iterable[str]) -> None:
        """On the event loop: some topics changed; deliver them after the window."""
        self._pending.update(topics)
        if self._flush is None and self._pending:
            loop = asyncio.get_running_loop()
            self._flush = loop.call_later(COALESCE_SECONDS, self._deliver)

    def _deliver(self) -> None:
        self._flush = None
        changed, self._pending = frozenset(self._pending), set()
        self.stats.deliveries += 1
        for sub in list(self._subs):
            hit = changed & sub.topics
            if hit:
                try:
                    result = sub.callback(hit)
                    if asyncio.iscoroutine(result):
                        asyncio.ensure_future(result)
                except Exception:  # one subscriber's bug must not stop the others' news
                    log.exception("change subscriber failed")

    def close(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        self._subs.clear()


class ChangeFeed:
    """This process's feed over `store`. Starts with the first subscription (on the
    event loop) and costs nothing before it."""

    def __init__(self, store: Store, *, sqlite_interval: float = SQLITE_INTERVAL) -> None:
        self.store = store
        self.sqlite_interval = sqlite_interval
        self.subscribers = Subscribers()
        self._started = False
        self._closed = False
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # PostgreSQL
        self._conn: Any = None
        self._fd: int | None = None
        # SQLite
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def stats(self) -> FeedStats:
        return self.subscribers.stats

    def subscribe(self, topics: Iterable[str], callback: Callback) -> Callable[[], None]:
        cancel = self.subscribers.add(topics, callback)
        if not self._started and not self._closed:
            self._started = True
            self._loop = asyncio.get_running_loop()
            self._task = self._loop.create_task(self._run(), name="change-feed")
        return cancel

    async def started(self) -> None:
        """Wait until the feed listens (tests and the bench: a change committed after
        this is delivered)."""
        while not self.stats.connected and not self._closed:
            if self._task is not None and self._task.done():
                self._task.result()  # raises what stopped it
                return
            await asyncio.sleep(0.01)

    async def _run(self) -> None:
        await self.store.ready()
        if self.store.kind == "postgresql":
            await self._listen_postgresql()
        else:
            await self._watch_sqlite()

    # ------------------------------------------------------------- PostgreSQL
    def _connect_postgresql(self) -> Any:
        """In a thread: a connection of its own (not the pool's), LISTENing."""
        engine = self.store.engine
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        # Keepalives, so a link that silently died (no FIN) is noticed in ~20 s, not hours.
        cparams.setdefault("connect_timeout", 5)
        conn = engine.dialect.dbapi.connect(*cargs, **cparams, keepalives=1, keepalives_idle=10,
                                            keepalives_interval=5, keepalives_count=2,
                                            application_name="jumpdeck change feed")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"LISTEN {CHANNEL}")
        return conn

    async def _listen_postgresql(self) -> None:
        loop = asyncio.get_running_loop()
        attempt = 0
        first = True
        while not self._closed:
            try:
                conn = await asyncio.to_thread(self._connect_postgresql)
            except Exception as exc:  # the store is down: keep trying, quietly
                self.stats.connected = False
                self.stats.errors.append(type(exc).__name__)
                await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
                attempt += 1
                continue
            if self._closed:
                conn.close()
                return
            attempt = 0
            self._conn = conn
            lost = asyncio.Event()
            # Kept: a broken connection no longer tells its socket, and a reader left
            # behind on a closed descriptor would swallow the next connection's.
            self._fd = conn.fileno()
            loop.add_reader(self._fd, self._readable, conn, lost)
            self.stats.connected = True
            if not first:
                # What changed while nobody listened is unknown: everything may have.
                self.stats.reconnects += 1
                self.subscribers.arrived(ALL_TOPICS)
            first = False
            await lost.wait()
            self.stats.connected = False
            self._drop_postgresql(conn)
            if not self._closed:
                await asyncio.sleep(RECONNECT_DELAYS[0])

    def _readable(self, conn: Any, lost: asyncio.Event) -> None:
        try:
            conn.poll()  # consumes what arrived; does not block on a readable socket
        except Exception as exc:
            self.stats.errors.append(type(exc).__name__)
            lost.set()
            return
        topics = set()
        while conn.notifies:
            topics.add(conn.notifies.pop(0).payload)
        if topics:
            self.subscribers.arrived(topics)
        if conn.closed:
            lost.set()

    def _drop_postgresql(self, conn: Any) -> None:
        if self._fd is not None and self._loop is not None:
            self._loop.remove_reader(self._fd)
            self._fd = None
        try:
            conn.close()
        except Exception:
            pass
        if self._conn is conn:
            self._conn = None

    # ----------------------------------------------------------------- SQLite
    async def _watch_sqlite(self) -> None:
        path = self.store.engine.url.database
        loop = asyncio.get_running_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._sqlite_loop, args=(path, loop, ready),
                                        name="change-feed", daemon=True)
        self._thread.start()
        await asyncio.to_thread(ready.wait, 10)

    def _sqlite_loop(self, path: str, loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        import sqlite3

        conn = sqlite3.connect(path, timeout=5, check_same_thread=False)
        try:
            def versions() -> dict[str, int]:
                self.stats.sqlite_reads += 1
                return dict(conn.execute("SELECT topic, version FROM store_changes").fetchall())

            seen_data = conn.execute("PRAGMA data_version").fetchone()[0]
            seen = versions()
            conn.commit()  # no read transaction stays open between looks
            self.stats.connected = True
            ready.set()
            while not self._stop.wait(self.sqlite_interval):
                try:
                    data = conn.execute("PRAGMA data_version").fetchone()[0]
                    if data == seen_data:
                        continue
                    seen_data = data
                    now = versions()
                    conn.commit()
                except sqlite3.Error as exc:  # busy or locked for longer than the timeout: next look
                    self.stats.errors.append(type(exc).__name__)
                    continue
                changed = {t for t, v in now.items() if seen.get(t) != v}
                seen = now
                if changed:
                    try:
                        loop.call_soon_threadsafe(self.subscribers.arrived, changed)
                    except RuntimeError:  # the loop closed
                        return
        finally:
            ready.set()
            conn.close()

    # ------------------------------------------------------------------ close
    def close(self) -> None:
        self._closed = True
        self._stop.set()
        self.subscribers.close()
        if self._conn is not None:
            try:
                self._drop_postgresql(self._conn)
            except RuntimeError:  # the loop is already closed (closing at exit)
                self._conn.close()
        if self._task is not None and not self._task.done():
            self._task.cancel()
