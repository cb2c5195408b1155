"""What interrupted backups, restores and rollovers leave behind: health names it with
its size, and the next run of the same command (or `backup --cleanup`) removes it. And
production files that are not what they should be are one sentence, not a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jumpdeck.core.maintenance import backup, leftovers, restore, rollover
from jumpdeck.core.maintenance.backup import Source, copy_verified
from jumpdeck.core.maintenance.health import check_health
from jumpdeck.core.production import schema
from tests.maintenance.conftest import fill

ROOT = Path(__file__).resolve().parents[2]
MB = 1_000_000


def plant(path: Path, size: int) -> Path:
    """A file of `size` bytes where a SIGKILLed command leaves its copy."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def jd(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMPDECK_")}
    env.update({"JUMPDECK_HOME": str(home), "JUMPDECK_CONFIG": os.devnull})
    return subprocess.run([sys.executable, "-m", "jumpdeck.tui.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def one_sentence(out: subprocess.CompletedProcess, code: int) -> str:
    assert out.returncode == code, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


async def test_health_names_leftovers_with_their_size_and_cleanup_removes_them(ctx, live):
    restoring = plant(ctx.config.database_dir / ".production_analysis.db.restoring-20261203_101010", 3 * MB)
    partial = plant(ctx.config.backups_dir / ".production_20261203_101010.db.partial", 2 * MB)
    health = await check_health(ctx)
    said = [r for r in health.reasons if "left by interrupted" in r]
    assert len(said) == 1 and "2 file(s)" in said[0] and "5.0 MB" in said[0], health.reasons
    assert restoring.name in said[0] and "backup --cleanup" in said[0]
    assert health.leftover_bytes == 5 * MB and not health.ok

    events = [e async for e in backup.run_backup(ctx, cleanup_only=True)]
    swept = {e.name for e in events if isinstance(e, backup.BackupSwept)}
    assert swept == {restoring.name, partial.name}
    assert not restoring.exists() and not partial.exists()
    assert not [r for r in (await check_health(ctx)).reasons if "left by interrupted" in r]


async def test_the_next_restore_removes_what_a_killed_restore_left(ctx, live):
    [done] = [e for e in await backup.backup_all(ctx, {"live"}) if isinstance(e, backup.BackupDone)]
    killed = [plant(live.with_name(f".{live.name}.restoring-20261203_0{i}0000"), MB) for i in range(3)]
    await restore.restore(ctx, done.backup.name)
    assert not [p for p in killed if p.exists()]
    assert restore.restoring_leftovers(live.parent) == []


async def test_a_backup_stopped_mid_copy_leaves_no_partial(config, live):
    class StopAtFirstStep:
        """Raises as Ctrl-C would, from inside the copy."""

        def emit(self, event) -> None:  # noqa: ANN001
            if isinstance(event, backup.BackupProgress):
                raise KeyboardInterrupt

        def raise_if_cancelled(self) -> None:
            pass

    with pytest.raises(KeyboardInterrupt):
        copy_verified(Source("live", "live", live, "production"), config.backups_dir, emitter=StopAtFirstStep(),
                      step_pages=1)
    assert list(config.backups_dir.glob(".*partial*")) == []


async def test_a_rollover_killed_mid_build_leaves_nothing_after_the_next_run(ctx, live):
    with pytest.raises(rollover.InjectedCrash):
        [e async for e in rollover.rollover(ctx, 2026, fail_after="archive", crash=True)]
    # What a SIGKILL during the trim and during the final backup would also have left.
    plant(live.with_name(f".{live.name}.rollover-new"), MB)
    plant(ctx.config.backups_dir / ".production_20261203_101010.db.partial", MB)
    assert {item.left_by for item in leftovers.find_leftovers(ctx.config)} == {"rollover", "backup"}
    events = [e async for e in rollover.rollover(ctx, 2026)]
    assert isinstance(events[-1], rollover.RolloverResult)
    assert leftovers.find_leftovers(ctx.config) == []


async def test_a_finished_rollover_sweeps_scratch_files_of_an_earlier_killed_one(ctx, live):
    plant(schema.archive_db_path(ctx.config, 2025).with_name(".archive_2025.db.rollover-tmp"), MB)
    plant(ctx.config.database_dir / ".rollover.json.tmp", 10)
    events = [e async for e in rollover.rollover(ctx, 2026)]
    assert isinstance(events[-1], rollover.RolloverResult)
    assert leftovers.find_leftovers(ctx.config) == []


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "jd"
    fill(home / "database" / schema.LIVE_DB_NAME, {2025: 50, 2026: 40})
    return home


def test_a_journal_without_its_keys_is_one_sentence_and_health_says_so(home):
    (home / "database" / rollover.JOURNAL).write_text(json.dumps({"year": 2026}))
    line = one_sentence(jd(home, "archive", "rollover", "--year", "2026"), 1)
    assert "journal" in line and "damaged" in line and "nothing was changed" in line
    health = json.loads(jd(home, "health", "--json").stdout)
    assert any("journal" in r and "damaged" in r for r in health["reasons"]), health["reasons"]
    (home / "database" / rollover.JOURNAL).write_text("{not json")
    assert "damaged" in one_sentence(jd(home, "archive", "rollover", "--year", "2026"), 1)


@pytest.mark.parametrize("content, words", [
    (b"this is an ERP export, not a database\n" * 50, "not a SQLite database"),
    (None, "without the production_records table"),
])
def test_a_live_db_that_is_not_one_is_one_sentence(home, content, words):
    live = home / "database" / schema.LIVE_DB_NAME
    live.unlink()
    if content is None:
        import sqlite3

        conn = sqlite3.connect(live)
        conn.execute("CREATE TABLE other (id INTEGER)")
        conn.commit()
        conn.close()
    else:
        live.write_bytes(content)
    before = live.read_bytes()
    for args in (["archive", "rollover", "--year", "2027"], ["archive", "rollover", "--year", "2027", "--dry-run"]):
        line = one_sentence(jd(home, *args), 1)
        assert words in line and schema.LIVE_DB_NAME in line, line
    if content is not None:  # checkpoint needs no table, only a SQLite file
        line = one_sentence(jd(home, "checkpoint"), 1)
        assert words in line and schema.LIVE_DB_NAME in line, line
    assert live.read_bytes() == before
