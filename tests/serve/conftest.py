"""A real serve-ssh server (a `jumpdeck serve-ssh` subprocess on a loopback port), real
client keys, and the real OpenSSH client driven inside a private tmux server."""

from __future__ import annotations

import asyncio
import os
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from jumpdeck.core.config import load_config
from tests.conftest import service_unavailable
from tests.conftest import os_user
from tests.fixtures.sshd import free_port

ROOT = Path(__file__).resolve().parents[2]
USERS = {"admin": "admin", "kim": "operator", "lee": "pending", "park": "viewer"}


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.1):  # noqa: ANN001, ANN201
    """Poll until predicate() is truthy; return its value (None on timeout, for the
    assertion that follows to fail with the last seen state)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class Tmux:
    """A tmux server of our own (-L), so tests never touch anybody's sessions."""

    def __init__(self) -> None:
        if not shutil.which("tmux"):
            service_unavailable("tmux is not installed")
        self.socket = f"jdtest-{os.getpid()}-{time.monotonic_ns()}"

    def run(self, *args: str, check: bool = True) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=check, capture_output=True, text=True).stdout

    def new(self, name: str, command: str, width: int = 120, height: int = 40) -> None:
        # The shell line after ssh keeps the pane open to read its exit status.
        self.run("new-session", "-d", "-s", name, "-x", str(width), "-y", str(height),
                 f"{command}; echo SSH-EXIT=$?; sleep 600")

    def capture(self, name: str) -> str:
        return self.run("capture-pane", "-p", "-t", name, check=False)

    def send(self, name: str, *keys: str) -> None:
        self.run("send-keys", "-t", name, *keys)

    def resize(self, name: str, width: int, height: int) -> None:
        self.run("resize-window", "-t", name, "-x", str(width), "-y", str(height))

    def wait_for(self, name: str, text: str, timeout: float = 20.0) -> str:
        """The pane once it shows `text` (or its last state, for the assert to show)."""
        wait_until(lambda: text in self.capture(name), timeout)
        return self.capture(name)

    def kill(self) -> None:
        self.run("kill-server", check=False)
        # tmux may leave its socket file behind; it is ours, remove it.
        tmpdir = os.environ.get("TMUX_TMPDIR", "/tmp")
        Path(tmpdir, f"tmux-{os.getuid()}", self.socket).unlink(missing_ok=True)


@dataclass
class Serve:
    home: Path
    port: int
    keys: dict[str, Path]
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)

    @property
    def config(self):  # noqa: ANN201
        return load_config(cli={"home": str(self.home)}, env={"JUMPDECK_CONFIG": os.devnull})

    def ssh(self, user: str, *extra: str, key: str | None = None, tty: bool = True) -> list[str]:
        argv = ["ssh"] + (["-tt"] if tty else []) + [
            "-p", str(self.port), "-i", str(self.keys[key or user]),
            "-o", f"UserKnownHostsFile={self.home.parent / 'known_hosts'}", "-o", "StrictHostKeyChecking=no",
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            *extra, f"{user}@127.0.0.1"]
        return argv

    def ssh_line(self, user: str, *extra: str, key: str | None = None) -> str:
        return shlex.join(self.ssh(user, *extra, key=key))

    def activity(self) -> list:
        from jumpdeck.core.activity import ActivityFilter
        from jumpdeck.core.context import open_context

        async def read():  # noqa: ANN202
            ctx = await open_context(self.config, user="admin")
            try:
                return (await ctx.activity.page(ctx.actor, ActivityFilter(target_type="SSH"), limit=500)).entries
            finally:
                ctx.close()

        return asyncio.run(read())


def as_session(monkeypatch, control, user: str):  # noqa: ANN001, ANN201
    """This process speaks as a session child of `user` would: with its session's token."""
    from jumpdeck.core.context import SESSION_TOKEN_ENV

    entry = control.server.table.open(user, "127.0.0.1", "", lambda _reason: None)
    monkeypatch.setenv(SESSION_TOKEN_ENV, entry.token)
    return entry


def prepare_home(base: Path, store_url: str | None = None) -> tuple[Path, dict[str, Path]]:
    """A store with admin, an operator, a pending user and a viewer, each with a key,
    plus one key nobody owns. The data dir's SQLite file, or the store at `store_url`."""
    from jumpdeck.core.context import open_context
    from jumpdeck.core.identity import Role
    from jumpdeck.core.users import parse_public_key

    home = base / "h"
    keys: dict[str, Path] = {}
    for name in [*USERS, "stranger"]:
        keys[name] = base / f"{name}_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(keys[name])], check=True)

    async def seed() -> None:
        config = load_config(cli={"home": str(home), "store_url": store_url},
                             env={"JUMPDECK_CONFIG": os.devnull})
        ctx = await open_context(config, user="admin")
        try:
            # The server and the admin's commands run as this OS account.
            await ctx.users.add(ctx.actor, os_user(), Role.ADMIN)
            for name, role in USERS.items():
                key = parse_public_key(keys[name].with_suffix(".pub").read_text())
                if name == "admin":
                    await ctx.users.add_key(ctx.actor, name, key)
                elif role == "pending":
                    await ctx.users.resolve_local(name)  # registers as a pending viewer
                    await ctx.users.add_key(ctx.actor, name, key)
                else:
                    await ctx.users.add(ctx.actor, name, Role(role), [key])
        finally:
            ctx.close()

    asyncio.run(seed())
    return home, keys


def start_serve(home: Path, keys: dict[str, Path], *flags: str, store_url: str | None = None,
                key: str | None = None) -> Serve:
    if not shutil.which("ssh"):
        service_unavailable("the OpenSSH client (ssh) is not installed")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMPDECK_") and k not in ("TMUX", "TMUX_PANE")}
    # An empty config file that a test may fill while the server runs (its sessions read it).
    (home / "none.toml").touch()
    env.update({"JUMPDECK_HOME": str(home), "JUMPDECK_CONFIG": str(home / "none.toml")})
    if store_url:
        env["JUMPDECK_STORE_URL"] = store_url
    if key:
        env["JUMPDECK_KEY"] = key
    process = subprocess.Popen(
        [sys.executable, "-m", "jumpdeck.tui.cli", "serve-ssh", "--listen", f"127.0.0.1:{port}", *flags],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    serve = Serve(home, port, keys, process)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline()
            if not line:
                break
            serve.output.append(line)
            # Sessions fork from the warm starter once it says so; --no-prefork never will.
            if ("listening on" in line and "--no-prefork" in flags) or "session starter ready" in line:
                return serve
    stop_serve(serve)
    raise AssertionError("serve-ssh did not start:\n" + "".join(serve.output))


def stop_serve(serve: Serve) -> None:
    if serve.process.poll() is None:
        serve.process.send_signal(signal.SIGTERM)
        try:
            serve.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(serve.process.pid, signal.SIGKILL)
            serve.process.wait(5)


@pytest.fixture(scope="module")
def serve_home():
    # Short path: the control socket lives in the data dir and unix socket paths
    # are limited to 107 bytes.
    base = Path(tempfile.mkdtemp(prefix="jds", dir="/tmp"))
    try:
        yield prepare_home(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def serve(serve_home):
    home, keys = serve_home
    # Penalties are per address and every client here is 127.0.0.1: the refusals these
    # tests provoke must not add up to one (test_serve_limits.py tests them).
    server = start_serve(home, keys, "--max-sessions", "10", "--max-per-user", "10", "--idle-timeout", "0",
                         "--login-failures", "50")
    yield server
    stop_serve(server)


@pytest.fixture
def tmux():
    t = Tmux()
    yield t
    t.kill()
