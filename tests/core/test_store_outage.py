"""An outage of the real shared PostgreSQL store is read-only, never a split: reads come
from this host's snapshot, writes are refused with a sentence, nothing lands in a local
file, and writes work again once the store is back, in the same process."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def outage(pg_url: str, dbname: str):
    """No new connection to `dbname` is allowed and its backends are gone; always restored."""
    import psycopg2

    admin = psycopg2.connect(pg_url)
    admin.autocommit = True
    cur = admin.cursor()
    try:
        cur.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false')
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (dbname,))
        yield
    finally:
        cur.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')
        admin.close()


def _jd(*args: str, home: Path, store_url: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "JUMPDECK_HOME": str(home), "JUMPDECK_STORE_URL": store_url}
    return subprocess.run([sys.executable, "-m", "jumpdeck.tui.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, env=env, timeout=60, input=stdin)


async def test_an_outage_is_read_only_and_ends_without_a_restart(tmp_path, pg_url, pg_temp_url) -> None:
    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import open_context
    from jumpdeck.core.errors import StoreReadOnly
    from jumpdeck.core.secrets import Secret
    from jumpdeck.core.servers.checks import CheckEngine, check_server
    from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec
    from jumpdeck.core.store.snapshot import refresh_snapshot

    home = tmp_path / "home"
    config = load_config(cli={"home": str(home), "store_url": pg_temp_url})
    # The OS user, as the CLI below acts: a newcomer could not register during an outage.
    ctx = await open_context(config)
    registry = ServerRegistry(ctx.store, ctx.secrets)
    try:
        await registry.create(ctx.actor, ServerSpec(name="pg-one", db_type="postgresql", host="127.0.0.1", port=5432,
                                                 username="postgres", password=Secret("pw-one")))
        assert await refresh_snapshot(ctx.store)
        snapshot = ctx.store.snapshot_path
        assert snapshot.exists() and (snapshot.stat().st_mode & 0o777) == 0o600
        dbname = pg_temp_url.rsplit("/", 1)[1]
        with outage(pg_url, dbname):
            # A read: served by the snapshot, the store turns read-only on its own.
            names = [s.name for s in await registry.list(ctx.actor)]
            assert names == ["pg-one"] and ctx.store.read_only
            assert "read-only since" in ctx.store.degraded_reason and "unreachable" in ctx.store.degraded_reason
            # The encrypted password came along: a check or an SSH session can use it.
            server = (await registry.list(ctx.actor))[0]
            assert (await registry.credentials(ctx.actor, server.id)).password.reveal() == "pw-one"
            assert [t.name for t in await registry.check_targets(ctx.actor)] == ["pg-one"]
            # A check: its target comes from the snapshot, the check itself from the server.
            engine = CheckEngine(timeout=10)
            try:
                result = await check_server(engine, registry, ctx.actor, server.id)
            finally:
                engine.close()
            assert result.online, result.message
            # An SSH session's audit row is allowed meanwhile: it waits and lands when back.
            await ctx.activity.record(ctx.actor, "SSH_OPEN", "SSH_HOST", "pg-one", "during the outage")
            # A write: refused with one sentence, and no local file takes it.
            with pytest.raises(StoreReadOnly) as refused:
                await registry.create(ctx.actor, ServerSpec(name="pg-two", db_type="postgresql", host="127.0.0.1",
                                                         port=5432, username="postgres", password=Secret("pw")))
            assert "is unreachable since" in str(refused.value) and "nothing can be changed" in str(refused.value)
            assert not config.store_path.exists()
            # The CLI: reads from the snapshot with a warning line, writes refused (exit 1).
            ls = _jd("servers", "ls", home=home, store_url=pg_temp_url)
            assert ls.returncode == 0, ls.stderr
            assert "pg-one" in ls.stdout and "warning: read-only since" in ls.stderr
            add = _jd("servers", "add", "--name", "pg-three", "--type", "postgresql", "--host", "127.0.0.1", "--user", "u",
                      "--password-stdin", home=home, store_url=pg_temp_url, stdin="pw\n")
            assert add.returncode == 1 and "nothing can be changed" in add.stderr and "Traceback" not in add.stderr
            assert not config.store_path.exists()
        # Back: within a few seconds, without a restart, writes work again.
        deadline = time.monotonic() + 15
        while ctx.store.read_only and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert not ctx.store.read_only and ctx.store.degraded_reason is None
        await registry.create(ctx.actor, ServerSpec(name="pg-two", db_type="postgresql", host="127.0.0.1", port=5432,
                                                 username="postgres", password=Secret("pw")))
        assert sorted(s.name for s in await registry.list(ctx.actor)) == ["pg-one", "pg-two"]
        page = await ctx.activity.page(ctx.actor)
        actions = [e.action for e in page.entries]
        assert "STORE_READ_ONLY" in actions and "STORE_BACK" in actions and "SSH_OPEN" in actions
        assert not config.store_path.exists()
        # A second outage in the same process reads the snapshot refreshed since the first.
        assert await refresh_snapshot(ctx.store)
        with outage(pg_url, dbname):
            assert sorted(s.name for s in await registry.list(ctx.actor)) == ["pg-one", "pg-two"]
            assert ctx.store.read_only
    finally:
        ctx.close()


async def test_the_snapshot_follows_changes_heard_on_the_feed(tmp_path, pg_temp_url) -> None:
    """A process that listens refreshes this host's snapshot shortly after another
    process changes the shared store, without waiting for its own next call."""
    import asyncio
    import sqlite3

    from sqlalchemy import text

    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import open_context

    config = load_config(cli={"home": str(tmp_path / "home"), "store_url": pg_temp_url})
    ctx = await open_context(config, user="admin")
    try:
        feed = ctx.changes()
        feed.subscribe({"servers"}, lambda _t: None)
        await feed.started()
        await ctx.store.run(lambda s: s.execute(text(
            "INSERT INTO users (name, role, status, created_at, updated_at) "
            "VALUES ('seen-in-snapshot', 'viewer', 'active', now(), now())")))

        def in_snapshot() -> bool:
            path = ctx.store.snapshot_path
            if not path.exists():
                return False
            with sqlite3.connect(path) as conn:
                return conn.execute("SELECT count(*) FROM users WHERE name = 'seen-in-snapshot'").fetchone()[0] == 1

        for _ in range(200):
            if await asyncio.to_thread(in_snapshot):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the snapshot never had the new user")
    finally:
        ctx.close()


async def test_an_ssh_session_opens_during_an_outage(tmp_path, pg_url, pg_temp_url, tmp_path_factory) -> None:
    """While the shared store is away: the pool VM's stored login comes from the snapshot,
    a real SSH session to it opens and runs a command, and the audit row of the password's
    use lands when the store is back."""
    import asyncio

    from sqlalchemy import select

    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import open_context
    from jumpdeck.core.provision.pool import Pool
    from jumpdeck.core.secrets import Secret
    from jumpdeck.core.ssh import HostKeyPolicy, SshAuth, SshTarget, connect
    from jumpdeck.core.store.models import ActivityRow
    from jumpdeck.core.store.snapshot import refresh_snapshot
    from tests.fixtures.sshd import start_sshd, stop_sshd

    sshd = start_sshd(tmp_path_factory.mktemp("sshd"))
    config = load_config(cli={"home": str(tmp_path / "home"), "store_url": pg_temp_url})
    ctx = await open_context(config, user="admin")
    try:
        pool = Pool(ctx.store, ctx.secrets)
        await pool.add(ctx.actor, "VM-OUT", sshd.host, ssh_user=sshd.user, ssh_port=sshd.port,
                       ssh_password=Secret("vm-out-pw"))
        assert await refresh_snapshot(ctx.store)
        policy = HostKeyPolicy(store=tmp_path / "known_hosts", user_files=())
        policy.store.write_text(sshd.known_hosts_line + "\n")
        with outage(pg_url, pg_temp_url.rsplit("/", 1)[1]):
            login = await pool.ssh_login(ctx.actor, sshd.host, sshd.port)
            assert ctx.store.read_only and login.password.reveal() == "vm-out-pw"
            conn = await connect(SshTarget(host=login.ip, port=login.ssh_port, user=login.ssh_user,
                                           auth=SshAuth.key(sshd.client_key)), policy)
            try:
                term = await conn.open_terminal(80, 24)
                term.write(b"echo outage-$((6*7))\n")
                seen = b""

                async def read() -> None:
                    nonlocal seen
                    async for chunk in term.output():
                        seen += chunk
                        if b"outage-42" in seen:
                            return

                await asyncio.wait_for(read(), 15)
            finally:
                conn.close()
        for _ in range(150):
            if not ctx.store.read_only:
                break
            await asyncio.sleep(0.1)
        assert not ctx.store.read_only
        rows = await ctx.store.run(lambda s: s.scalars(select(ActivityRow.action)).all())
        assert "POOL_PASSWORD_USE" in rows and "STORE_BACK" in rows
    finally:
        ctx.close()
        stop_sshd(sshd)
