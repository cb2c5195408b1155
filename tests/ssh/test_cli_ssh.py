"""`jumpdeck ssh` run for real inside tmux against the fixture sshd."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import service_unavailable
from jumpdeck.tui.cli import main

JUMPDECK = Path(sys.executable).with_name("jumpdeck")


def test_bad_destination_is_a_usage_error(capsys):
    assert main(["ssh", "not a host"]) == 2
    assert "is not a host" in capsys.readouterr().err


def test_missing_key_file_is_a_usage_error(capsys, tmp_path):
    assert main(["--home", str(tmp_path), "ssh", "-i", str(tmp_path / "nope"), "h"]) == 2
    assert "does not exist" in capsys.readouterr().err


def _capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def _wait_screen(session: str, needle: str, limit: float = 30.0) -> str:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        text = _capture(session)
        if needle in text:
            return text
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared; screen:\n{_capture(session)}")


@pytest.fixture
def tmux_session():
    if not shutil.which("tmux"):
        service_unavailable("tmux is not installed (apt-get install tmux)")
    name = f"jd-ssh-{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def test_jumpdeck_ssh_opens_the_session_after_confirming_the_host_key(sshd_module, tmp_path, tmux_session):
    home = tmp_path / "home"
    command = (f"{JUMPDECK} --home {home} ssh -p {sshd_module.port} -i {sshd_module.client_key} "
               f"{sshd_module.user}@127.0.0.1")
    subprocess.run(["tmux", "new-session", "-d", "-s", tmux_session, "-x", "120", "-y", "40", command], check=True)
    _wait_screen(tmux_session, "Unknown host key")
    fingerprint = subprocess.run(["ssh-keygen", "-lf", str(sshd_module.workdir / "host_ed25519.pub")],
                                 capture_output=True, text=True, check=True).stdout.split()[1]
    assert fingerprint in _capture(tmux_session).replace("\n", "")
    subprocess.run(["tmux", "send-keys", "-t", tmux_session, "Tab", "Enter"], check=True)  # Trust and connect
    _wait_screen(tmux_session, f"{sshd_module.user}@127.0.0.1:{sshd_module.port}")
    time.sleep(1.0)
    subprocess.run(["tmux", "send-keys", "-t", tmux_session, "-l", "echo via-cli-$((6*7))"], check=True)
    subprocess.run(["tmux", "send-keys", "-t", tmux_session, "Enter"], check=True)
    _wait_screen(tmux_session, "via-cli-42")
    assert sshd_module.known_hosts_line in (home / "known_hosts").read_text()


def _wait_file(path: Path, ending: bytes, limit: float = 30.0) -> bytes:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not (path.exists() and path.read_bytes().endswith(ending)):
        time.sleep(0.2)
    return path.read_bytes() if path.exists() else b""


def test_hangul_typed_in_a_real_terminal_reaches_the_shell(sshd_locale, tmp_path, tmux_session):
    """The issue's report, over a real PTY: tmux types into `jumpdeck ssh` as a terminal does."""
    home, out = tmp_path / "home", tmp_path / "out"
    home.mkdir()
    (home / "known_hosts").write_text(sshd_locale.known_hosts_line + "\n")
    command = (f"{JUMPDECK} --home {home} ssh -p {sshd_locale.port} -i {sshd_locale.client_key} "
               f"{sshd_locale.user}@127.0.0.1")
    subprocess.run(["tmux", "new-session", "-d", "-s", tmux_session, "-x", "120", "-y", "40", command], check=True)
    _wait_screen(tmux_session, f"{sshd_locale.user}@127.0.0.1:{sshd_locale.port}")
    # The shell's greeting: the terminal has the focus and the shell reads (this test is
    # about the characters, not about keys typed before the session opens).
    _wait_screen(tmux_session, "Last login")

    def send(*keys: str, literal: bool = True) -> None:
        subprocess.run(["tmux", "send-keys", "-t", tmux_session, *(["-l"] if literal else []), *keys], check=True)

    send(f"echo shell-ready; echo 서버 관리 > {out}")
    send("Enter", literal=False)
    _wait_screen(tmux_session, "\nshell-ready")
    assert _wait_file(out, b"\n").decode() == "서버 관리\n"
    send('echo "')
    time.sleep(0.7)  # "typed a moment later"
    send(f'서버" >> {out}')
    send("Enter", literal=False)
    assert _wait_file(out, "서버\n".encode()).decode() == "서버 관리\n서버\n"


def test_a_refusal_is_written_at_the_pane_s_width_not_80_columns(tmp_path):
    """The refusal comes before the pane has its real size: written then, it was cut into
    80-column lines in a 120-column pane. It waits for the size now."""
    from tests.core.servers.conftest import closed_port
    from tests.serve.conftest import Tmux

    home = tmp_path / "home"
    home.mkdir()
    tmux = Tmux()  # a server of its own: the window is the size asked for
    try:
        # The pause lets tmux size the pane before jumpdeck reads its size, as a terminal
        # window is sized before the program in it starts.
        tmux.run("new-session", "-d", "-s", "r", "-x", "120", "-y", "30",
                 f"sleep 1; {JUMPDECK} --home {home} ssh -p {closed_port()} root@127.0.0.1")
        screen = tmux.wait_for("r", "the port is right", 30)
        line = next((line for line in screen.splitlines() if "refused the connection" in line), "")
        assert line.rstrip().endswith("the port is right."), screen
    finally:
        tmux.kill()
