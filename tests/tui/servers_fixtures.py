"""A small fleet for the Servers screen's tests, every host on loopback, and fixed
check results so snapshots never show a live latency."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from jumpdeck.core.config import load_config
from jumpdeck.core.secrets import Secret
from jumpdeck.core.servers.checks import CheckResult, Status
from jumpdeck.core.servers.drivers import HINTS, ErrorKind
from jumpdeck.core.servers.registry import DbType, ServerRegistry, ServerSpec
from tests.tui.conftest import prepare_store

CHECKED_AT = datetime(2026, 3, 14, 9, 30, tzinfo=timezone.utc)
# Fixed, so snapshots are stable: nothing listens on port 1 (binding it needs root, and no
# service here does), so checks to it are refused at once.
DEAD_PORT = 1

FLEET = [
    ServerSpec(name="erp-mssql", db_type="mssql", host="127.0.0.2", port=DEAD_PORT, username="sa",
               password=Secret("pw"), tags=("prod", "erp"), description="ERP production"),
    ServerSpec(name="pg-main", db_type="postgresql", host="127.0.0.1", username="postgres", password=Secret("pw"),
               tags=("prod",)),
    ServerSpec(name="maria-dev", db_type="mysql", host="127.0.0.1", username="root", password=Secret("wrong"),
               tags=("dev",)),
    ServerSpec(name="ora-fin", db_type="oracle", host="127.0.0.3", port=DEAD_PORT, default_db="ORCL",
               username="fin", password=Secret("pw"), description="Finance"),
    ServerSpec(name="pg-reports", db_type="postgresql", host="127.0.0.4", port=DEAD_PORT, username="rep",
               password=Secret("pw"), tags=("reports",)),
]


async def seed_fleet(ctx) -> None:
    from sqlalchemy import update

    from jumpdeck.core.identity import Role
    from jumpdeck.core.store.models import CorpRow, ServerRow

    registry = ServerRegistry(ctx.store, ctx.secrets)
    ids = {}
    for spec in FLEET:
        ids[spec.name] = (await registry.create(ctx.actor, spec)).id
    await ctx.users.add(ctx.actor, "vera.viewer", Role.VIEWER)

    def corps_and_dates(session) -> None:
        session.add_all([
            CorpRow(server_id=ids["erp-mssql"], code="C100", name="Acme", db_name="acme", status="ok"),
            CorpRow(server_id=ids["erp-mssql"], code="C200", name="Beta", db_name="beta", status="warning"),
        ])
        session.execute(update(ServerRow).values(created_at=datetime(2026, 3, 1), updated_at=datetime(2026, 3, 1)))

    await ctx.store.run(corps_and_dates)


def fixed_results(ids: dict[str, int]) -> list[CheckResult]:
    """One of each state: online, refused, login failed, timeout; pg-reports stays unknown."""
    def online(name: str, db_type: DbType, version: str, latency: float) -> CheckResult:
        return CheckResult(ids[name], name, db_type, "127.0.0.1", 5432, Status.ONLINE, latency, version,
                           checked_at=CHECKED_AT)

    def offline(name: str, db_type: DbType, kind: ErrorKind, message: str) -> CheckResult:
        return CheckResult(ids[name], name, db_type, "127.0.0.1", 1, Status.OFFLINE, 12.0, None, kind, message,
                           HINTS[kind], checked_at=CHECKED_AT)

    return [
        online("pg-main", DbType.POSTGRESQL, "PostgreSQL 15.20 (Debian 15.20-0+deb12u1) on x86_64-pc-linux-gnu", 4.0),
        offline("erp-mssql", DbType.MSSQL, ErrorKind.REFUSED, "Unable to connect: Adaptive Server is unavailable"),
        offline("maria-dev", DbType.MYSQL, ErrorKind.AUTH_FAILED,
                "Access denied for user 'root'@'127.0.0.1' (using password: YES)"),
        offline("ora-fin", DbType.ORACLE, ErrorKind.TIMEOUT, "No answer from 127.0.0.3:1521 within 5 s."),
    ]


@pytest.fixture
def fleet_config(tmp_path, monkeypatch):
    """A store with the fleet; the screen's automatic first round is off (tests run
    checks on purpose, or paint fixed results)."""
    from jumpdeck.tui.screens.servers import ServersScreen

    monkeypatch.setattr(ServersScreen, "AUTO_CHECK", False)
    config = load_config(cli={"home": str(tmp_path / "home")})
    asyncio.run(prepare_store(config, extra=seed_fleet))
    return config


def server_ids(screen) -> dict[str, int]:
    return {row.info.name: sid for sid, row in screen.fleet.rows.items()}
