"""The metadata store: migrations, models in step with them, WAL, PostgreSQL, no local fallback."""

import sqlite3

import pytest

from jumpdeck.core.package_data import migrations_dir
from jumpdeck.core.store.engine import HEAD_REVISION, migrate, open_store


def test_head_revision_constant_is_alembics_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD_REVISION


def test_models_and_migrations_do_not_drift(tmp_path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from jumpdeck.core.store.models import Base

    store = open_store(sqlite_path=tmp_path / "s.db", store_url=None)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    store.close()
    assert diff == []


def test_sqlite_store_is_wal_and_keeps_data_across_reopen(tmp_path) -> None:
    from jumpdeck.core.store.models import SettingsRow

    path = tmp_path / "s.db"
    store = open_store(sqlite_path=path, store_url=None)
    store.run_sync(lambda s: setattr(s.get(SettingsRow, 1), "system_notice", "kept"))
    store.close()
    store = open_store(sqlite_path=path, store_url=None)
    assert store.run_sync(lambda s: s.get(SettingsRow, 1).system_notice) == "kept"
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD_REVISION


def test_an_unversioned_old_store_is_upgraded_not_dropped(tmp_path) -> None:
    """A store with alembic_version removed (as if from before migrations) is stamped
    forward by upgrading; existing tables are kept because 0001 is only applied once."""
    path = tmp_path / "s.db"
    store = open_store(sqlite_path=path, store_url=None)
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = ?", (HEAD_REVISION,))
    conn.execute("UPDATE settings SET system_notice = 'old'")
    conn.commit()
    conn.close()
    store = open_store(sqlite_path=path, store_url=None)
    from jumpdeck.core.store.models import SettingsRow

    assert store.run_sync(lambda s: s.get(SettingsRow, 1).system_notice) == "old"
    store.close()


def test_postgresql_store_migrates_and_works(tmp_path, pg_temp_url) -> None:
    from jumpdeck.core.store.models import SettingsRow

    # A bare postgresql:// URL, as operators write it: the store picks psycopg2 itself.
    bare = pg_temp_url.replace("postgresql+psycopg2://", "postgresql://", 1)
    store = open_store(sqlite_path=tmp_path / "unused.db", store_url=bare)
    assert store.kind == "postgresql" and not store.degraded
    store.run_sync(lambda s: setattr(s.get(SettingsRow, 1), "system_notice", "shared"))
    assert store.run_sync(lambda s: s.get(SettingsRow, 1).system_notice) == "shared"
    migrate(store.engine)  # idempotent
    store.close()
    assert not (tmp_path / "unused.db").exists()


async def test_unreachable_postgresql_without_a_snapshot_stops(tmp_path) -> None:
    """No local fallback any more: with no snapshot of the shared store, one sentence."""
    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import open_context
    from jumpdeck.core.errors import StoreUnreachable

    # Port 1 on loopback: nothing listens, the connection is refused at once.
    config = load_config(cli={"home": str(tmp_path / "h"), "store_url": "postgresql://ops:s3cret-pw@127.0.0.1:1/fleet"})
    with pytest.raises(StoreUnreachable) as caught:
        await open_context(config, user="admin")
    assert "no snapshot" in str(caught.value) and "127.0.0.1:1" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)
    assert not config.store_path.exists()


async def test_a_deferred_store_opens_on_first_use_once_and_works(tmp_path) -> None:
    """A serve-ssh session's store: nothing is opened (no file, no engine) until a call
    needs it; concurrent first calls open it once; then it is an ordinary store."""
    import asyncio

    from jumpdeck.core.store.engine import deferred_store
    from jumpdeck.core.store.models import SettingsRow

    path = tmp_path / "deferred.db"
    store = deferred_store(sqlite_path=path, store_url=None, url_display="as the server said", kind="sqlite",
                           degraded_reason=None)
    assert not store.opened and not path.exists() and store.url_display == "as the server said"
    opened = []
    original = store._opener

    def counting(s):  # noqa: ANN001, ANN202
        opened.append(1)
        return original(s)

    store._opener = counting
    await asyncio.gather(store.ready(), *(store.run(lambda s: s.get(SettingsRow, 1)) for _ in range(8)))
    assert opened == [1] and store.opened and path.exists()
    await store.ready()  # open already: nothing more
    assert opened == [1]
    # What the server said is replaced by what this process found.
    assert store.url_display == str(path)
    await store.run(lambda s: setattr(s.get(SettingsRow, 1), "system_notice", "written"))
    store.close()
    again = open_store(sqlite_path=path, store_url=None)
    assert again.run_sync(lambda s: s.get(SettingsRow, 1).system_notice) == "written"
    again.close()


def test_an_unused_deferred_store_closes_without_opening(tmp_path) -> None:
    from jumpdeck.core.store.engine import deferred_store

    store = deferred_store(sqlite_path=tmp_path / "never.db", store_url=None, url_display="x", kind="sqlite",
                           degraded_reason=None)
    store.close()
    assert not store.opened and not (tmp_path / "never.db").exists()


def _settings_rows(store) -> list[int]:
    from sqlalchemy import text

    return store.run_sync(lambda s: [r[0] for r in s.execute(text("SELECT id FROM settings"))])


def test_the_settings_row_comes_with_the_schema(tmp_path) -> None:
    """Created by the migration, not by whoever reads the settings first."""
    store = open_store(sqlite_path=tmp_path / "s.db", store_url=None)
    assert _settings_rows(store) == [1]
    store.close()


def _undo_watch(conn: sqlite3.Connection) -> None:
    """Back to before 0009: no watch tables."""
    for table in ("watch_days", "watch_hours", "watch_incidents", "watch_latest", "watch_claims", "watch_hosts"):
        conn.execute(f"DROP TABLE {table}")


def _undo_no_password(conn: sqlite3.Connection) -> None:
    """Back to before 0008: no no_password flag on servers."""
    conn.execute("ALTER TABLE servers DROP COLUMN no_password")


def _undo_run_lease(conn: sqlite3.Connection) -> None:
    """Back to before 0007: no lease columns on provision_runs."""
    for column in ("lease_host", "lease_pid", "lease_expires_at"):
        conn.execute(f"ALTER TABLE provision_runs DROP COLUMN {column}")


def _undo_change_feed(conn: sqlite3.Connection) -> None:
    """Back to before 0006: no announcing triggers, no store_changes."""
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("DROP TABLE store_changes")


def test_upgrading_to_0008_keeps_servers_with_their_passwords_and_ids(tmp_path) -> None:
    """A server from before 0008 had a password (the registry required one): it keeps it,
    flagged as not a no-password account, and SQLite keeps AUTOINCREMENT on the table."""
    from sqlalchemy import text

    path = tmp_path / "s.db"
    store = open_store(sqlite_path=path, store_url=None)
    first, _second = _add_then_delete_then_add(store)
    store.close()
    conn = sqlite3.connect(path)
    _undo_watch(conn)
    _undo_no_password(conn)
    conn.execute("UPDATE alembic_version SET version_num = '0007_run_lease'")
    conn.commit()
    conn.close()
    store = open_store(sqlite_path=path, store_url=None)
    assert store.run_sync(lambda s: s.execute(text("SELECT name, no_password FROM servers")).all()) == [("two", 0)]
    seq = store.run_sync(lambda s: s.execute(text("SELECT seq FROM sqlite_sequence WHERE name = 'servers'")).scalar())
    store.close()
    assert seq > first
    schema = sqlite3.connect(path).execute("SELECT sql FROM sqlite_master WHERE name = 'servers'").fetchone()[0]
    assert "AUTOINCREMENT" in schema


def test_a_store_from_before_0003_gets_its_settings_row(tmp_path) -> None:
    path = tmp_path / "s.db"
    open_store(sqlite_path=path, store_url=None).close()
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM settings")
    # Back to the 0002 schema: the columns later migrations add go too.
    conn.execute("ALTER TABLE settings DROP COLUMN key_id")
    conn.execute("ALTER TABLE settings DROP COLUMN key_check")
    _undo_watch(conn)
    _undo_no_password(conn)
    _undo_run_lease(conn)
    _undo_change_feed(conn)
    conn.execute("UPDATE alembic_version SET version_num = '0002_provision'")
    conn.commit()
    conn.close()
    store = open_store(sqlite_path=path, store_url=None)
    assert _settings_rows(store) == [1]
    store.close()


def test_settings_read_at_once_on_postgresql_never_collide(tmp_path, pg_temp_url) -> None:
    """The race behind serve-ssh's IntegrityError: many readers of a store whose row is
    missing (deleted by hand here) all get the row, and only one row exists after."""
    import threading

    from sqlalchemy import text

    from jumpdeck.core.settings import _load_row

    store = open_store(sqlite_path=tmp_path / "unused.db", store_url=pg_temp_url)
    store.run_sync(lambda s: s.execute(text("DELETE FROM settings")))
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def read() -> None:
        try:
            def load(session):  # noqa: ANN001, ANN202
                barrier.wait(timeout=10)
                return _load_row(session).id
            assert store.run_sync(load) == 1
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    store.close()
    assert errors == []
    store = open_store(sqlite_path=tmp_path / "unused.db", store_url=pg_temp_url)
    assert _settings_rows(store) == [1]
    store.close()


@pytest.mark.parametrize("url", ["notaurl", "mysql+pymysql://root@127.0.0.1/x", "oracle://u:pw@h/x", "://"])
def test_store_urls_jumpdeck_cannot_use_are_config_errors(tmp_path, url) -> None:
    from jumpdeck.core.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        open_store(sqlite_path=tmp_path / "s.db", store_url=url)
    assert "pw" not in str(caught.value)
    assert not (tmp_path / "s.db").exists()


def test_an_unreachable_postgresql_is_not_a_config_error(tmp_path) -> None:
    """The server did not answer: an outage, not the configuration's fault."""
    from jumpdeck.core.errors import ConfigError, StoreUnreachable

    with pytest.raises(StoreUnreachable) as caught:
        open_store(sqlite_path=tmp_path / "s.db", store_url="postgresql://postgres@127.0.0.1:1/x", connect_timeout=1)
    assert not isinstance(caught.value, ConfigError) and "unreachable" in str(caught.value)
    assert not (tmp_path / "s.db").exists()


def _server(name: str):  # noqa: ANN202
    from jumpdeck.core.store.models import ServerRow

    return ServerRow(name=name, name_key=name, db_type="postgresql", host="127.0.0.1", port=5432, username="u")


def _add_then_delete_then_add(store) -> tuple[int, int]:
    from jumpdeck.core.store.models import ServerRow

    def add(name: str):  # noqa: ANN202
        def go(session):  # noqa: ANN001, ANN202
            row = _server(name)
            session.add(row)
            session.flush()
            return row.id
        return go

    first = store.run_sync(add("one"))
    store.run_sync(lambda s: s.delete(s.get(ServerRow, first)))
    return first, store.run_sync(add("two"))


def test_a_deleted_servers_id_is_never_handed_out_again_sqlite(tmp_path) -> None:
    """So the activity log's `DELETE SERVER:1` and a later `CREATE SERVER:…` never name one id."""
    store = open_store(sqlite_path=tmp_path / "s.db", store_url=None)
    first, second = _add_then_delete_then_add(store)
    store.close()
    assert second > first


def test_a_deleted_servers_id_is_never_handed_out_again_postgresql(tmp_path, pg_temp_url) -> None:
    store = open_store(sqlite_path=tmp_path / "unused.db", store_url=pg_temp_url)
    first, second = _add_then_delete_then_add(store)
    store.close()
    assert second > first


def test_upgrading_to_0004_keeps_every_row_and_skips_ids_the_log_named(tmp_path) -> None:
    """A 0003 store with corps on a server, events on a run and a server deleted earlier
    (id 7, named in the log): the rebuild keeps all rows (nothing cascades), and new ids
    start past 7."""
    path = tmp_path / "s.db"
    open_store(sqlite_path=path, store_url=None).close()
    conn = sqlite3.connect(path)
    # Rebuild the 0003 tables as SQLite had them; legacy renames leave other tables' foreign
    # keys naming the table, not its old copy.
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA legacy_alter_table=ON")
    _undo_watch(conn)
    _undo_no_password(conn)
    _undo_run_lease(conn)
    _undo_change_feed(conn)
    for table in ("servers", "corps", "provision_runs"):
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        conn.execute(f"ALTER TABLE {table} RENAME TO old_{table}")
        conn.execute(sql.replace(" AUTOINCREMENT", ""))
        conn.execute(f"INSERT INTO {table} SELECT * FROM old_{table}")
        conn.execute(f"DROP TABLE old_{table}")
    conn.execute("DELETE FROM sqlite_sequence")
    now = "2026-01-01 00:00:00"
    conn.execute("INSERT INTO servers (id, name, name_key, db_type, host, port, username, password_enc, default_db,"
                 " description, tags, group_name, is_active, created_at, updated_at)"
                 " VALUES (3, 'a', 'a', 'postgresql', 'h', 1, 'u', '', '', '', '[]', '', 1, ?, ?)", (now, now))
    conn.execute("INSERT INTO corps (server_id, code, name, db_name, status, created_at) VALUES (3, 'c1', 'C1', 'd1', 'ok', ?)", (now,))
    conn.execute("INSERT INTO provision_runs (id, service_name, template, status, assigned_ip, created_by, runner,"
                 " created_at, details, artifact_dir, cancel_requested) VALUES (4, 's', 'single', 'COMPLETED', '', 'u',"
                 " 'mock', ?, '{}', '', 0)", (now,))
    conn.executemany("INSERT INTO provision_events (run_id, at, kind, result, host, task, text)"
                     " VALUES (4, ?, 'line', '', '', '', ?)", [(now, f"line {i}") for i in range(5)])
    conn.execute("INSERT INTO activity_log (at, actor, origin, action, target_type, target_id, detail)"
                 " VALUES (?, 'root', 'local', 'DELETE', 'SERVER', '7', 'gone')", (now,))
    conn.execute("ALTER TABLE settings DROP COLUMN key_id")  # added by 0005
    conn.execute("ALTER TABLE settings DROP COLUMN key_check")
    conn.execute("UPDATE alembic_version SET version_num = '0003_settings_row'")
    conn.commit()
    conn.close()

    store = open_store(sqlite_path=path, store_url=None)
    from sqlalchemy import text

    counts = store.run_sync(lambda s: [s.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar()
                                       for t in ("servers", "corps", "provision_runs", "provision_events")])
    assert counts == [1, 1, 1, 5]
    _first, second = _add_then_delete_then_add(store)
    store.close()
    assert second > 7
    conn = sqlite3.connect(path)
    assert "AUTOINCREMENT" in conn.execute("SELECT sql FROM sqlite_master WHERE name = 'provision_runs'").fetchone()[0]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_processes_opening_a_brand_new_sqlite_store_at_once_all_succeed(tmp_path) -> None:
    """Four processes open the same new file at the same instant: one migrates it, the
    others find it migrated (before the lock, one of them failed on "table … already
    exists")."""
    import subprocess
    import sys
    import time

    path = tmp_path / "fresh.db"
    start = time.time() + 1.5
    code = ("import sys, time\n"
            "from jumpdeck.core.store.engine import open_store\n"
            "time.sleep(max(0, float(sys.argv[2]) - time.time()))\n"
            "open_store(sqlite_path=sys.argv[1], store_url=None).close()\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), str(start)], stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    results = [(p.wait(60), p.stderr.read()) for p in procs]
    assert [rc for rc, _ in results] == [0, 0, 0, 0], [err for _, err in results]


def _alembic(engine, verb: str, target: str) -> None:  # noqa: ANN001
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, verb)(cfg, target)


def _watch_round_trip(store) -> None:  # noqa: ANN001
    """0009 down to 0008 drops the watch tables and keeps the servers; up again they
    come back empty and take rows."""
    from datetime import datetime

    from sqlalchemy import inspect, text

    from jumpdeck.core.store.models import WatchHourRow, WatchIncidentRow

    _first, second = _add_then_delete_then_add(store)
    at = datetime(2026, 1, 1, 3, 12)
    store.run_sync(lambda s: s.add(WatchIncidentRow(server_id=second, started_at=at, error_kind="timeout", message="m")))
    _alembic(store.engine, "downgrade", "0008_no_password")
    tables = set(inspect(store.engine).get_table_names())
    assert not {t for t in tables if t.startswith("watch_")}
    assert store.run_sync(lambda s: s.execute(text("SELECT name FROM servers")).scalars().all()) == ["two"]
    _alembic(store.engine, "upgrade", "head")
    store.run_sync(lambda s: s.add(WatchHourRow(server_id=second, bucket=at, up=1, down=0, latency_sum=2.0,
                                                latency_min=2.0, latency_max=2.0, minutes=b"\0" * 960)))
    assert store.run_sync(lambda s: s.execute(text("SELECT COUNT(*) FROM watch_incidents")).scalar()) == 0
    assert store.run_sync(lambda s: s.execute(text("SELECT up FROM watch_hours")).scalar()) == 1


def test_0009_watch_downgrades_and_upgrades_sqlite(tmp_path) -> None:
    store = open_store(sqlite_path=tmp_path / "s.db", store_url=None)
    _watch_round_trip(store)
    store.close()


def test_0009_watch_downgrades_and_upgrades_postgresql(tmp_path, pg_temp_url) -> None:
    store = open_store(sqlite_path=tmp_path / "unused.db", store_url=pg_temp_url)
    _watch_round_trip(store)
    store.close()
