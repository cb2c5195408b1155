"""serve-ssh end to end: the real OpenSSH client (inside tmux where a terminal matters)
against a real `jumpdeck serve-ssh` subprocess."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import asyncssh
import pytest

from jumpdeck.core.identity import Actor, Role
from jumpdeck.core.serve import control
from tests.conftest import os_user, run_as
from tests.serve.conftest import prepare_home, start_serve, stop_serve, wait_until

pytestmark = pytest.mark.services

ADMIN = Actor("admin", Role.ADMIN)


def run(argv: list[str], timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


def sessions(serve) -> list:  # noqa: ANN001
    return asyncio.run(control.list_sessions(serve.config, ADMIN)) or []


def test_authorized_key_renders_keys_work_resize_relayouts_quit_closes(serve, tmux):
    tmux.new("a", serve.ssh_line("admin"), 120, 40)
    pane = tmux.wait_for("a", "Palette")
    lines = pane.splitlines()
    assert "jumpdeck" in lines[0] and "admin (admin) · ssh:127.0.0.1" in lines[0], pane

    tmux.send("a", "8")  # the Users screen
    pane = tmux.wait_for("a", "kim")
    assert "Users" in pane.splitlines()[0] and "operator" in pane, pane

    # At 120 columns the identity sits past column 80; after a resize to 80 it is only
    # visible if the child got SIGWINCH and laid the header out again.
    tmux.resize("a", 80, 24)
    wait_until(lambda: "SQLite" in tmux.capture("a").splitlines()[0])
    pane = tmux.capture("a")
    assert "SQLite" in pane.splitlines()[0] and len(pane.splitlines()) == 24, pane
    assert "Palette" in pane.splitlines()[-1], pane

    live = sessions(serve)
    assert [(s.user, s.address) for s in live] == [("admin", "127.0.0.1")]
    child_pid = live[0].pid
    # Forked from the warm session starter, not started by the server itself.
    assert _parent(child_pid) not in (serve.process.pid, 0)

    tmux.send("a", "q")
    pane = tmux.wait_for("a", "SSH-EXIT=")
    assert "SSH-EXIT=0" in pane, pane
    assert wait_until(lambda: not sessions(serve)), "the session did not leave the table"
    assert not _alive(child_pid)

    entries = serve.activity()
    actions = [(e.action, e.actor, e.origin, e.target_id) for e in entries]
    assert ("SSH_CONNECT", "admin", f"ssh:127.0.0.1@{socket.gethostname()}", "127.0.0.1") in actions
    assert wait_until(lambda: any(e.action == "SSH_DISCONNECT" for e in serve.activity()))
    fingerprint = subprocess.run(["ssh-keygen", "-lf", str(serve.keys["admin"].with_suffix(".pub"))],
                                 capture_output=True, text=True, check=True).stdout.split()[1]
    assert any(fingerprint in e.detail for e in serve.activity() if e.action == "SSH_DISCONNECT")


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): read its state.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_closing_the_connection_ends_the_child(serve, tmux):
    tmux.new("c", serve.ssh_line("kim"))
    tmux.wait_for("c", "Palette")
    pid = wait_until(lambda: next((s.pid for s in sessions(serve) if s.user == "kim"), None))
    assert pid and _alive(pid)
    tmux.run("kill-session", "-t", "c")  # the ssh client dies with its pane
    assert wait_until(lambda: not _alive(pid)), "the child outlived its connection"
    assert wait_until(lambda: not any(s.user == "kim" for s in sessions(serve)))


def test_unknown_key_is_refused(serve):
    result = run(serve.ssh("admin", key="stranger"))
    assert result.returncode == 255
    assert "Permission denied (publickey)" in result.stderr


def test_password_is_refused(serve):
    # The server offers publickey only: the client has no password method to try...
    result = run(serve.ssh("admin", "-o", "PubkeyAuthentication=no",
                           "-o", "PreferredAuthentications=password,keyboard-interactive"))
    assert result.returncode == 255
    assert "Permission denied (publickey)" in result.stderr

    # ...and a client that sends a password anyway is refused.
    async def attempt() -> None:
        async with asyncssh.connect("127.0.0.1", serve.port, username="admin", password="hunter2",
                                    client_keys=None, known_hosts=None, agent_path=None):
            pass

    with pytest.raises(asyncssh.PermissionDenied):
        asyncio.run(attempt())


def test_exec_request_is_refused(serve):
    result = run(serve.ssh("admin", tty=False) + ["ls"])
    assert result.returncode == 255
    assert "exec request failed" in result.stderr


def test_sftp_is_refused(serve):
    result = run(["sftp", "-P", str(serve.port), "-i", str(serve.keys["admin"]), "-o", "BatchMode=yes",
                  "-o", f"UserKnownHostsFile={serve.home.parent / 'known_hosts'}", "-o", "StrictHostKeyChecking=no",
                  "-o", "IdentitiesOnly=yes", "admin@127.0.0.1"])
    assert result.returncode != 0
    assert "subsystem request failed" in result.stderr


def test_local_forwarding_is_refused(serve, tmux):
    from tests.fixtures.sshd import free_port

    local = free_port()
    tmux.new("f", serve.ssh_line("admin", "-N", "-L", f"127.0.0.1:{local}:127.0.0.1:{serve.port}").replace("-tt ", ""))
    assert wait_until(lambda: _port_open(local)), tmux.capture("f")
    with socket.create_connection(("127.0.0.1", local), timeout=10) as conn:
        conn.settimeout(10)
        assert conn.recv(100) == b""  # closed at once: the server refused the channel
    pane = tmux.wait_for("f", "administratively prohibited")
    assert "does not allow port forwarding" in pane, pane


def test_remote_forwarding_is_refused(serve):
    result = run(serve.ssh("admin", "-N", "-o", "ExitOnForwardFailure=yes", "-R", "127.0.0.1:0:127.0.0.1:22", tty=False))
    assert result.returncode == 255
    assert "forwarding failed" in result.stderr


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_pending_user_is_refused_with_the_message(serve, tmux):
    tmux.new("p", serve.ssh_line("lee"))
    pane = tmux.wait_for("p", "SSH-EXIT=")
    assert "waiting for an administrator's approval" in pane, pane
    assert "jumpdeck users activate lee" in pane
    assert "SSH-EXIT=255" in pane
    assert any(e.action == "SSH_REFUSED" and e.actor == "lee" for e in serve.activity())


def test_no_pty_asks_for_ssh_t(serve):
    result = run(serve.ssh("admin", "-T", tty=False))
    assert result.returncode == 1
    assert "needs a terminal: connect with `ssh -t`" in result.stdout


def test_sessions_view_api_needs_admin(serve):
    from jumpdeck.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        asyncio.run(control.list_sessions(serve.config, Actor("kim", Role.OPERATOR)))
    # The server decides who asks: a name, or a token that is no live session's, counts for
    # nothing; this process is its OS account (an admin of this store), not kim.
    reply = asyncio.run(control._request(serve.config, {"op": "list", "by": "kim", "token": "made-up"}))
    assert reply["ok"] is True


def test_ten_sessions_at_once_then_full_then_end_one(serve, tmux):
    names = [f"s{i}" for i in range(10)]
    for i, name in enumerate(names):
        tmux.new(name, serve.ssh_line("admin" if i % 2 else "park"), 100, 30)
    for name in names:
        pane = tmux.wait_for(name, "Palette", timeout=60)
        assert "ssh:127.0.0.1" in pane.splitlines()[0], pane
    live = sessions(serve)
    assert len(live) == 10 and len({s.pid for s in live}) == 10

    # The eleventh is told the server is full.
    tmux.new("extra", serve.ssh_line("kim"))
    pane = tmux.wait_for("extra", "SSH-EXIT=")
    assert "jumpdeck is full: 10 of 10 sessions are in use" in pane, pane

    # An admin ends one: that operator reads why, the others carry on.
    victim = next(s for s in live if s.user == "park")
    ended = asyncio.run(control.end_session(serve.config, ADMIN, victim.id))
    assert ended.id == victim.id
    assert wait_until(lambda: len(sessions(serve)) == 9)

    def ended_panes() -> int:
        return sum(f"session ended: ended by the admin {os_user()}" in tmux.capture(name) for name in names)

    assert wait_until(ended_panes) == 1
    assert any(e.action == "SSH_SESSION_END" for e in serve.activity())

    for name in names:
        tmux.send(name, "q")
    assert wait_until(lambda: not sessions(serve), timeout=30)


def test_idle_timeout_and_per_user_limit(tmux):
    # Its own data dir: one serve-ssh per data dir (the control socket lives there).
    base = Path(tempfile.mkdtemp(prefix="jds", dir="/tmp"))
    home, keys = prepare_home(base)
    server = start_serve(home, keys, "--idle-timeout", "2", "--max-per-user", "1")
    try:
        tmux.new("i1", server.ssh_line("kim"))
        tmux.wait_for("i1", "Palette")
        tmux.new("i2", server.ssh_line("kim"))

        def i2_done() -> bool:
            tmux.send("i1", "C-l")  # keep i1 busy (a redraw) until i2 has its answer
            return "SSH-EXIT=" in tmux.capture("i2")

        wait_until(i2_done, timeout=30, interval=0.5)
        pane = tmux.capture("i2").replace("\n", "")  # joined: the client's line is wider than the pane
        # Refused at login, not at the session: ssh prints the server's disconnect reason.
        assert "You already have 1 jumpdeck connection open, ssh -N included (the limit is 1)" in pane, pane
        pane = tmux.wait_for("i1", "SSH-EXIT=")
        assert "closed after 2 seconds without input" in pane, pane
    finally:
        stop_serve(server)
        shutil.rmtree(base, ignore_errors=True)


async def test_output_alone_does_not_keep_a_session_alive(ctx):
    # Only the operator's input resets the idle timer. The child here prints all the
    # time, like a live grid nobody watches: typing keeps the session, and once the typing
    # stops the session is closed although the output never did.
    from jumpdeck.core.serve.server import ServeOptions, ServeServer
    from jumpdeck.core.serve.sessions import SessionLimits
    from jumpdeck.core.users import parse_public_key

    if not shutil.which("ssh"):
        pytest.skip("the OpenSSH client (ssh) is not installed")
    base = Path(tempfile.mkdtemp(prefix="jds", dir="/tmp"))
    key = base / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "admin", "-f", str(key)], check=True)
    await ctx.users.add_key(ctx.actor, "admin", parse_public_key(key.with_suffix(".pub").read_text()))
    options = ServeOptions(port=0, host_key=base / "host_key", limits=SessionLimits(idle_timeout=2),
                           child_argv=("/bin/sh", "-c", "while :; do echo tick; sleep 0.1; done"), prefork=False)
    server = ServeServer(ctx, options)
    await server.start()
    client = None
    try:
        client = await asyncio.create_subprocess_exec(
            "ssh", "-tt", "-p", str(server.port), "-i", str(key), "-o", f"UserKnownHostsFile={base / 'kh'}",
            "-o", "StrictHostKeyChecking=no", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "admin@127.0.0.1",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        received = bytearray()

        async def read_all() -> None:
            while chunk := await client.stdout.read(65536):
                received.extend(chunk)

        reader = asyncio.create_task(read_all())
        for _ in range(200):
            if b"tick" in received:
                break
            await asyncio.sleep(0.05)
        assert b"tick" in received, bytes(received)
        for _ in range(15):  # 3 s of typing: past the 2 s limit
            client.stdin.write(b"x")
            await asyncio.sleep(0.2)
        assert len(server.table) == 1, bytes(received)  # input kept it
        typed_until = len(received)
        await asyncio.wait_for(reader, 60)
        assert await client.wait() != 0
        idle_output = bytes(received[typed_until:])
        assert idle_output.count(b"tick") > 3, idle_output  # output went on while nobody typed
        assert b"closed after 2 seconds without input" in idle_output, idle_output
    finally:
        if client is not None and client.returncode is None:
            client.kill()
            await client.wait()
        await server.close()
        shutil.rmtree(base, ignore_errors=True)


def test_without_prefork_sessions_start_by_fork_exec(tmux):
    base = Path(tempfile.mkdtemp(prefix="jds", dir="/tmp"))
    home, keys = prepare_home(base)
    server = start_serve(home, keys, "--no-prefork")
    try:
        tmux.new("e", server.ssh_line("admin"))
        pane = tmux.wait_for("e", "Palette")
        assert "admin (admin) · ssh:127.0.0.1" in pane.splitlines()[0], pane
        (live,) = sessions(server)
        assert _parent(live.pid) == server.process.pid
        tmux.send("e", "q")
        assert "SSH-EXIT=0" in tmux.wait_for("e", "SSH-EXIT=")
    finally:
        stop_serve(server)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("flags", [(), ("--no-prefork",)], ids=["prefork", "fork-exec"])
def test_the_childs_exit_status_reaches_the_client(tmux, flags):
    # A config file broken after the server started: each new session's jumpdeck says
    # so in one sentence and exits 2, and `ssh` must exit 2 too, however it was started.
    base = Path(tempfile.mkdtemp(prefix="jds", dir="/tmp"))
    home, keys = prepare_home(base)
    server = start_serve(home, keys, *flags)
    try:
        (home / "none.toml").write_text("check_timeout = -1\n")
        tmux.new("x", server.ssh_line("admin"))
        pane = tmux.wait_for("x", "SSH-EXIT=")
        assert "check_timeout" in pane, pane
        assert "SSH-EXIT=2" in pane, pane
    finally:
        stop_serve(server)
        shutil.rmtree(base, ignore_errors=True)


def test_cli_sessions_ls_and_end(serve, tmux, monkeypatch, capsys):
    import json

    from jumpdeck.tui.cli import main

    home = ["--home", str(serve.home)]  # this process is its OS account: an admin of that store
    tmux.new("cli", serve.ssh_line("kim"))
    tmux.wait_for("cli", "Palette")
    assert main([*home, "sessions", "ls", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["user"] == "kim" and row["address"] == "127.0.0.1" and row["fingerprint"].startswith("SHA256:")
    assert main([*home, "sessions", "end", str(row["id"])]) == 0
    assert "Ended session" in capsys.readouterr().out
    assert f"session ended: ended by the admin {os_user()}" in tmux.wait_for("cli", "SSH-EXIT=")
    assert main([*home, "sessions", "end", str(row["id"])]) == 1  # gone now: a sentence, exit 1
    assert "no live session" in capsys.readouterr().err

    run_as(monkeypatch, "kim")
    assert main([*home, "sessions", "ls"]) == 1
    assert "Only an admin can manage SSH sessions" in capsys.readouterr().err
