"""The CLI as cron and systemd run it: a real subprocess of `python -m jumpdeck.tui.cli`."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from jumpdeck.core.production import schema
from tests.maintenance.conftest import fill

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "jd"
    fill(home / "database" / schema.LIVE_DB_NAME, {2025: 120, 2026: 80})
    return home


def jd(home, *args, stdin=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMPDECK_")}
    env["JUMPDECK_CONFIG"] = os.devnull
    return subprocess.run([sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main(sys.argv[1:]))", "--home", str(home), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_backup_list_watcher_health_flow(home):
    health = jd(home, "health", "--json")
    assert health.returncode == 1
    assert "no verified backup of the live DB" in json.loads(health.stdout)["reasons"]

    out = jd(home, "backup", "--live")
    assert out.returncode == 0, out.stderr
    assert "verified" in out.stdout and "production_" in out.stdout
    listing = json.loads(jd(home, "backup", "--list", "--json").stdout)
    assert [b["kind"] for b in listing] == ["live"] and listing[0]["verified"]

    watch = jd(home, "watcher", "--force-analyze")
    assert watch.returncode == 0, watch.stderr
    assert "ANALYZE OK" in watch.stdout
    assert "ANALYZE OK" in (home / "logs" / "watcher.log").read_text()

    health = jd(home, "health", "--json")
    reasons = json.loads(health.stdout)["reasons"]
    # Only the disk may still be short on a small test machine.
    assert all("disk free" in r for r in reasons), reasons
    assert health.returncode == (1 if reasons else 0)


def test_restore_integrity_checkpoint(home):
    jd(home, "backup", "--live")
    name = json.loads(jd(home, "backup", "--list", "--json").stdout)[0]["name"]
    live = home / "database" / schema.LIVE_DB_NAME
    conn = sqlite3.connect(live)
    conn.execute("DELETE FROM production_records")
    conn.commit()
    conn.close()
    out = jd(home, "restore", name, "--yes")
    assert out.returncode == 0, out.stderr
    assert "kept as production_analysis.db.broken-" in out.stdout
    integ = jd(home, "integrity")
    assert integ.returncode == 0 and "production_analysis.db: ok, 200 rows" in integ.stdout
    assert jd(home, "checkpoint").returncode == 0
    missing = jd(home, "restore", "production_19990101_000000.db", "--yes")
    assert missing.returncode == 1 and "There is no backup file" in missing.stderr


def test_archive_rollover_dry_run_then_real(home):
    dry = jd(home, "archive", "rollover", "--year", "2026", "--dry-run")
    assert dry.returncode == 0
    assert "120 rows of 2025 -> a new archive_2025.db" in dry.stdout and "nothing was changed" in dry.stdout
    assert not (home / "database" / "archive_2025.db").exists()
    real = jd(home, "archive", "rollover", "--year", "2026")
    assert real.returncode == 0, real.stderr
    assert "200 rows before, 200 after" in real.stdout
    assert (home / "database" / "archive_2025.db").exists()


def test_usage_errors_exit_2(home):
    assert jd(home, "archive", "rollover").returncode == 2
    assert jd(home, "backup", "--bogus").returncode == 2
