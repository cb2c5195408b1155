"""Live in serve-ssh sessions, with the real OpenSSH client: what an admin does in
another process reaches an open session through its server (the session opens no
store and no listening connection of its own): a server added shows in the grid, a
role change shows in the header, and a disabled account loses its session at once,
with the reason on the operator's screen and in the activity log."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.serve.conftest import prepare_home, start_serve, stop_serve, wait_until
from tests.tui.test_cli import jd


@pytest.fixture
def live_serve():
    base = Path(tempfile.mkdtemp(prefix="jdl", dir="/tmp"))
    home, keys = prepare_home(base)
    server = start_serve(home, keys, "--idle-timeout", "0")
    try:
        yield server
    finally:
        stop_serve(server)
        shutil.rmtree(base, ignore_errors=True)


def _admin(serve, *args: str, stdin: str | None = None) -> None:
    out = jd(*args, home=serve.home, env={"JUMPDECK_CONFIG": os.devnull}, stdin=stdin)
    assert out.returncode == 0, out.stderr


def test_a_session_follows_the_fleet_its_role_and_loses_a_disabled_account(live_serve, tmux) -> None:
    serve = live_serve
    tmux.new("kim", serve.ssh_line("kim"))
    tmux.wait_for("kim", "kim (operator)", timeout=60)
    _admin(serve, "servers", "add", "--name", "live-added-db", "--type", "postgresql", "--host", "127.0.0.1",
           "--user", "postgres", "--password-stdin", stdin="x\n")
    tmux.wait_for("kim", "live-added-db")
    _admin(serve, "users", "set-role", "kim", "viewer")
    tmux.wait_for("kim", "kim (viewer)")
    _admin(serve, "users", "disable", "kim")
    pane = tmux.wait_for("kim", "session ended")
    assert "your jumpdeck account was disabled by an admin" in pane, pane
    assert wait_until(lambda: any(e.action == "SSH_SESSION_END" and "disabled" in e.detail for e in serve.activity()))
