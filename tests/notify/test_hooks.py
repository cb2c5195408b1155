"""The events that exist today reach the receiver: a provisioning run that ends FAILED
(sent by its real worker process), a failed backup, a failed integrity check, degraded
health."""

from __future__ import annotations

import asyncio

import pytest

from jumpdeck.core.notify.config import NotifyConfigService
from tests.maintenance.conftest import fill
from tests.notify.conftest import TOKEN


@pytest.fixture
async def targeted(ctx, receiver):
    await NotifyConfigService(ctx.store, ctx.secrets).add_target(ctx.actor, receiver.url)
    return receiver


@pytest.fixture
def live(config):
    from jumpdeck.core.production import schema

    path = schema.live_db_path(config)
    fill(path, {2025: 30, 2026: 20})
    return path


async def until(predicate, limit: float = 120.0) -> None:
    """Wait for another process's work; the limit only stops a broken build from hanging."""
    for _ in range(int(limit / 0.1)):
        if predicate():
            return
        await asyncio.sleep(0.1)


async def test_a_failed_run_is_notified_by_its_worker(ctx, targeted):
    from jumpdeck.core.provision.service import ProvisionService
    from tests.provision.test_service_mock import wait_status

    svc = ProvisionService(ctx.store, ctx.config, ctx.settings, ctx.secrets)
    info = await svc.start(ctx.actor, "single", "etl-fails", runner="mock", options={"step_delay": 0.01, "fail_step": 2})
    done = await wait_status(svc, ctx.actor, info.id)
    assert done.status == "FAILED"
    await until(lambda: targeted.messages)
    assert targeted.titles() == [f"Provisioning run {info.id} (etl-fails) FAILED"]
    assert "injected failure" in targeted.messages[0]["message"]


async def test_a_failed_backup_is_notified(ctx, targeted, live):
    from jumpdeck.core.maintenance import backup

    for side in (live.with_name(live.name + "-wal"), live.with_name(live.name + "-shm")):
        side.unlink(missing_ok=True)
    live.write_bytes(b"this is not sqlite" * 1000)
    events = await backup.backup_all(ctx, {"live"})
    assert any(isinstance(e, backup.BackupError) for e in events)
    assert targeted.titles() == [f"Backup of live ({live.name}) failed"]


async def test_a_failed_integrity_check_is_notified_and_a_good_one_is_not(ctx, targeted, live):
    from jumpdeck.core.maintenance.checks import integrity

    [e async for e in integrity(ctx)]
    assert targeted.messages == []
    for side in (live.with_name(live.name + "-wal"), live.with_name(live.name + "-shm")):
        side.unlink(missing_ok=True)
    data = bytearray(live.read_bytes())
    data[4096 + 100: 4096 + 400] = b"\xff" * 300  # damage the second page, keep the header
    live.write_bytes(bytes(data))
    [e async for e in integrity(ctx)]
    assert targeted.titles() == ["Integrity check FAILED"]


async def test_degraded_health_is_notified_once(ctx, targeted):
    from jumpdeck.core.maintenance.health import check_health
    from jumpdeck.core.notify.events import EventKind

    # Health also reminds of the rollover in December; that rule depends on today's date.
    await NotifyConfigService(ctx.store, ctx.secrets).set_rule(ctx.actor, EventKind.ROLLOVER_NEEDED, enabled=False)

    first = await check_health(ctx)
    again = await check_health(ctx)
    assert first.status == again.status == "degraded"
    assert targeted.titles() == ["jumpdeck health is degraded"]  # the second look is within the quiet period
    assert "live DB" in targeted.messages[0]["message"]
    assert TOKEN not in str(first.as_dict())


async def test_a_run_failed_by_the_host_that_reaped_its_lease_is_notified(tmp_path, receiver):
    import dataclasses
    import os
    import signal

    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import open_context
    from jumpdeck.core.provision.service import ProvisionService
    from tests.provision.test_leases import running_with_lease

    config = dataclasses.replace(load_config(cli={"home": str(tmp_path / "home")}, env={}), lease_renew=0.3, lease_expire=2.0)
    ctx = await open_context(config, user="admin")
    try:
        await NotifyConfigService(ctx.store, ctx.secrets).add_target(ctx.actor, receiver.url)
        svc = ProvisionService(ctx.store, config, ctx.settings, ctx.secrets)
        info = await running_with_lease(svc, ctx.actor, "reaped", 0)
        os.kill(info.lease_pid, signal.SIGKILL)  # the worker dies without a word
        reaped: list[int] = []
        for _ in range(600):  # until the lease has expired on the store's clock
            reaped = await svc.reap_expired(ctx.actor)
            if reaped:
                break
            await asyncio.sleep(0.1)
        assert reaped == [info.id]
        assert receiver.titles() == [f"Provisioning run {info.id} (reaped) FAILED"]
        assert "stopped renewing" in receiver.messages[0]["message"]
    finally:
        ctx.close()
