"""One bad token is one bad server: a stored password this host's key cannot open marks
that server (kind `secret`, with its remedy) and every other server is still checked."""

from __future__ import annotations

import pytest

from jumpdeck.core.secrets import Secret
from jumpdeck.core.servers.checks import CheckEngine, Status
from jumpdeck.core.servers.dashboard import DashboardService, ServerError
from jumpdeck.core.servers.drivers import ErrorKind
from jumpdeck.core.servers.fleet_checks import LocalFleetChecks
from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec
from tests.core.servers.conftest import FOREIGN_PASSWORD, plant_foreign_token


@pytest.fixture
async def fleet(ctx, pg_url):
    """pg-good and pg-bad, both on the real PostgreSQL; pg-bad's token is foreign."""
    registry = ServerRegistry(ctx.store, ctx.secrets)
    ids = {}
    for name in ("pg-bad", "pg-good"):
        spec = ServerSpec(name=name, db_type="postgresql", host="127.0.0.1", username="postgres", password=Secret("x"))
        ids[name] = (await registry.create(ctx.actor, spec)).id
    token = plant_foreign_token(ctx.store, ids["pg-bad"])
    engine = CheckEngine(timeout=3)
    yield registry, engine, ids, token
    engine.close()


def assert_secret_result(result, token: str, ctx) -> None:  # noqa: ANN001
    assert result.status is Status.OFFLINE and result.error_kind is ErrorKind.SECRET
    assert result.message.startswith("Encrypted under another key: the key from ")
    assert "stored under another key" in result.hint
    assert "jumpdeck servers edit pg-bad --password-stdin" in result.hint
    # Neither the token, the key nor any plaintext is in what a face shows.
    shown = result.message + result.hint + str(result.as_json())
    for secret in (token, ctx.secrets.keys[0].decode(), FOREIGN_PASSWORD):
        assert secret not in shown


async def test_the_round_checks_the_others_and_marks_the_bad_token(ctx, fleet) -> None:
    registry, engine, ids, token = fleet
    checking = await LocalFleetChecks(engine, registry).start(ctx.actor)
    assert sorted(checking.server_ids) == sorted(ids.values())
    results = {step.result.name: step.result async for step in checking}
    assert results["pg-good"].online, results["pg-good"].message
    assert_secret_result(results["pg-bad"], token, ctx)
    assert results["pg-bad"].as_json()["error_kind"] == "secret"


async def test_testing_the_bad_server_alone_gives_its_result(ctx, fleet) -> None:
    registry, engine, ids, token = fleet
    result = await LocalFleetChecks(engine, registry).check_one(ctx.actor, ids["pg-bad"])
    assert_secret_result(result, token, ctx)


async def test_the_dashboard_says_why_it_cannot_list_databases(ctx, fleet) -> None:
    registry, engine, ids, token = fleet
    service = DashboardService(registry, engine)
    with pytest.raises(ServerError) as raised:
        await service.databases(ctx.actor, ids["pg-bad"])
    assert raised.value.kind is ErrorKind.SECRET and "stored under another key" in raised.value.remedy
    assert token not in str(raised.value)
    assert [db.name for db in await service.databases(ctx.actor, ids["pg-good"])]
