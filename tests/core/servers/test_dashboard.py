"""Dashboard data against the real local PostgreSQL and MariaDB."""

from __future__ import annotations

import uuid

import pytest

from jumpdeck.core.activity import ActivityFilter
from jumpdeck.core.errors import Conflict, PermissionDenied, ValidationError
from jumpdeck.core.secrets import Secret
from jumpdeck.core.servers.checks import CheckEngine
from jumpdeck.core.servers.dashboard import DashboardService, ServerError, summarize_corps, validate_db_name
from jumpdeck.core.servers.drivers import ErrorKind, load_driver
from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec
from tests.core.servers.conftest import closed_port


@pytest.fixture
async def service(ctx):
    engine = CheckEngine(timeout=3)
    yield DashboardService(ServerRegistry(ctx.store, ctx.secrets), engine)
    engine.close()


async def add(service, ctx, db_type: str, port: int, user: str) -> int:
    spec = ServerSpec(name=f"{db_type}-{port}", db_type=db_type, host="127.0.0.1", port=port, username=user,
                      password=Secret("unused"))
    return (await service.registry.create(ctx.actor, spec)).id


async def test_postgresql_databases_with_size_and_owner(service, ctx, pg_url) -> None:
    dbs = await service.databases(ctx.actor, await add(service, ctx, "postgresql", 5432, "postgres"))
    postgres = next(d for d in dbs if d.name == "postgres")
    assert postgres.owner == "postgres" and postgres.size_bytes > 1_000_000
    assert "template0" not in [d.name for d in dbs]


async def test_mysql_databases_with_size(service, ctx, mysql_url) -> None:
    sid = await add(service, ctx, "mysql", 3306, "root")
    # MariaDB's root login here has no password; the registry demands one, so clear it.
    from jumpdeck.core.store.models import ServerRow

    await ctx.store.run(lambda s: setattr(s.get(ServerRow, sid), "password_enc", ""))
    dbs = await service.databases(ctx.actor, sid)
    mysql = next(d for d in dbs if d.name == "mysql")
    assert mysql.size_bytes and mysql.size_bytes > 0 and mysql.owner is None


async def test_an_unreachable_server_is_a_server_error_with_a_hint(service, ctx) -> None:
    sid = await add(service, ctx, "postgresql", closed_port(), "postgres")
    with pytest.raises(ServerError) as info:
        await service.databases(ctx.actor, sid)
    assert info.value.kind is ErrorKind.REFUSED and info.value.remedy


async def test_create_corp_db_on_postgresql_records_and_audits(service, ctx, pg_url, operator) -> None:
    import psycopg2

    sid = await add(service, ctx, "postgresql", 5432, "postgres")
    db_name = f"jd_corp_{uuid.uuid4().hex[:8]}"
    try:
        corp = await service.create_corp_db(operator, sid, code="C100", name="Acme Korea", db_name=db_name)
        assert (corp.code, corp.db_name, corp.status) == ("C100", db_name, "ok")
        assert db_name in [d.name for d in await service.databases(ctx.actor, sid)]
        corps = await service.corps(ctx.actor, sid)
        assert [c.code for c in corps] == ["C100"] and summarize_corps(corps).total == 1
        page = await ctx.activity.page(ctx.actor, ActivityFilter(target_type="CORP"))
        assert page.entries[0].action == "CREATE_DB" and db_name in page.entries[0].detail
        with pytest.raises(Conflict):
            await service.create_corp_db(operator, sid, code="c100", name="Again", db_name="other_db")
        # The server now refuses deletion: it holds a corp DB.
        with pytest.raises(Conflict, match=r"1 corp DB\. .*detach-corp"):
            await service.registry.delete(ctx.actor, sid)
    finally:
        conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
        conn.autocommit = True
        conn.cursor().execute(f'DROP DATABASE IF EXISTS "{db_name}"')
        conn.close()


async def test_create_corp_db_on_mariadb(service, ctx, mysql_url) -> None:
    import pymysql

    from jumpdeck.core.store.models import ServerRow

    sid = await add(service, ctx, "mysql", 3306, "root")
    await ctx.store.run(lambda s: setattr(s.get(ServerRow, sid), "password_enc", ""))
    db_name = f"jd_corp_{uuid.uuid4().hex[:8]}"
    try:
        await service.create_corp_db(ctx.actor, sid, code="K1", name="Acme", db_name=db_name)
        assert db_name in [d.name for d in await service.databases(ctx.actor, sid)]
        with pytest.raises(ServerError, match="exists"):  # the server refuses a second one
            await service.create_corp_db(ctx.actor, sid, code="K2", name="Acme 2", db_name="mysql")
    finally:
        conn = pymysql.connect(host="127.0.0.1", user="root")
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{db_name}`")
        conn.close()


@pytest.mark.parametrize("db_type", ["postgresql", "mysql"])
async def test_a_corp_is_detached_or_dropped_and_then_the_server_can_go(service, ctx, db_type, pg_url, mysql_url,
                                                                       operator, viewer) -> None:
    from jumpdeck.core.errors import NotFound

    spec = ServerSpec(name=f"{db_type}-corps", db_type=db_type, host="127.0.0.1",
                      port=5432 if db_type == "postgresql" else 3306,
                      username="postgres" if db_type == "postgresql" else "root", no_password=True)
    sid = (await service.registry.create(ctx.actor, spec)).id
    kept, dropped = (f"jd_corp_{uuid.uuid4().hex[:8]}" for _ in range(2))
    try:
        await service.create_corp_db(operator, sid, code="KEEP", name="Kept", db_name=kept)
        await service.create_corp_db(operator, sid, code="GONE", name="Gone", db_name=dropped)
        with pytest.raises(PermissionDenied):
            await service.remove_corp(viewer, sid, "KEEP")
        with pytest.raises(NotFound, match="no corp 'NOPE'"):
            await service.remove_corp(operator, sid, "NOPE")
        await service.remove_corp(operator, sid, "keep")  # codes match as the create check does
        names = [d.name for d in await service.databases(ctx.actor, sid)]
        assert kept in names  # detached: the database stays
        await service.remove_corp(operator, sid, "GONE", drop=True)
        names = [d.name for d in await service.databases(ctx.actor, sid)]
        assert dropped not in names and kept in names
        assert await service.corps(ctx.actor, sid) == []
        actions = [e.action for e in (await ctx.activity.page(ctx.actor, ActivityFilter(target_type="CORP"))).entries]
        assert actions[:2] == ["DROP_DB", "DETACH_DB"]
        await service.registry.delete(ctx.actor, sid)  # nothing holds it any more
    finally:
        for name in (kept, dropped):
            if db_type == "postgresql":
                import psycopg2

                conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
                conn.autocommit = True
                conn.cursor().execute(f'DROP DATABASE IF EXISTS "{name}"')
            else:
                import pymysql

                conn = pymysql.connect(host="127.0.0.1", user="root")
                conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
            conn.close()


async def test_viewers_cannot_create_databases(service, ctx, viewer) -> None:
    with pytest.raises(PermissionDenied, match="admin or an operator"):
        await service.create_corp_db(viewer, 1, code="x", name="x", db_name="x")


@pytest.mark.parametrize("bad", ["", "1abc", "a-b", "a b", 'x"; DROP DATABASE y; --', "é", "a" * 64])
def test_db_names_are_validated(bad) -> None:
    with pytest.raises(ValidationError):
        validate_db_name(bad)


async def test_create_is_not_offered_on_mssql(service, ctx) -> None:
    sid = await add(service, ctx, "mssql", 1433, "sa")
    info = await service.registry.get(ctx.actor, sid)
    assert "not supported" in service.can_create(info)
    assert load_driver("postgresql").CREATES_DATABASES
    with pytest.raises(ValidationError, match="not supported"):
        await service.create_corp_db(ctx.actor, sid, code="x", name="x", db_name="x")
