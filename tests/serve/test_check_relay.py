"""serve-ssh sessions' checks run in the server (core/serve/check_relay.py): the rule,
the wire, the shared engine, and real sessions over the OpenSSH client."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from jumpdeck.core.errors import PermissionDenied
from jumpdeck.core.identity import Actor, Role, UserStatus
from jumpdeck.core.secrets import Secret
from jumpdeck.core.serve.check_relay import CheckRelay
from jumpdeck.core.serve.control import ControlServer
from jumpdeck.core.serve.session_client import RemoteFleetChecks
from jumpdeck.core.serve.sessions import SessionLimits, SessionTable
from jumpdeck.core.servers.checks import Status
from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec
from tests.serve.conftest import as_session, prepare_home, start_serve, stop_serve, wait_until

CANARY = "relay-canary-Pw-7f3a"


class SilentListener:
    """Accepts TCP connections, counts them, and never says a word (a hung DB)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self._held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self._held:
            conn.close()


async def _add_servers(ctx, silent_port: int) -> dict[str, int]:  # noqa: ANN001
    registry = ServerRegistry(ctx.store, ctx.secrets)
    pg = await registry.create(ctx.actor, ServerSpec("relay-pg", "postgresql", "127.0.0.1", "postgres",
                                                     Secret(CANARY), 5432, "postgres"))
    hung = await registry.create(ctx.actor, ServerSpec("relay-hung", "postgresql", "127.0.0.1", "postgres",
                                                       Secret(CANARY), silent_port, "postgres"))
    return {"pg": pg.id, "hung": hung.id}


class _Collect:
    """A StreamWriter stand-in that keeps what the server would send."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        pass


async def test_the_server_checks_and_sends_results_without_passwords(ctx, pg_url):
    silent = SilentListener()
    try:
        ids = await _add_servers(ctx, silent.port)
        relay = CheckRelay(ctx)
        relay.engine.timeout = 1.0
        out = _Collect()
        await relay.serve(ctx.actor, {"op": "round", "ids": None}, out)
        relay.close()
    finally:
        silent.close()
    assert CANARY not in out.data.decode()
    lines = [json.loads(line) for line in out.data.decode().splitlines()]
    assert lines[0] == {"ok": True, "ids": [ids["hung"], ids["pg"]]}  # name order
    assert lines[-1] == {"end": True}
    results = {line["result"]["id"]: line["result"] for line in lines[1:-1]}
    assert results[ids["pg"]]["status"] == "online" and "PostgreSQL" in results[ids["pg"]]["version"]
    assert results[ids["hung"]]["status"] == "offline" and results[ids["hung"]]["error_kind"] == "timeout"


async def test_remote_rounds_over_the_control_socket_follow_the_rule(ctx, pg_url, monkeypatch):
    """A session's round through the real unix socket; who asks decides what is allowed
    (the server, by the session's token this process carries as a session child would)."""
    silent = SilentListener()
    fake_server = SimpleNamespace(ctx=ctx, table=SessionTable(SessionLimits()), checks=CheckRelay(ctx))
    fake_server.checks.engine.timeout = 1.0
    control = ControlServer(fake_server)
    try:
        ids = await _add_servers(ctx, silent.port)
        await control.start()
        as_session(monkeypatch, control, "admin")
        remote = RemoteFleetChecks(ctx.config)
        checking = await remote.start(ctx.actor, [ids["pg"]])
        assert checking.server_ids == [ids["pg"]]
        steps = [step async for step in checking]
        assert [(s.done, s.total, s.result.status) for s in steps] == [(1, 1, Status.ONLINE)]
        one = await remote.check_one(ctx.actor, ids["pg"])
        assert one.online and one.name == "relay-pg"

        await ctx.users.add(ctx.actor, "pend", Role.VIEWER)
        from jumpdeck.core.store.models import UserRow

        def make_pending(session) -> None:  # noqa: ANN001
            session.query(UserRow).filter(UserRow.name == "pend").update({"status": UserStatus.PENDING.value})

        await ctx.store.run(make_pending)
        as_session(monkeypatch, control, "pend")
        with pytest.raises(PermissionDenied):
            await remote.start(Actor("pend", Role.VIEWER, UserStatus.PENDING, "ssh:10.0.0.9"))
    finally:
        await control.close()
        fake_server.checks.close()
        silent.close()


async def test_concurrent_rounds_share_one_check_per_server(ctx):
    """Twenty sessions opening the grid at once must not log in twenty times."""
    silent = SilentListener()
    relay = CheckRelay(ctx)
    relay.engine.timeout = 1.0
    try:
        registry = ServerRegistry(ctx.store, ctx.secrets)
        hung = await registry.create(ctx.actor, ServerSpec("hung", "postgresql", "127.0.0.1", "postgres",
                                                           Secret(CANARY), silent.port, "postgres"))
        outs = [_Collect() for _ in range(5)]
        await asyncio.gather(*(relay.serve(ctx.actor, {"op": "round", "ids": [hung.id]}, out) for out in outs))
        assert all(json.loads(out.data.decode().splitlines()[1])["result"]["status"] == "offline" for out in outs)
        assert silent.accepted == 1
        # Once it is over, the next round checks again (results are shared, not cached).
        await relay.serve(ctx.actor, {"op": "round", "ids": [hung.id]}, _Collect())
        assert silent.accepted == 2
    finally:
        relay.close()
        silent.close()


def _maps(pid: int) -> str:
    with open(f"/proc/{pid}/maps") as f:
        return f.read()


def test_sessions_show_checks_made_by_the_server_and_load_no_driver_nor_store(tmux, pg_url):
    import asyncio as aio

    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import open_context
    from jumpdeck.core.serve import control
    from tests.serve.test_serve_ssh import ADMIN

    base = Path(tempfile.mkdtemp(prefix="jds", dir="/tmp"))
    silent = SilentListener()
    home, keys = prepare_home(base)

    async def seed() -> None:
        ctx = await open_context(load_config(cli={"home": str(home)}, env={"JUMPDECK_CONFIG": os.devnull}),
                                 user="admin")
        try:
            await _add_servers(ctx, silent.port)
        finally:
            ctx.close()

    aio.run(seed())
    server = start_serve(home, keys)
    try:
        tmux.new("r1", server.ssh_line("admin"))
        tmux.new("r2", server.ssh_line("kim"))
        for pane in ("r1", "r2"):
            shown = wait_until(lambda p=pane: "online" in tmux.capture(p) and "timeout" in tmux.capture(p), 30)
            assert shown, tmux.capture(pane)
        screen = tmux.capture("r1") + tmux.capture("r2")
        assert "PostgreSQL" in screen and CANARY not in screen
        # Both sessions' rounds met while the hung server was being checked: one login.
        assert silent.accepted == 1
        live = aio.run(control.list_sessions(server.config, ADMIN))
        assert len(live) == 2
        for session in live:
            maps = _maps(session.pid)
            assert "psycopg2" not in maps and "_rust" not in maps, f"session {session.user} loaded a driver"
            # Nor the store: the grid's fleet came from the server (core/serve/session_boot.py).
            assert "sqlalchemy" not in maps, f"session {session.user} opened the store for its first screen"
        # The server process itself did the checking.
        assert "psycopg2" in _maps(server.process.pid)
        # Going further opens the session's own store: the Activity screen reads it.
        admin_pid = next(s.pid for s in live if s.user == "admin")
        tmux.send("r1", "7")
        assert wait_until(lambda: "SSH_CONNECT" in tmux.capture("r1"), 30), tmux.capture("r1")
        assert "sqlalchemy" in _maps(admin_pid)
    finally:
        stop_serve(server)
        silent.close()
        shutil.rmtree(base, ignore_errors=True)


async def test_a_bad_token_is_that_servers_result_in_the_relay(ctx, pg_url):
    """A session's round and its single test go on past a password the server cannot decrypt."""
    from tests.core.servers.conftest import plant_foreign_token

    registry = ServerRegistry(ctx.store, ctx.secrets)
    good = await registry.create(ctx.actor, ServerSpec("relay-good", "postgresql", "127.0.0.1", "postgres",
                                                       Secret(CANARY), 5432, "postgres"))
    bad = await registry.create(ctx.actor, ServerSpec("relay-bad", "postgresql", "127.0.0.1", "postgres",
                                                      Secret(CANARY), 5432, "postgres"))
    token = plant_foreign_token(ctx.store, bad.id)
    relay = CheckRelay(ctx)
    try:
        out = _Collect()
        await relay.serve(ctx.actor, {"op": "round", "ids": None}, out)
        one = _Collect()
        await relay.serve(ctx.actor, {"op": "check", "id": bad.id}, one)
    finally:
        relay.close()
    assert token not in out.data.decode() + one.data.decode()
    lines = [json.loads(line) for line in out.data.decode().splitlines()]
    assert lines[0] == {"ok": True, "ids": [bad.id, good.id]} and lines[-1] == {"end": True}
    results = {line["result"]["id"]: line["result"] for line in lines[1:-1]}
    assert results[good.id]["status"] == "online"
    assert (results[bad.id]["status"], results[bad.id]["error_kind"]) == ("offline", "secret")
    single = json.loads(one.data.decode())
    assert single["ok"] and single["result"]["error_kind"] == "secret"
    assert "servers edit relay-bad" in single["result"]["hint"]
