"""The triggers behind the change feed: every write to a watched table is announced,
on SQLite as a counter and on PostgreSQL as a NOTIFY delivered at commit."""

from __future__ import annotations

import select

import pytest
from sqlalchemy import text

from jumpdeck.core.store.announcers import CHANNEL, WATCHED_TABLES
from jumpdeck.core.store.engine import open_store


def _versions(store) -> dict[str, int]:
    return dict(store.run_sync(lambda s: s.execute(text("SELECT topic, version FROM store_changes")).all()))


def test_every_watched_table_has_a_counter_and_a_write_bumps_only_its_own(tmp_path) -> None:
    store = open_store(sqlite_path=tmp_path / "s.db", store_url=None)
    before = _versions(store)
    assert set(before) == set(WATCHED_TABLES)
    store.run_sync(lambda s: s.execute(text("UPDATE settings SET system_notice = 'x' WHERE id = 1")))
    after = _versions(store)
    assert after["settings"] == before["settings"] + 1
    assert {k: v for k, v in after.items() if k != "settings"} == {k: v for k, v in before.items() if k != "settings"}
    store.close()


def test_postgresql_announces_at_commit_and_not_on_rollback(tmp_path, pg_temp_url) -> None:
    store = open_store(sqlite_path=tmp_path / "unused.db", store_url=pg_temp_url)
    raw = store.engine.raw_connection()
    try:
        listener = raw.driver_connection
        listener.set_session(autocommit=True)
        listener.cursor().execute(f"LISTEN {CHANNEL}")

        def rolled_back(s):
            s.execute(text("UPDATE settings SET system_notice = 'y' WHERE id = 1"))
            raise RuntimeError("undo")

        with pytest.raises(RuntimeError):
            store.run_sync(rolled_back)
        store.run_sync(lambda s: s.execute(text(
            "INSERT INTO users (name, role, status, created_at, updated_at) VALUES ('ann', 'viewer', 'active', now(), now())")))
        select.select([listener], [], [], 2.0)
        listener.poll()
        payloads = [n.payload for n in listener.notifies]
        assert payloads == ["users"]
    finally:
        raw.invalidate()
        store.close()
