"""Test before save (seed §3.1, §4.1) and whole-fleet targets, over a real store."""

from __future__ import annotations

import pytest

from jumpdeck.core.errors import PermissionDenied, ValidationError
from jumpdeck.core.secrets import Secret
from jumpdeck.core.servers.checks import CheckEngine, check_server, check_spec
from jumpdeck.core.servers.drivers import ErrorKind
from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec


@pytest.fixture
def registry(ctx) -> ServerRegistry:
    return ServerRegistry(ctx.store, ctx.secrets)


@pytest.fixture
async def engine():
    eng = CheckEngine(timeout=1)
    yield eng
    eng.close()


def mariadb_spec(**changes) -> ServerSpec:
    values = dict(name="maria", db_type="mysql", host="127.0.0.1", username="root", password=Secret(""))
    values.update(changes)
    return ServerSpec(**values)


async def test_an_unsaved_spec_is_tested_with_the_typed_password(ctx, engine, mysql_url) -> None:
    result = await check_spec(engine, ctx.actor, mariadb_spec(password=Secret("wrong")))
    assert result.error_kind is ErrorKind.AUTH_FAILED and result.server_id is None and result.name == "maria"


async def test_an_invalid_spec_is_a_validation_error_not_a_check(ctx, engine) -> None:
    with pytest.raises(ValidationError) as info:
        await check_spec(engine, ctx.actor, mariadb_spec(port="99999", password=Secret("x")))
    assert info.value.field == "port"


async def test_an_edit_with_a_blank_password_uses_the_stored_one(ctx, registry, engine, pg_url, refused_port) -> None:
    saved = await registry.create(ctx.actor, ServerSpec(name="pg", db_type="postgresql", host="127.0.0.1",
                                                        port=refused_port, username="postgres", password=Secret("pw")))
    assert (await check_server(engine, registry, ctx.actor, saved.id)).error_kind is ErrorKind.REFUSED
    # The operator fixes the port in the dialog and tests without retyping the password.
    edited = ServerSpec(name="pg", db_type="postgresql", host="127.0.0.1", port=5432, username="postgres")
    result = await check_spec(engine, ctx.actor, edited, registry=registry, server_id=saved.id)
    assert result.online, result.message
    assert result.server_id == saved.id


async def test_check_targets_skip_inactive_servers_unless_named(ctx, registry) -> None:
    a = await registry.create(ctx.actor, mariadb_spec(name="a", password=Secret("s3cret")))
    b = await registry.create(ctx.actor, mariadb_spec(name="b", password=Secret("x"), is_active=False))
    fleet = await registry.check_targets(ctx.actor)
    assert [t.name for t in fleet] == ["a"]
    assert fleet[0].credentials.password == Secret("s3cret") and fleet[0].server_id == a.id
    named = await registry.check_targets(ctx.actor, [b.id])
    assert [t.name for t in named] == ["b"]


async def test_a_pending_user_cannot_test(engine, pending) -> None:
    with pytest.raises(PermissionDenied):
        await check_spec(engine, pending, mariadb_spec(password=Secret("x")))
