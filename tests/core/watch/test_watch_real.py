"""The watch against real endpoints: PostgreSQL and MariaDB, a closed port, a silent
listener, and the real PostgreSQL behind a relay that goes silent and comes back. The
tests drive the service tick by tick, so nothing waits on a wall clock but the
engine's own check deadline."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from jumpdeck.core.config import load_config
from jumpdeck.core.context import open_context
from jumpdeck.core.servers.checks import CheckEngine
from jumpdeck.core.servers.registry import ServerRegistry
from jumpdeck.core.watch.claims import WatchHost
from jumpdeck.core.watch.events import IncidentClosed, IncidentOpened
from jumpdeck.core.watch.service import WatchOptions, WatchService
from tests.core.servers.conftest import closed_port
from tests.core.watch.conftest import add_servers

INTERVAL = 0.3  # each server is due again almost at once: the loop below sets the pace


@pytest.fixture(params=["sqlite", "postgresql"])
async def ctx(request, tmp_path):
    cli = {"home": str(tmp_path / "home")}
    if request.param == "postgresql":
        cli["store_url"] = request.getfixturevalue("pg_temp_url")
    context = await open_context(load_config(cli=cli), user="admin")
    yield context
    context.close()


def watch(ctx, *, failures: int = 2, host: str = "host-a") -> WatchService:  # noqa: ANN001
    engine = CheckEngine(timeout=0.5)
    return WatchService(ctx.store, ServerRegistry(ctx.store, ctx.secrets), engine, ctx.actor,
                        WatchOptions(interval=INTERVAL, jitter=0.0, failures_to_open=failures), host=host)


async def rounds(service: WatchService, count: int) -> list:
    """`count` ticks, each waiting for its checks and writing them; the events seen."""
    events = []
    unsubscribe = service.subscribe(events.append)
    for _ in range(count):
        await service.tick()
        await service.settle()
        await service.flush()
        await asyncio.sleep(INTERVAL)  # the next check falls due (jitter 0)
    unsubscribe()
    return events


async def test_the_watch_records_real_servers_closed_ports_and_silent_listeners(ctx, mysql_url, pg_url,
                                                                                 silent_port) -> None:
    from jumpdeck.core.store.models import WatchLatestRow

    ids = add_servers(ctx.store, ["pg"]) | add_servers(ctx.store, ["maria"], port=3306, db_type="mysql")
    ids |= add_servers(ctx.store, ["closed"], port=closed_port()) | add_servers(ctx.store, ["silent"], port=silent_port)
    service = watch(ctx)
    try:
        await rounds(service, 3)
    finally:
        await service.close()
        service.engine.close()
    latest = {r.server_id: r for r in ctx.store.run_sync(lambda s: s.scalars(select(WatchLatestRow)).all())}
    read = await _history(ctx).latest(ctx.actor)
    assert {sid: (r.status, r.failures) for sid, r in read.items()} == {
        sid: (r.status, r.failures) for sid, r in latest.items()}
    assert latest[ids["pg"]].status == "online" and latest[ids["pg"]].version.startswith("PostgreSQL")
    assert latest[ids["maria"]].status == "online"
    assert (latest[ids["closed"]].status, latest[ids["closed"]].error_kind) == ("offline", "refused")
    assert (latest[ids["silent"]].status, latest[ids["silent"]].error_kind) == ("offline", "timeout")
    assert latest[ids["silent"]].failures >= 2
    incidents = await _history(ctx).incidents(ctx.actor, open_only=True)
    assert sorted(i.name for i in incidents) == ["closed", "silent"]
    uptime = {u.name: u for u in await _history(ctx).uptime(ctx.actor)}
    assert uptime["pg"].uptime_24h == 100.0 and uptime["closed"].uptime_24h == 0.0
    # One check a round, the first round perhaps none: first checks are spread over an interval.
    assert uptime["pg"].checks_24h in (2, 3) and uptime["silent"].checks_24h == latest[ids["silent"]].failures


async def anext_two(stream) -> list:  # noqa: ANN001
    return [await stream.__anext__(), await stream.__anext__()]


def _history(ctx):  # noqa: ANN001, ANN202
    from jumpdeck.core.watch.history import WatchHistory

    return WatchHistory(ctx.store)


async def test_a_postgresql_gone_silent_opens_an_incident_after_n_failures_and_it_closes_when_back(
        ctx, pg_relay) -> None:
    sid = add_servers(ctx.store, ["behind-relay"], port=pg_relay.port)["behind-relay"]
    service = watch(ctx, failures=2)
    stream = service.events()
    streamed = asyncio.ensure_future(anext_two(stream))
    try:
        assert await rounds(service, 2) == []  # answering
        pg_relay.answering = False
        first = await rounds(service, 1)
        assert first == []  # one failure is not yet an incident
        opened = await rounds(service, 1)
        assert [type(e) for e in opened] == [IncidentOpened] and opened[0].server_id == sid
        assert opened[0].error_kind == "timeout"
        pg_relay.answering = True
        closed = await rounds(service, 1)
        assert [type(e) for e in closed] == [IncidentClosed] and closed[0].incident_id == opened[0].incident_id
        assert await streamed == opened + closed  # the iterator saw what the callbacks saw
    finally:
        await service.close()
        service.engine.close()
    [incident] = await _history(ctx).incidents(ctx.actor)
    assert incident.ended_at is not None and incident.started_at < incident.ended_at


@pytest.mark.parametrize("ctx", ["postgresql"], indirect=True)  # several hosts share a PostgreSQL store
async def test_two_watches_on_one_store_share_the_fleet_and_check_each_server_once_per_due(ctx) -> None:
    """In one process, as two hosts: each server has one holder, the two holders split
    the fleet, and a stopped one's servers go to the other."""
    from jumpdeck.core.store.models import WatchClaimRow

    add_servers(ctx.store, [f"s{i}" for i in range(10)], port=closed_port())
    a, b = watch(ctx, host="host-a"), watch(ctx, host="host-b")
    try:
        for _ in range(3):
            due = [await a.tick(), await b.tick()]
            assert not set(due[0]) & set(due[1])
            await a.settle()
            await b.settle()
        holders = ctx.store.run_sync(lambda s: [c.holder_host for c in s.scalars(select(WatchClaimRow))])
        assert sorted(holders) == ["host-a"] * 5 + ["host-b"] * 5
        await b.close()
        await a.tick()
        holders = ctx.store.run_sync(lambda s: {c.holder_host for c in s.scalars(select(WatchClaimRow))})
        assert holders == {"host-a"} and a.share.held == 10
    finally:
        await a.close()
        await b.close()
        a.engine.close()
        b.engine.close()


async def test_a_pinned_server_is_only_taken_by_a_watch_of_its_site(ctx) -> None:
    from jumpdeck.core.store.models import WatchClaimRow
    from jumpdeck.core.watch import claims
    from jumpdeck.core.watch.store_clock import store_clock

    ids = add_servers(ctx.store, ["zone-b-db", "anywhere"], port=closed_port())
    ctx.store.run_sync(lambda s: claims.pin(s, ids["zone-b-db"], "zone-b", store_clock(s)))
    service = watch(ctx, host="host-a")
    try:
        await service.tick()
        holders = ctx.store.run_sync(lambda s: {c.server_id: c.holder_host for c in s.scalars(select(WatchClaimRow))})
        assert holders == {ids["zone-b-db"]: None, ids["anywhere"]: "host-a"}
        [running] = await _history(ctx).hosts(ctx.actor)
        assert (running.host, running.site, running.servers) == ("host-a", "host-a", 1)
    finally:
        await service.close()
        service.engine.close()
    assert await _history(ctx).hosts(ctx.actor) == []  # "no watch running"
    assert WatchHost("h", 1, "zone-b").label == "h:1"


async def test_a_servers_password_never_reaches_what_the_watch_writes_or_says(ctx, caplog, silent_port) -> None:
    """The check fails (MariaDB refuses the password; a silent port times out): neither the
    rows the watch keeps nor its events nor its log hold the password."""
    import logging

    from sqlalchemy import text

    from jumpdeck.core.secrets import Secret
    from jumpdeck.core.servers.registry import ServerSpec

    canary = "watch-canary-Pw-4471"
    registry = ServerRegistry(ctx.store, ctx.secrets)
    for name, port, db_type in (("maria-wrong", 3306, "mysql"), ("silent-pw", silent_port, "postgresql")):
        await registry.create(ctx.actor, ServerSpec(name=name, db_type=db_type, host="127.0.0.1", port=port,
                                                    username="root", password=Secret(canary)))
    caplog.set_level(logging.DEBUG)
    service = watch(ctx, failures=1)
    try:
        events = await rounds(service, 3)
    finally:
        await service.close()
        service.engine.close()
    assert events and all(canary not in repr(e) for e in events)
    written = ctx.store.run_sync(lambda s: [repr(row) for table in ("watch_latest", "watch_incidents", "watch_hosts",
                                                                    "watch_claims", "watch_hours", "watch_days")
                                            for row in s.execute(text(f"SELECT * FROM {table}")).all()])
    assert written and not [row for row in written if canary in row]
    assert canary not in caplog.text
