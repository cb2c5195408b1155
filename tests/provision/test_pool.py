"""The VM pool: management, permissions, audit and the allocation race on SQLite and
the real PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from jumpdeck.core.errors import Conflict, PermissionDenied, ValidationError
from jumpdeck.core.identity import Actor, Role
from jumpdeck.core.provision import pool as pool_mod
from jumpdeck.core.provision.pool import Pool


async def test_add_list_remove_and_audit(ctx) -> None:
    pool = Pool(ctx.store)
    await pool.add(ctx.actor, "wkld-01", "127.0.10.1", ssh_user="deploy", ssh_port=2201)
    vms = await pool.list(ctx.actor)
    assert [(v.name, v.ip, v.ssh_user, v.ssh_port, v.status) for v in vms] == [("wkld-01", "127.0.10.1", "deploy", 2201, "available")]
    with pytest.raises(Conflict):
        await pool.add(ctx.actor, "wkld-01", "127.0.10.2")
    with pytest.raises(ValidationError):
        await pool.add(ctx.actor, "wkld-02", "not-an-ip")
    await pool.remove(ctx.actor, "wkld-01")
    assert await pool.list(ctx.actor) == []
    page = await ctx.activity.page(ctx.actor)
    assert {e.action for e in page.entries} >= {"POOL_ADD", "POOL_REMOVE"}


async def test_only_admins_change_the_pool(ctx, operator) -> None:
    pool = Pool(ctx.store)
    with pytest.raises(PermissionDenied):
        await pool.add(operator, "wkld-01", "127.0.10.1")
    assert await pool.list(operator) == []


def _race(store, runs: int, vms: int, per_run: int) -> tuple[list[list[int]], list[str]]:
    """`runs` threads each create a run and claim `per_run` VMs at the same instant."""
    from jumpdeck.core.store.models import ProvisionRunRow, WorkloadVmRow

    actor = Actor("racer", Role.OPERATOR)

    def seed(session):  # noqa: ANN001, ANN202
        for i in range(vms):
            session.add(WorkloadVmRow(vm_name=f"race-{i:02d}", ip_address=f"127.0.20.{i + 1}"))

    store.run_sync(seed)
    barrier = threading.Barrier(runs)
    won: list[list[int]] = []
    refused: list[str] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        def go(session):  # noqa: ANN001, ANN202
            run = ProvisionRunRow(service_name=f"race-{n}", template="single", details={})
            session.add(run)
            session.flush()
            return [vm.id for vm in pool_mod.allocate_in(session, actor, run.id, per_run)]

        barrier.wait()
        try:
            ids = store.run_sync(go)
            with lock:
                won.append(ids)
        except Conflict as exc:
            with lock:
                refused.append(str(exc))

    threads = [threading.Thread(target=one, args=(n,)) for n in range(runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return won, refused


def _check_race(store, won, refused, vms: int, per_run: int) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from jumpdeck.core.store.models import WorkloadVmRow

    taken = [vm for ids in won for vm in ids]
    assert len(taken) == len(set(taken)), "a VM was allocated twice"
    assert len(won) == vms // per_run
    assert all(len(ids) == per_run for ids in won)
    assert len(won) + len(refused) == 20
    assert all("available" in msg for msg in refused)
    rows = store.run_sync(lambda s: [(r.status, r.project_id) for r in s.scalars(select(WorkloadVmRow))])
    assert sum(1 for status, _ in rows if status == "provisioning") == len(taken)


@pytest.mark.parametrize("per_run", [1, 3])
async def test_allocation_race_sqlite(config, per_run) -> None:
    from jumpdeck.core.store.engine import open_store

    store = open_store(sqlite_path=config.store_path, store_url=None)
    try:
        won, refused = _race(store, 20, 10, per_run)
        _check_race(store, won, refused, 10, per_run)
    finally:
        store.close()


@pytest.mark.services
@pytest.mark.parametrize("per_run", [1, 3])
async def test_allocation_race_postgresql(config, pg_temp_url, per_run) -> None:
    from jumpdeck.core.store.engine import open_store

    store = open_store(sqlite_path=config.store_path, store_url=pg_temp_url)
    assert store.kind == "postgresql", store.degraded_reason
    # Enough connections for every racer to be inside its transaction at once.
    from sqlalchemy import create_engine

    from jumpdeck.core.store.engine import Store

    store.close()
    store = Store(create_engine(pg_temp_url, pool_size=20, max_overflow=5), store.url_display, store.kind)
    try:
        won, refused = _race(store, 20, 10, per_run)
        _check_race(store, won, refused, 10, per_run)
    finally:
        store.close()
