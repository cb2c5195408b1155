"""`jumpdeck notify` as an admin scripts it: real subprocesses, a real receiver, and the
target's token in none of the output, the log or the activity log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.notify.conftest import TOKEN

ROOT = Path(__file__).resolve().parents[2]


def jd(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMPDECK_")}
    env["JUMPDECK_CONFIG"] = os.devnull
    return subprocess.run([sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main(sys.argv[1:]))",
                           "--home", str(home), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, input=stdin)


def test_add_list_test_and_remove_targets_without_showing_the_token(tmp_path, receiver, silent_url):
    home = tmp_path / "jd"
    added = jd(home, "notify", "add-target", "-", stdin=receiver.url + "\n")
    assert added.returncode == 0, added.stderr
    assert f"json://127.0.0.1:{receiver.port}/…" in added.stdout
    assert jd(home, "notify", "add-target", "-", stdin=silent_url + "\n").returncode == 0
    assert jd(home, "notify", "set", "timeout_seconds", "3").returncode == 0

    listing = jd(home, "notify", "ls", "--json")
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    assert [t["id"] for t in data["targets"]] == [1, 2] and data["rules"]["server_down"]["after_failures"] == 3

    tested = jd(home, "notify", "test")
    assert tested.returncode == 1  # target 2 never answers
    assert "target 1 json://127.0.0.1" in tested.stdout and ": sent" in tested.stdout
    assert "target 2" in tested.stdout and "FAILED: no answer within 3 s" in tested.stdout
    assert receiver.titles() == ["jumpdeck test notification"]
    one = jd(home, "notify", "test", "1")
    assert one.returncode == 0 and "target 2" not in one.stdout

    assert jd(home, "notify", "rm-target", "2").returncode == 0
    assert jd(home, "notify", "test").returncode == 0
    gone = jd(home, "notify", "rm-target", "2")
    assert gone.returncode == 1 and "There is no notification target 2." in gone.stderr

    audit = jd(home, "activity", "ls", "--target", "NOTIFY", "--limit", "100", "--json").stdout
    assert "NOTIFY_SENT" in audit and "NOTIFY_FAILED" in audit and "NOTIFY_ADD_TARGET" in audit
    texts = [added.stdout, listing.stdout, jd(home, "notify", "ls").stdout, tested.stdout, tested.stderr, audit,
             gone.stderr]
    texts += [p.read_text(errors="replace") for p in (home / "logs").glob("*")]
    assert all(TOKEN not in text for text in texts)


def test_rules_timings_and_windows(tmp_path):
    home = tmp_path / "jd"
    assert jd(home, "notify", "rule", "server_down", "--after", "5").stdout.strip() == "server_down: on, after 5 failed checks"
    assert jd(home, "notify", "rule", "run_failed", "--off").returncode == 0
    bad = jd(home, "notify", "rule", "run_failed", "--after", "2")
    assert bad.returncode == 2 and "--after applies to server_down only." in bad.stderr
    window = jd(home, "notify", "window", "add", "--tag", "batch", "--start", "2026-12-24 22:00", "--for", "2h",
                "--reason", "patching")
    assert window.returncode == 0, window.stderr
    assert "Window 1: tag batch muted 2026-12-24 22:00 to 2026-12-25 00:00 UTC." in window.stdout
    backwards = jd(home, "notify", "window", "add", "--server", "pg-1", "--start", "2026-12-24 22:00",
                   "--end", "2026-12-24 21:00")
    assert backwards.returncode == 2 and "must end after it starts" in backwards.stderr
    data = json.loads(jd(home, "notify", "ls", "--json").stdout)
    assert data["rules"]["run_failed"]["enabled"] is False and data["rules"]["server_down"]["after_failures"] == 5
    assert [(w["tag"], w["reason"]) for w in data["windows"]] == [("batch", "patching")]
    assert jd(home, "notify", "window", "rm", "1").returncode == 0
    assert json.loads(jd(home, "notify", "ls", "--json").stdout)["windows"] == []


def test_a_url_that_apprise_refuses_is_one_sentence(tmp_path):
    out = jd(tmp_path / "jd", "notify", "add-target", "-", stdin=f"nosuch://{TOKEN}@x/y\n")
    assert out.returncode == 2 and out.stderr.startswith("jumpdeck: ") and out.stderr.count("\n") == 1
    assert TOKEN not in out.stderr and "Traceback" not in out.stderr
