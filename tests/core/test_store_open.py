"""A store file that is not a jumpdeck store stops the command with one sentence, exit
2, and is left exactly as it was; a fresh store is made only where no file exists. The
same for a key file that is a directory, and a home that cannot be written."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from jumpdeck.core.errors import ConfigError
from jumpdeck.core.store.engine import open_store

ROOT = Path(__file__).resolve().parents[2]


def jd(home: Path, *args: str, prefix: list[str] | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMPDECK_")}
    env.update({"JUMPDECK_HOME": str(home), "JUMPDECK_CONFIG": os.devnull})
    return subprocess.run([*(prefix or []), sys.executable, "-m", "jumpdeck.tui.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_beside(home: Path) -> list[str]:
    """The store's files and the key's; the empty lock file that serialises opening is not data."""
    return sorted(p.name for p in [*home.glob("store.db*"), *home.glob("secret.key*")] if p.suffix != ".migrate-lock")


def foreign_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER)")
    conn.execute("INSERT INTO invoices VALUES (1, 100)")
    conn.commit()
    conn.close()


def empty_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 1")  # writes the header, no table
    conn.close()


def newer_store(path: Path) -> None:
    open_store(sqlite_path=path, store_url=None).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    conn.commit()
    conn.close()


CASES = {
    "empty file": (lambda p: p.write_bytes(b""), "is empty (0 bytes)"),
    "not sqlite": (lambda p: p.write_text("servers: []\n"), "is not a SQLite database"),
    "another program's db": (foreign_sqlite, "1 table(s) of another program"),
    "sqlite without tables": (empty_sqlite, "an empty SQLite database"),
    "newer schema": (newer_store, "9999_from_the_future"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_file_that_is_not_a_store_is_refused_and_left_alone(tmp_path, case) -> None:
    home = tmp_path / "home"
    home.mkdir()
    store = home / "store.db"
    make, words = CASES[case]
    make(store)
    before = digest(store)
    beside = files_beside(home)
    out = jd(home, "servers", "ls")
    assert out.returncode == 2, out.stderr
    assert words in out.stderr and "jumpdeck changed nothing" in out.stderr
    assert "Traceback" not in out.stderr and "No servers" not in out.stdout
    assert len(out.stderr.strip().splitlines()) == 1
    assert digest(store) == before
    # Nothing beside it either: no WAL, no key made for a store that was never opened.
    assert files_beside(home) == beside


def test_a_directory_at_the_store_path_is_refused(tmp_path) -> None:
    (tmp_path / "s.db").mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        open_store(sqlite_path=tmp_path / "s.db", store_url=None)


def test_a_missing_file_makes_a_fresh_store_and_an_existing_store_opens(tmp_path) -> None:
    path = tmp_path / "s.db"
    open_store(sqlite_path=path, store_url=None).close()
    assert path.stat().st_size > 0
    open_store(sqlite_path=path, store_url=None).close()  # the store it made is a store


def test_a_key_file_that_is_a_directory_is_one_sentence(tmp_path) -> None:
    home = tmp_path / "home"
    assert jd(home, "servers", "ls").returncode == 0
    (home / "secret.key").unlink()
    (home / "secret.key").mkdir()
    out = jd(home, "servers", "ls")
    assert out.returncode == 2 and "secret.key is a directory" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def os_user_name() -> str:
    from jumpdeck.core.context import local_user_name

    return local_user_name()


def read_only_home() -> list[str]:
    """A mount namespace in which `$JUMPDECK_HOME` is a read-only bind mount of itself:
    as root, file modes would not stop a write, a read-only mount does."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a read-only mount needs root and unshare(1)")
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            'mount --bind "$JUMPDECK_HOME" "$JUMPDECK_HOME" && mount -o remount,bind,ro "$JUMPDECK_HOME" && exec "$@"', "sh"]


@pytest.fixture(scope="module")
def read_only(tmp_path_factory) -> tuple[Path, list[str]]:
    """A home with a store, the live DB and a backup, then mounted read-only (each command
    in a mount namespace of its own: the home stays writable outside it)."""
    home = tmp_path_factory.mktemp("read-only") / "home"
    for args in (["servers", "ls"], ["demo-data", "--rows", "500"], ["backup", "--live"]):
        assert jd(home, *args).returncode == 0
    return home, read_only_home()


def errors(out: subprocess.CompletedProcess) -> list[str]:
    """stderr without the warning that the run keeps no log (the disk is read-only)."""
    return [line for line in out.stderr.strip().splitlines() if "keeps no log" not in line]


@pytest.mark.parametrize("args, shows", [
    (["servers", "ls"], "No servers are registered"),
    (["users", "ls"], os_user_name()),
    (["activity", "ls"], "REGISTER"),
    (["backup", "--list"], "production_"),
    (["report", "monthly", "--from", "2026-01-01", "--to", "2026-12-31"], "2026-01"),
])
def test_a_read_only_home_still_answers_reading_commands(read_only, args, shows) -> None:
    home, prefix = read_only
    out = jd(home, *args, prefix=prefix)
    assert out.returncode == 0 and shows in out.stdout, out.stderr
    assert errors(out) == [] and "keeps no log" in out.stderr


@pytest.mark.parametrize("args, words", [
    (["settings", "set", "maintenance_mode", "true"], "is on a read-only disk, so nothing can be changed"),
    (["backup", "--live"], "Cannot take the maintenance lock"),
    (["archive", "rollover", "--year", "2027"], "Cannot take the maintenance lock"),
    (["demo-data", "--rows", "100", "--replace"], "cannot be written"),
])
def test_a_read_only_home_refuses_changes_in_one_sentence(read_only, args, words) -> None:
    home, prefix = read_only
    out = jd(home, *args, prefix=prefix)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    [line] = errors(out)
    assert words in line


def test_a_log_that_cannot_be_opened_costs_the_log_not_the_command(tmp_path) -> None:
    home = tmp_path / "home"
    assert jd(home, "servers", "ls").returncode == 0
    log = home / "logs" / "jumpdeck.log"
    log.unlink()
    log.mkdir()  # opening it for appending fails, as on a full or read-only disk
    out = jd(home, "servers", "ls")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert "jumpdeck.log cannot be opened for writing" in out.stderr and "keeps no log" in out.stderr


def test_a_postgresql_database_of_another_program_is_refused_untouched(tmp_path, pg_temp_url) -> None:
    from sqlalchemy import create_engine, inspect, text

    other = create_engine(pg_temp_url)
    with other.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER)"))
    try:
        with pytest.raises(ConfigError, match=r"holds 1 table\(s\) of another program") as info:
            open_store(sqlite_path=tmp_path / "unused.db", store_url=pg_temp_url)
        assert "jumpdeck changed nothing" in str(info.value) and "CREATE DATABASE" in str(info.value)
        with other.connect() as conn:
            assert inspect(conn).get_table_names() == ["invoices"]
    finally:
        other.dispose()


def test_an_empty_postgresql_database_becomes_a_store(tmp_path, pg_temp_url) -> None:
    open_store(sqlite_path=tmp_path / "unused.db", store_url=pg_temp_url).close()
    open_store(sqlite_path=tmp_path / "unused.db", store_url=pg_temp_url).close()
