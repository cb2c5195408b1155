"""Durable runs with the mock runner: real worker processes, the real store."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from jumpdeck.core.errors import Conflict, PermissionDenied, ValidationError
from jumpdeck.core.provision.process import worker_alive
from tests.provision.conftest import add_vms, wait_status


async def test_mock_run_completes_with_seed_details(ctx, prov) -> None:
    svc, pool, _ = prov
    await add_vms(pool, ctx.actor, 3)
    info = await svc.start(ctx.actor, "standard", "web-portal", packages=["nginx", "redis"], runner="mock",
                           target="pool", options={"step_delay": 0.05})
    assert info.status in ("PENDING", "RUNNING") and info.worker_pid
    events = [e async for batch in svc.follow(ctx.actor, info.id) for e in batch]
    done = await svc.get(ctx.actor, info.id)
    assert done.status == "COMPLETED" and done.details["status"] == "COMPLETED"
    assert [e.step for e in events if e.kind == "step"] == list(range(1, 8))
    assert [e.result for e in events if e.kind == "status"] == ["RUNNING", "COMPLETED"]
    assert set(done.resources) == {"alb_ip", "web_url", "db_vip", "ssh_targets"}
    assert done.details["input"]["config"]["packages"] == ["nginx", "redis"]
    assert done.progress["step"] == 7 and len(done.progress["done"]) == 7
    assert {v.status for v in await pool.list(ctx.actor)} == {"assigned"}
    # Tearing down returns the VMs; the name is free again only after that.
    with pytest.raises(Conflict):
        await svc.start(ctx.actor, "single", "web-portal", runner="mock")
    await svc.teardown(ctx.actor, info.id)
    assert {v.status for v in await pool.list(ctx.actor)} == {"available"}


async def test_failed_mock_run_releases_vms(ctx, prov) -> None:
    svc, pool, _ = prov
    await add_vms(pool, ctx.actor, 1)
    info = await svc.start(ctx.actor, "single", "batch-etl", runner="mock", target="pool",
                           options={"step_delay": 0.05, "fail_step": 3})
    done = await wait_status(svc, ctx.actor, info.id)
    assert done.status == "FAILED"
    assert "injected failure" in done.error
    assert [(v.status, v.run_id) for v in await pool.list(ctx.actor)] == [("available", None)]


async def test_cancel_ends_canceled_and_releases(ctx, prov) -> None:
    svc, pool, _ = prov
    await add_vms(pool, ctx.actor, 1)
    info = await svc.start(ctx.actor, "single", "slow-one", runner="mock", target="pool", options={"step_delay": 30})
    await asyncio.sleep(1.0)
    done = await svc.cancel(ctx.actor, info.id, wait=20)
    assert done.status == "CANCELED"
    assert [v.status for v in await pool.list(ctx.actor)] == ["available"]
    with pytest.raises(Conflict):
        await svc.cancel(ctx.actor, info.id)


async def test_timeout_ends_the_run(ctx, prov) -> None:
    svc, _, _ = prov
    info = await svc.start(ctx.actor, "single", "hung-one", runner="mock", options={"step_delay": 60, "timeout": 1})
    done = await wait_status(svc, ctx.actor, info.id, timeout=30)
    assert done.status == "FAILED" and "timed out" in done.error


async def test_interrupted_run_is_failed_and_vms_released(ctx, prov) -> None:
    svc, pool, _ = prov
    await add_vms(pool, ctx.actor, 1)
    info = await svc.start(ctx.actor, "single", "orphan", runner="mock", target="pool", options={"step_delay": 60})
    for _ in range(300):  # until the worker has really started the run
        if (await svc.get(ctx.actor, info.id)).status == "RUNNING":
            break
        await asyncio.sleep(0.1)
    os.kill(info.worker_pid, signal.SIGKILL)
    for _ in range(50):
        if not worker_alive(info.worker_pid, info.id):
            break
        await asyncio.sleep(0.1)
    assert await svc.recover_interrupted(ctx.actor) == [info.id]
    done = await svc.get(ctx.actor, info.id)
    assert done.status == "FAILED" and "interrupted" in done.error
    assert [v.status for v in await pool.list(ctx.actor)] == ["available"]


async def test_maintenance_mode_blocks_non_admins(ctx, prov, operator) -> None:
    svc, _, _ = prov
    await ctx.settings.set(ctx.actor, {"maintenance_mode": True})
    with pytest.raises(PermissionDenied, match="maintenance"):
        await svc.start(operator, "single", "blocked", runner="mock")
    info = await svc.start(ctx.actor, "single", "admin-may", runner="mock", options={"step_delay": 0.01})
    assert (await wait_status(svc, ctx.actor, info.id)).status == "COMPLETED"


async def test_viewers_cannot_provision_and_names_are_checked(ctx, prov, viewer) -> None:
    svc, _, _ = prov
    with pytest.raises(PermissionDenied):
        await svc.start(viewer, "single", "nope", runner="mock")
    with pytest.raises(ValidationError):
        await svc.start(ctx.actor, "single", "Not_DNS", runner="mock")
    with pytest.raises(ValidationError):
        await svc.start(ctx.actor, "galaxy", "fine", runner="mock")


async def test_not_enough_vms_is_refused_before_anything_starts(ctx, prov) -> None:
    svc, pool, _ = prov
    await add_vms(pool, ctx.actor, 2)
    with pytest.raises(Conflict, match="needs 3 VM"):
        await svc.start(ctx.actor, "standard", "too-big", runner="mock", target="pool")
    assert await svc.list(ctx.actor) == []
    assert {v.status for v in await pool.list(ctx.actor)} == {"available"}


async def test_twenty_concurrent_starts_on_a_pool_of_ten(ctx, prov) -> None:
    svc, pool, _ = prov
    await add_vms(pool, ctx.actor, 10)
    results = await asyncio.gather(*[
        svc.start(ctx.actor, "single", f"race-{n}", runner="mock", target="pool", options={"step_delay": 0.01})
        for n in range(20)], return_exceptions=True)
    started = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(started) == 10 and len(refused) == 10
    ips = [vm for r in started for vm in r.details["infra"]["hosts"]]
    assert len({h["vm_name"] for h in ips}) == 10
    for r in started:
        assert (await wait_status(svc, ctx.actor, r.id)).status == "COMPLETED"
    assert {v.status for v in await pool.list(ctx.actor)} == {"assigned"}


async def _limit_race(ctx, svc) -> None:  # noqa: ANN001
    """Ten starts at once with room for two: two start, eight are refused with the limit's
    sentence, none fails otherwise (the count and the insert are one step)."""
    await ctx.settings.set(ctx.actor, {"max_concurrent_runs": 2})
    results = await asyncio.gather(*[
        svc.start(ctx.actor, "single", f"limit-{n}", runner="mock", target="none", options={"step_delay": 1})
        for n in range(10)], return_exceptions=True)
    started = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(started) == 2 and len(refused) == 8, results
    assert all("the limit is 2" in str(r) for r in refused)
    for run in started:
        await svc.cancel(ctx.actor, run.id, wait=15)


async def test_the_run_limit_holds_for_starts_at_once(ctx, prov) -> None:
    svc, _pool, _ = prov
    await _limit_race(ctx, svc)


async def test_the_run_limit_holds_for_starts_at_once_postgresql(tmp_path, pg_temp_url) -> None:
    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import open_context
    from jumpdeck.core.provision.service import ProvisionService

    config = load_config(cli={"home": str(tmp_path / "pg-home"), "store_url": pg_temp_url})
    ctx = await open_context(config, user="admin")
    try:
        assert ctx.store.kind == "postgresql", ctx.store.degraded_reason
        await _limit_race(ctx, ProvisionService(ctx.store, ctx.config, ctx.settings))
    finally:
        ctx.close()
