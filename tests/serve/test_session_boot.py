"""A serve-ssh session's first screen from the server (core/serve/session_boot.py, and
the session's side in session_client.py): the wire and its rule over the real control
socket, and a context (core/serve/face_context.py) that opens its store only when a call
needs it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import socket

from jumpdeck.core.context import SERVE_SESSION_ENV, SESSION_TOKEN_ENV, local_user_name
from jumpdeck.core.errors import PermissionDenied
from jumpdeck.core.identity import Role, UserStatus
from jumpdeck.core.secrets import Secret
from jumpdeck.core.serve import session_boot, session_client
from jumpdeck.core.serve.check_relay import CheckRelay
from jumpdeck.core.serve.control import ControlServer
from jumpdeck.core.serve.face_context import open_face_context
from jumpdeck.core.serve.session_client import RemoteFleetChecks
from jumpdeck.core.serve.sessions import SessionLimits, SessionTable
from jumpdeck.core.servers.registry import ServerInfo, ServerRegistry, ServerSpec
from tests.serve.conftest import as_session


@pytest.fixture
async def control(ctx):
    """The server's control socket over `ctx`'s store. The test process is no session
    child: it is its OS account, whatever name it gives, until `as_session` makes its
    requests carry a session's token."""
    fake_server = SimpleNamespace(ctx=ctx, table=SessionTable(SessionLimits()), checks=CheckRelay(ctx))
    server = ControlServer(fake_server)
    await server.start()
    yield server
    await server.close()
    fake_server.checks.close()


async def _two_servers(ctx) -> list[ServerInfo]:  # noqa: ANN001
    registry = ServerRegistry(ctx.store, ctx.secrets)
    await registry.create(ctx.actor, ServerSpec("boot-pg", "postgresql", "127.0.0.1", "postgres", Secret("pw-boot-1"),
                                                5432, "postgres", tags=("prod", "erp"), description="first"))
    await registry.create(ctx.actor, ServerSpec("boot-my", "mysql", "127.0.0.1", "root", Secret("pw-boot-2"), 3306, "",
                                                is_active=False))
    return await registry.list(ctx.actor)


async def test_hello_and_the_fleet_come_from_the_servers_store(ctx, control, monkeypatch):
    await ctx.settings.set(ctx.actor, {"system_notice": "patch night"})
    expected = await _two_servers(ctx)

    as_session(monkeypatch, control, "admin")
    facts = await session_client.hello(ctx.config, "someone-else")  # the name given counts for nothing
    assert (facts.actor.user, facts.actor.role, facts.actor.status) == ("admin", Role.ADMIN, UserStatus.ACTIVE)
    assert facts.actor.origin == f"ssh:127.0.0.1@{socket.gethostname()}"  # recorded by the server
    assert facts.settings == (await ctx.settings.get()).values and facts.settings["system_notice"] == "patch night"
    assert facts.store == {"url_display": ctx.store.url_display, "kind": "sqlite", "degraded_reason": None}

    listed = await RemoteFleetChecks(ctx.config).servers(ctx.actor)
    assert listed == expected  # every field, dates and tags included
    assert "pw-boot-1" not in repr([s.as_json() for s in listed]) and "pw-boot-2" not in repr(listed)


async def test_the_fleet_is_refused_to_a_pending_user(ctx, control, monkeypatch):
    await _two_servers(ctx)
    await ctx.users.add(ctx.actor, "newbie", Role.VIEWER)
    from jumpdeck.core.store.models import UserRow

    def make_pending(session) -> None:  # noqa: ANN001
        session.query(UserRow).filter(UserRow.name == "newbie").update({"status": UserStatus.PENDING.value})

    await ctx.store.run(make_pending)
    as_session(monkeypatch, control, "newbie")
    facts = await session_client.hello(ctx.config, "newbie")
    assert facts.actor.status is UserStatus.PENDING  # the app shows the pending screen
    with pytest.raises(PermissionDenied):
        await session_client.list_servers(ctx.config, facts.actor)
    as_session(monkeypatch, control, "nobody-at-all")
    with pytest.raises(PermissionDenied):
        await session_client.hello(ctx.config, "nobody-at-all")


async def test_a_process_that_is_no_session_is_its_os_account_whatever_it_says(ctx, control, monkeypatch):
    """A local process of the server's account that sets the session variable by hand, and
    even a made-up token, is its OS account: the name and the token it gives change nothing."""
    await ctx.users.add(ctx.actor, local_user_name(), Role.VIEWER)
    monkeypatch.setenv(SERVE_SESSION_ENV, "1")
    monkeypatch.setenv(SESSION_TOKEN_ENV, "forged-token")
    facts = await session_client.hello(ctx.config, "admin")
    assert (facts.actor.user, facts.actor.role) == (local_user_name(), Role.VIEWER)
    assert facts.actor.origin == f"local@{socket.gethostname()}"


async def test_a_session_context_opens_its_store_on_first_use(ctx, control, monkeypatch):
    await ctx.settings.set(ctx.actor, {"system_notice": "from the server"})
    monkeypatch.setenv(SERVE_SESSION_ENV, "1")
    as_session(monkeypatch, control, "admin")
    session_ctx = await open_face_context(ctx.config)
    try:
        assert not session_ctx.store.opened
        assert session_ctx.actor.is_admin and session_ctx.settings_at_open.get("system_notice") == "from the server"
        assert session_ctx.store.url_display == ctx.store.url_display
        # Its fleet and rounds of checks are the server's: the opener handed them over.
        from jumpdeck.core.servers.fleet_checks import open_fleet_checks

        assert isinstance(open_fleet_checks(session_ctx), RemoteFleetChecks)
        # The first call that needs the store opens it, and sees the same data.
        users = await session_ctx.users.list(session_ctx.actor)
        assert session_ctx.store.opened and [u.name for u in users] == [u.name for u in await ctx.users.list(ctx.actor)]
    finally:
        session_ctx.close()


async def test_a_session_without_its_server_gets_a_sentence(ctx, monkeypatch):
    """No control socket (the server is gone): a sentence and a remedy, no traceback."""
    from jumpdeck.core.errors import StoreError

    monkeypatch.setenv(SERVE_SESSION_ENV, "1")
    with pytest.raises(StoreError) as caught:
        await open_face_context(ctx.config)
    assert "does not answer" in caught.value.message and caught.value.remedy


async def test_a_dropped_boot_request_is_asked_again(ctx, control, monkeypatch):
    """The server closing a connection without a reply (a hiccup) is not a refusal: the
    session asks once more; a server that fails inside says so in a sentence."""
    real = session_client.open_request
    calls = []

    async def flaky(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        if len(calls) == 1:
            from jumpdeck.core.errors import StoreError

            raise StoreError("dropped")
        return await real(*args, **kwargs)

    monkeypatch.setattr(session_client, "open_request", flaky)
    as_session(monkeypatch, control, "admin")
    facts = await session_client.hello(ctx.config, "admin")
    assert facts.actor.user == "admin" and len(calls) == 2


async def test_a_failure_inside_the_server_reaches_the_session_as_a_sentence(ctx, control, monkeypatch):
    from jumpdeck.core.errors import JumpdeckError

    async def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("database is locked at /secret/path")

    monkeypatch.setattr(session_boot, "answer", broken)
    as_session(monkeypatch, control, "admin")
    with pytest.raises(JumpdeckError) as caught:
        await session_client.list_servers(ctx.config, ctx.actor)
    assert "failed to answer" in caught.value.message and caught.value.remedy
    assert "RuntimeError" not in caught.value.message and "/secret/path" not in caught.value.message


def _store_failure(kind: str = "IntegrityError") -> Exception:
    from sqlalchemy import exc

    orig = Exception("duplicate key value violates unique constraint at /secret/path")
    return getattr(exc, kind)("INSERT INTO settings ...", {}, orig)


async def test_a_store_failure_in_the_server_is_asked_again_there(ctx, control, monkeypatch):
    """A transient store error while the server answers a boot request (what a lazy insert
    racing another process used to raise) is retried once in the server: the session
    never hears of it."""
    real = session_boot.answer
    calls = []

    async def flaky(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        if len(calls) == 1:
            raise _store_failure()
        return await real(*args, **kwargs)

    monkeypatch.setattr(session_boot, "answer", flaky)
    as_session(monkeypatch, control, "admin")
    facts = await session_client.hello(ctx.config, "admin")
    assert facts.actor.user == "admin" and len(calls) == 2


async def test_a_store_that_keeps_failing_reaches_the_session_as_a_store_error_after_its_retry(ctx, control, monkeypatch):
    from jumpdeck.core.errors import StoreError

    calls = []

    async def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        raise _store_failure("OperationalError")

    monkeypatch.setattr(session_boot, "answer", broken)
    as_session(monkeypatch, control, "admin")
    with pytest.raises(StoreError) as caught:
        await session_client.hello(ctx.config, "admin")
    # Twice in the server for each of the session's two asks.
    assert len(calls) == 4
    message = str(caught.value)
    assert "The store did not answer" in message and caught.value.remedy
    assert "Error" not in caught.value.message and "/secret/path" not in message
