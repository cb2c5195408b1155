"""The change feed over a real SQLite file and a real PostgreSQL database: a commit by
another process reaches a subscriber of its table, and only of its table; a lost
listening connection comes back and says everything may have changed."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from sqlalchemy import text

from jumpdeck.core.store.announcers import WATCHED_TABLES
from jumpdeck.core.store.changes import ALL_TOPICS, ChangeFeed
from jumpdeck.core.store.engine import open_store

# Generous: only a feed that never delivers fails; how fast it is, bench/team.py measures.
WAIT = 15.0


def _write_from_another_process(url: str, sql: str) -> None:
    """A commit by another OS process, through plain SQLAlchemy."""
    code = ("import sys; from sqlalchemy import create_engine, text\n"
            "e = create_engine(sys.argv[1])\n"
            "with e.begin() as c: c.execute(text(sys.argv[2]))\n")
    subprocess.run([sys.executable, "-c", code, url, sql], check=True, timeout=60)


async def _next(queue: asyncio.Queue) -> frozenset[str]:
    return await asyncio.wait_for(queue.get(), WAIT)


def _stores(tmp_path, request):
    if request.param == "sqlite":
        path = tmp_path / "team.db"
        return open_store(sqlite_path=path, store_url=None), f"sqlite:///{path}"
    url = request.getfixturevalue("pg_temp_url")
    return open_store(sqlite_path=tmp_path / "unused.db", store_url=url), url.replace("postgresql://", "postgresql+psycopg2://", 1)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_and_url(tmp_path, request):
    store, url = _stores(tmp_path, request)
    yield store, url
    store.close()


INSERT_SERVER = ("INSERT INTO servers (name, name_key, db_type, host, port, username, password_enc, default_db,"
                 " description, tags, group_name, is_active, created_at, updated_at) VALUES"
                 " ('{n}', '{n}', 'postgresql', 'h', 5432, 'u', '', '', '', '[]', '', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")


async def test_a_commit_elsewhere_reaches_the_subscribers_of_its_table_only(store_and_url) -> None:
    store, url = store_and_url
    feed = ChangeFeed(store, sqlite_interval=0.05)
    servers, settings = asyncio.Queue(), asyncio.Queue()
    feed.subscribe({"servers", "corps"}, servers.put_nowait)
    feed.subscribe({"settings"}, settings.put_nowait)
    await feed.started()
    try:
        await asyncio.to_thread(_write_from_another_process, url, INSERT_SERVER.format(n="a"))
        assert await _next(servers) == {"servers"}
        assert settings.empty()
        await asyncio.to_thread(_write_from_another_process, url,
                                "UPDATE settings SET system_notice = 'maintenance at 18:00' WHERE id = 1")
        assert await _next(settings) == {"settings"}
        await asyncio.sleep(0.3)
        assert servers.empty()
    finally:
        feed.close()


async def test_a_rolled_back_write_announces_nothing(store_and_url) -> None:
    store, _url = store_and_url
    feed = ChangeFeed(store, sqlite_interval=0.05)
    got = asyncio.Queue()
    feed.subscribe(WATCHED_TABLES, got.put_nowait)
    await feed.started()

    def undone(session):
        session.execute(text("UPDATE settings SET system_notice = 'x' WHERE id = 1"))
        raise RuntimeError("undo")

    try:
        with pytest.raises(RuntimeError):
            await store.run(undone)
        await store.run(lambda s: s.execute(text("UPDATE corps SET status = 'ok' WHERE 1 = 0")))
        await asyncio.sleep(0.5)
        # PostgreSQL announces a statement that touched no row; SQLite's row triggers do not.
        seen = set()
        while not got.empty():
            seen |= got.get_nowait()
        assert "settings" not in seen
    finally:
        feed.close()


async def test_postgresql_feed_survives_its_connection_being_killed(tmp_path, pg_temp_url) -> None:
    store = open_store(sqlite_path=tmp_path / "unused.db", store_url=pg_temp_url)
    feed = ChangeFeed(store)
    got = asyncio.Queue()
    feed.subscribe({"servers"}, got.put_nowait)
    await feed.started()
    url = pg_temp_url.replace("postgresql://", "postgresql+psycopg2://", 1)
    try:
        await store.run(lambda s: s.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'jumpdeck change feed' AND datname = current_database()")))
        # Back, it cannot know what it missed: every topic, once.
        try:
            first = await _next(got)
        except TimeoutError:
            raise AssertionError(feed.stats)
        assert first == {"servers"} & ALL_TOPICS
        assert feed.stats.reconnects == 1
        await asyncio.to_thread(_write_from_another_process, url, INSERT_SERVER.format(n="b"))
        assert await _next(got) == {"servers"}
    finally:
        feed.close()
        store.close()


async def test_an_idle_postgresql_feed_sends_no_query(tmp_path, pg_temp_url) -> None:
    """The listening connection's last statement stays the LISTEN while a notice comes
    and goes: receiving costs no query."""
    store = open_store(sqlite_path=tmp_path / "unused.db", store_url=pg_temp_url)
    feed = ChangeFeed(store)
    got = asyncio.Queue()
    feed.subscribe({"settings"}, got.put_nowait)
    await feed.started()
    try:
        await store.run(lambda s: s.execute(text("UPDATE settings SET system_notice = 'n' WHERE id = 1")))
        await _next(got)
        queries = await store.run(lambda s: s.execute(text(
            "SELECT query FROM pg_stat_activity WHERE application_name = 'jumpdeck change feed' "
            "AND datname = current_database()")).scalars().all())
        assert queries == ["LISTEN jumpdeck_changes"]
    finally:
        feed.close()
        store.close()
