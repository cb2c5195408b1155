"""serve-ssh's limits around a login, against a real `jumpdeck serve-ssh` subprocess: the
real OpenSSH client, and plain sockets where a hostile client would not even speak SSH.

Each test has its own server and data dir: a penalty is per address, and every client
here comes from 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from jumpdeck.core.serve.server import NOT_LOGGED_IN
from tests.serve.conftest import prepare_home, start_serve, stop_serve, wait_until

pytestmark = pytest.mark.services


def run(argv: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def served():
    """start(*flags): a server of its own, stopped and removed after the test."""
    base = Path(tempfile.mkdtemp(prefix="jds", dir="/tmp"))
    home, keys = prepare_home(base)
    started = []

    def start(*flags: str):  # noqa: ANN202
        server = start_serve(home, keys, "--no-prefork", *flags)
        started.append(server)
        return server

    yield start
    for server in started:
        stop_serve(server)
    shutil.rmtree(base, ignore_errors=True)


def logged_in(result: subprocess.CompletedProcess) -> bool:
    """`ssh -T` got past the login: the server asks for a terminal and exits 1."""
    return result.returncode == 1 and "needs a terminal" in result.stdout


def closed_before_login(result: subprocess.CompletedProcess) -> bool:
    # Dropped at accept, as sshd drops for MaxStartups and penalties: the client never
    # gets as far as asking for a key.
    return result.returncode == 255 and "Permission denied" not in result.stderr and (
        "kex_exchange_identification" in result.stderr or "Connection closed" in result.stderr
        or "Connection reset" in result.stderr)


def refused_rows(server) -> list:  # noqa: ANN001
    return [e for e in server.activity() if e.action == "SSH_REFUSED"]


def test_unknown_keys_earn_the_address_a_penalty_and_a_flood_costs_the_log_two_rows(served):
    server = served("--login-failures", "3", "--penalty", "600")
    for _ in range(3):
        result = run(server.ssh("admin", key="stranger", tty=False))
        assert result.returncode == 255 and "Permission denied (publickey)" in result.stderr, result.stderr
    assert wait_until(lambda: any(e.action == "SSH_PENALTY" for e in server.activity()))

    flood = [run(server.ssh("admin", key="stranger", tty=False)) for _ in range(20)]
    assert all(closed_before_login(r) for r in flood), [r.stderr for r in flood if not closed_before_login(r)]
    # The address is refused, whoever's key it brings.
    assert closed_before_login(run(server.ssh("admin", "-T", tty=False)))

    stop_serve(server)  # the rows still counted in their minute are written at shutdown
    rows = [e for e in server.activity() if e.action in ("SSH_REFUSED", "SSH_PENALTY")]
    assert len(rows) == 3, [(e.action, e.detail) for e in rows]
    first, penalty, summary = sorted(rows, key=lambda e: e.id)
    assert first.actor == NOT_LOGGED_IN and first.target_id == "127.0.0.1"
    assert first.detail.startswith("unknown key SHA256:") and "as 'admin'" in first.detail, first.detail
    assert penalty.detail == "3 failed logins: every connection from 127.0.0.1 is refused for 600 s"
    # 2 more failed logins, 20 of the flood and the admin's try.
    assert summary.detail == "23 more refused from 127.0.0.1"


def test_the_penalty_grows_each_time_the_address_comes_back_and_fails(served):
    server = served("--login-failures", "1", "--penalty", "1", "--penalty-max", "600")
    penalties = lambda: [e.detail for e in server.activity() if e.action == "SSH_PENALTY"]  # noqa: E731
    dropped = []

    def fail_once_admitted(n: int) -> bool:
        # Try until the address is let in again (its penalty over): that try fails too.
        result = run(server.ssh("admin", key="stranger", tty=False))
        dropped.append(closed_before_login(result))
        return "Permission denied" in result.stderr and wait_until(lambda: len(penalties()) == n)

    assert fail_once_admitted(1)
    assert wait_until(lambda: fail_once_admitted(2), timeout=60, interval=0.2)
    assert wait_until(lambda: fail_once_admitted(3), timeout=60, interval=0.2)
    assert [d.rsplit(" ", 2)[-2] for d in penalties()] == ["4", "2", "1"]  # newest first
    assert any(dropped)  # tries within a penalty were closed before the login


def test_not_logged_in_connections_are_capped(served):
    server = served("--max-unauthenticated", "3", "--login-grace", "600")
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=30) for _ in range(3)]
    try:
        for conn in idle:  # each accepted and counted: the server has sent its version
            assert conn.recv(100).startswith(b"SSH-2.0-")
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as fourth:
            assert fourth.recv(100) == b""  # closed at once
        result = run(server.ssh("admin", "-T", tty=False))
        assert closed_before_login(result), result.stderr
    finally:
        idle.pop().close()
    # A slot is free again: the admin logs in (once the server has seen the close).
    assert wait_until(lambda: logged_in(run(server.ssh("admin", "-T", tty=False))))
    for conn in idle:
        conn.close()
    assert any("connections are not logged in yet (the limit is 3)" in e.detail for e in refused_rows(server))


def test_a_connection_that_does_not_log_in_is_closed_after_the_grace_time(served):
    server = served("--login-grace", "1")
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as conn:
        received = b""
        while chunk := conn.recv(4096):
            received += chunk
    # Before the key exchange the disconnect packet is plain: its reason is readable.
    assert received.startswith(b"SSH-2.0-") and b"jumpdeck: not logged in within 1 s" in received, received
    assert wait_until(lambda: any("not logged in within 1 s" in e.detail for e in refused_rows(server)))
    assert logged_in(run(server.ssh("admin", "-T", tty=False)))  # a real client logs in in time


def test_ssh_n_and_sessions_count_alike_against_the_per_user_limit(served, tmux):
    server = served("--max-per-user", "2", "--idle-timeout", "0")
    forward_only = subprocess.Popen(server.ssh("kim", "-N", tty=False), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        connects = lambda: [e for e in server.activity() if e.action == "SSH_CONNECT" and e.actor == "kim"]  # noqa: E731
        assert wait_until(lambda: len(connects()) == 1)
        tmux.new("k", server.ssh_line("kim"))
        tmux.wait_for("k", "Palette")

        third = run(server.ssh("kim", "-T", tty=False))
        assert third.returncode == 255, third
        assert "jumpdeck: You already have 2 jumpdeck connections open, ssh -N included (the limit is 2)." in third.stderr
        assert logged_in(run(server.ssh("admin", "-T", tty=False)))  # other users have their own slots
        assert any(e.actor == "kim" and "the limit is 2" in e.detail for e in refused_rows(server))
    finally:
        forward_only.terminate()
        forward_only.wait(10)
    # The ssh -N gone, its slot is free.
    assert wait_until(lambda: logged_in(run(server.ssh("kim", "-T", tty=False))))


def test_a_second_session_over_one_multiplexed_connection_takes_a_slot(served, tmux):
    server = served("--max-per-user", "1", "--idle-timeout", "0")
    control = server.home.parent / "cm"
    shared = ("-o", f"ControlPath={control}")
    master = subprocess.Popen(server.ssh("kim", "-N", "-o", "ControlMaster=yes", *shared, tty=False),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(control.exists), "the master connection did not log in"
        # Its first session is the connection's own slot...
        tmux.new("m", server.ssh_line("kim", "-o", "ControlMaster=no", *shared))
        tmux.wait_for("m", "Palette")
        # ...a second over the same connection is one more, and kim has only one.
        second = run(server.ssh("kim", "-o", "ControlMaster=no", *shared))
        assert second.returncode == 1, second
        assert "You already have 1 jumpdeck connection open, ssh -N included (the limit is 1)." in second.stdout
    finally:
        master.terminate()
        master.wait(10)


def test_a_connection_without_a_session_is_closed_after_the_idle_timeout(served):
    server = served("--idle-timeout", "2")
    forward_only = subprocess.Popen(server.ssh("kim", "-N", tty=False), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = forward_only.communicate(timeout=60)
    finally:
        if forward_only.poll() is None:
            forward_only.kill()
            forward_only.wait()
    assert forward_only.returncode == 255
    assert "jumpdeck: closed after 2 seconds without a session" in stderr, stderr
    assert wait_until(lambda: any(e.action == "SSH_DISCONNECT" and e.actor == "kim" for e in server.activity()))
