"""Accounts without a password (issue #20, item 8): registered on purpose with
`no_password`, never by leaving the password blank, and checked against the real
PostgreSQL (trust) and MariaDB (root, empty password)."""

from __future__ import annotations

import uuid

import pytest

from jumpdeck.core.activity import ActivityFilter
from jumpdeck.core.errors import ValidationError
from jumpdeck.core.secrets import Secret
from jumpdeck.core.servers.checks import PASSWORD_UNASKED, CheckEngine, check_server, check_spec
from jumpdeck.core.servers.drivers import ErrorKind
from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec, spec_from_info

TIMEOUT = 2.0


@pytest.fixture
def registry(ctx) -> ServerRegistry:
    return ServerRegistry(ctx.store, ctx.secrets)


@pytest.fixture
async def engine():
    eng = CheckEngine(timeout=TIMEOUT)
    yield eng
    eng.close()


def local_pg(**changes) -> ServerSpec:
    values = dict(name="local-pg", db_type="postgresql", host="127.0.0.1", username="postgres", no_password=True)
    values.update(changes)
    return ServerSpec(**values)


def local_maria(**changes) -> ServerSpec:
    values = dict(name="local-maria", db_type="mysql", host="127.0.0.1", username="root", no_password=True)
    values.update(changes)
    return ServerSpec(**values)


async def test_an_empty_password_without_the_choice_is_refused_naming_it(ctx, registry) -> None:
    with pytest.raises(ValidationError) as info:
        await registry.create(ctx.actor, local_pg(no_password=False))
    assert info.value.field == "password"
    assert "--no-password" in str(info.value) and "'no password'" in str(info.value)
    assert await registry.list(ctx.actor) == []


async def test_no_password_and_a_password_at_once_is_refused(ctx, registry) -> None:
    with pytest.raises(ValidationError, match="cannot also have one"):
        await registry.create(ctx.actor, local_pg(password=Secret("pw")))
    with pytest.raises(ValidationError, match="true or false"):
        await registry.create(ctx.actor, local_pg(no_password="yes"))


async def test_a_no_password_server_is_stored_as_such_with_no_token(ctx, registry) -> None:
    from jumpdeck.core.store.models import ServerRow

    info = await registry.create(ctx.actor, local_pg())
    assert (info.no_password, info.has_password) == (True, False)
    row_token, row_flag = await ctx.store.run(lambda s: (s.get(ServerRow, info.id).password_enc,
                                                         s.get(ServerRow, info.id).no_password))
    assert (row_token, row_flag) == ("", True)
    creds = await registry.credentials(ctx.actor, info.id)
    assert creds.no_password and not creds.password
    rows = (await ctx.activity.page(ctx.actor, ActivityFilter(action="CREATE"))).entries
    assert "no password" in rows[0].detail
    # An edit that changes something else keeps the choice.
    kept = await registry.update(ctx.actor, info.id, spec_from_info(info, description="trust on loopback"))
    assert kept.no_password and kept.description == "trust on loopback"


async def test_edit_switches_to_and_from_no_password(ctx, registry) -> None:
    info = await registry.create(ctx.actor, local_pg(no_password=False, password=Secret("pw-canary-77")))
    assert not info.no_password and info.has_password
    switched = await registry.update(ctx.actor, info.id, spec_from_info(info, no_password=True))
    assert switched.no_password and not switched.has_password
    assert not (await registry.credentials(ctx.actor, info.id)).password
    # Leaving the choice with a blank password has no stored password to keep.
    with pytest.raises(ValidationError, match="no stored password to keep"):
        await registry.update(ctx.actor, info.id, spec_from_info(switched, no_password=False))
    back = await registry.update(ctx.actor, info.id,
                                 spec_from_info(switched, no_password=False, password=Secret("pw-2")))
    assert not back.no_password and back.has_password
    assert (await registry.credentials(ctx.actor, info.id)).password.reveal() == "pw-2"
    details = " ".join(r.detail for r in (await ctx.activity.page(ctx.actor, ActivityFilter(action="UPDATE"))).entries)
    assert "password removed" in details and "pw-canary-77" not in details and "pw-2" not in details


async def test_postgres_trust_account_checks_online_and_says_no_password_was_asked(ctx, registry, engine,
                                                                                   pg_url) -> None:
    info = await registry.create(ctx.actor, local_pg())
    result = await check_server(engine, registry, ctx.actor, info.id)
    assert result.online, result.message
    assert result.password_unasked
    assert PASSWORD_UNASKED in result.summary()
    assert result.as_json()["password_unasked"] is True
    assert type(result).from_json(result.as_json()).password_unasked


async def test_mariadb_empty_root_password_checks_online(ctx, registry, engine, mysql_url) -> None:
    info = await registry.create(ctx.actor, local_maria())
    result = await check_server(engine, registry, ctx.actor, info.id)
    assert result.online, result.message
    assert result.password_unasked and PASSWORD_UNASKED in result.summary()


async def test_a_stored_password_that_trust_never_asked_for_is_told(ctx, registry, engine, pg_url) -> None:
    # 127.0.0.1 is a trust line here: libpq reports the password as unused.
    info = await registry.create(ctx.actor, local_pg(no_password=False, password=Secret("unused-pw")))
    result = await check_server(engine, registry, ctx.actor, info.id)
    assert result.online and result.password_unasked


async def test_a_stored_password_mariadb_used_is_not_called_unasked(ctx, registry, engine, mysql_url) -> None:
    import pymysql

    user, password = f"jd_np_{uuid.uuid4().hex[:8]}", "pw-" + uuid.uuid4().hex[:8]
    admin = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
    try:
        admin.cursor().execute(f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY %s", (password,))
        with_password = await registry.create(ctx.actor, local_maria(name="with-pw", username=user,
                                                                     no_password=False, password=Secret(password)))
        result = await check_server(engine, registry, ctx.actor, with_password.id)
        assert result.online, result.message
        assert not result.password_unasked and PASSWORD_UNASKED not in result.summary()
        # The same account registered without a password: the server asks, and the hint says what to do.
        without = await registry.create(ctx.actor, local_maria(name="asks for one", username=user))
        refused = await check_server(engine, registry, ctx.actor, without.id)
        assert refused.error_kind is ErrorKind.AUTH_FAILED
        assert "registered without one" in refused.hint and "servers edit 'asks for one'" in refused.hint
    finally:
        admin.cursor().execute(f"DROP USER IF EXISTS '{user}'@'127.0.0.1'")
        admin.close()


async def test_test_before_save_of_an_edit_with_no_stored_password(ctx, registry, engine, pg_url) -> None:
    info = await registry.create(ctx.actor, local_pg())
    result = await check_spec(engine, ctx.actor, spec_from_info(info), registry=registry, server_id=info.id)
    assert result.online and result.password_unasked
    with pytest.raises(ValidationError, match="no stored password to keep"):
        await check_spec(engine, ctx.actor, spec_from_info(info, no_password=False), registry=registry,
                         server_id=info.id)


async def test_the_demo_registers_its_local_servers_through_the_registry(ctx, registry, engine, pg_url,
                                                                         mysql_url) -> None:
    from jumpdeck.core.demo import seed_demo

    await seed_demo(ctx)
    servers = {s.name: s for s in await registry.list(ctx.actor)}
    for name in ("local-postgres", "local-mariadb"):
        assert servers[name].no_password and not servers[name].has_password
        result = await check_server(engine, registry, ctx.actor, servers[name].id)
        assert result.online and result.password_unasked, result.message
    assert all(s.has_password and not s.no_password for n, s in servers.items() if not n.startswith("local-"))
