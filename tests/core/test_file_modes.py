"""Everything jumpdeck writes that holds fleet data is 0600, its folders 0700, under the
usual umask 022: real commands in subprocesses, then a walk over the home and the
files they exported."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from jumpdeck.core.private_files import open_private, private_dir, touch_private

ROOT = Path(__file__).resolve().parents[2]
UMASK = 0o022


def jd(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMPDECK_")}
    env.update({"JUMPDECK_HOME": str(home), "JUMPDECK_CONFIG": os.devnull})
    return subprocess.run([sys.executable, "-m", "jumpdeck.tui.cli", *args], cwd=ROOT, env=env, umask=UMASK,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def readable_by_others(root: Path) -> list[str]:
    """Every path under `root` (itself included) that group or others may read, with its mode."""
    found = []
    for path in [root, *root.rglob("*")]:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            continue
        if stat.S_IMODE(st.st_mode) & 0o077:
            found.append(f"{path.relative_to(root.parent)} {stat.S_IMODE(st.st_mode):o}")
    return found


def test_every_file_the_commands_write_is_private_under_umask_022(tmp_path) -> None:
    home = tmp_path / "home"
    outside = tmp_path / "exports"
    outside.mkdir()

    def ok(*args: str) -> subprocess.CompletedProcess:
        out = jd(home, *args)
        assert out.returncode == 0, (args, out.stderr)
        assert "Traceback" not in out.stderr
        return out

    ok("servers", "ls")  # the store, its WAL and SHM, the key, the log
    ok("demo-data", "--rows", "3000")  # the live DB and archive_2025.db
    ok("backup")  # live, archive and store backups and their manifest
    name = next(b["name"] for b in json.loads(ok("backup", "--list", "--json").stdout) if b["kind"] == "live")
    ok("restore", name, "--yes")  # the restored live DB and the kept .broken copy
    ok("watcher", "--force-analyze")  # watcher.log and its state
    ok("archive", "rollover", "--year", "2027")  # archive_2026.db made of the old live DB, a new live DB
    ok("provision", "start", "single", "--name", "modes-app", "--runner", "mock", "--target", "none",
       "--option", "step_delay=0", "--follow")  # runs/<id>/ and its worker.log
    ok("servers", "export", "--encrypted", "-o", str(outside / "fleet.json"), "--format", "json")
    ok("key", "export", "-o", str(outside / "store.key"))
    jd(home, "health")  # degraded on a small disk is fine: it only has to write nothing readable

    # The walk is meaningful only if the commands wrote what they are said to write.
    database = home / "database"
    for expected in [home / "store.db", home / "secret.key", home / "logs" / "jumpdeck.log",
                     home / "logs" / "watcher.log", database / "production_analysis.db", database / "archive_2026.db",
                     database / "backups" / ".verified.json", home / "runs"]:
        assert expected.exists(), expected
    assert list((database / "backups").glob("store_*.db")) and list(database.glob("production_analysis.db.broken-*"))
    assert readable_by_others(home) == []
    for exported in outside.iterdir():
        assert stat.S_IMODE(exported.stat().st_mode) == 0o600, exported


def test_an_old_store_made_0644_is_made_private_when_opened(tmp_path) -> None:
    home = tmp_path / "home"
    assert jd(home, "servers", "ls").returncode == 0
    for path in [home / "store.db", home / "store.db-wal", home / "store.db-shm"]:
        if path.exists():
            os.chmod(path, 0o644)
    os.chmod(home, 0o755)
    assert jd(home, "servers", "ls").returncode == 0
    assert readable_by_others(home) == []


def test_the_store_wal_and_shm_are_private_while_the_store_is_open(tmp_path) -> None:
    """SQLite removes them at the last close, so they are looked at while a store is open."""
    from sqlalchemy import text

    from jumpdeck.core.store.engine import open_store

    old = os.umask(UMASK)
    try:
        store = open_store(sqlite_path=tmp_path / "home" / "store.db", store_url=None)
        try:
            store.run_sync(lambda session: session.execute(text("UPDATE settings SET id = id")))
            sides = [tmp_path / "home" / f"store.db{suffix}" for suffix in ("-wal", "-shm")]
            assert all(p.exists() for p in sides)
            assert readable_by_others(tmp_path / "home") == []
        finally:
            store.close()
    finally:
        os.umask(old)


def test_the_helpers_ignore_the_umask_and_chmod_an_existing_file(tmp_path) -> None:
    old = os.umask(0)  # the most permissive umask: the modes come from the helpers alone
    try:
        folder = private_dir(tmp_path / "a" / "b")
        touch_private(folder / "db")
        with open_private(folder / "log", "a") as handle:
            handle.write("x\n")
        existing = folder / "old"
        existing.write_text("x")
        os.chmod(existing, 0o666)
        with open_private(existing, "w") as handle:
            handle.write("y")
    finally:
        os.umask(old)
    assert readable_by_others(tmp_path / "a") == []
    assert existing.read_text() == "y"
