"""Runs outlive the host that started them: a run's worker renews a lease on its row;
another host (a second process under its own UTS namespace, `unshare -u`, so its
hostname really differs) fails a run whose lease expired and frees its VMs."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

from tests.provision.conftest import add_vms, wait_status

RENEW, EXPIRE = 0.3, 2.0

HOST_SCRIPT = r"""
import asyncio, json, sys
from jumpdeck.core.config import load_config
from jumpdeck.core.context import open_context
from jumpdeck.core.provision.service import ProvisionService

async def main(home, url, action, run_id):
    config = load_config(cli={"home": home, "store_url": url or None})
    ctx = await open_context(config, user="admin")
    try:
        svc = ProvisionService(ctx.store, ctx.config, ctx.settings)
        if action == "reap":
            out = await svc.reap_expired(ctx.actor)
        else:
            out = (await svc.cancel(ctx.actor, int(run_id))).status
        print(json.dumps(out))
    finally:
        ctx.close()

asyncio.run(main(*sys.argv[1:5]))
"""


def other_host(name: str, home, url: str | None, action: str, run_id: int = 0) -> subprocess.Popen:  # noqa: ANN001
    """A jumpdeck process on 'another host': its own UTS namespace and hostname."""
    env = dict(os.environ, JUMPDECK_LEASE_RENEW=str(RENEW), JUMPDECK_LEASE_EXPIRE=str(EXPIRE))
    py = [sys.executable, "-c", HOST_SCRIPT, str(home), url or "", action, str(run_id)]
    cmd = ["unshare", "-u", "sh", "-c", f'hostname {name} && exec "$@"', "sh", *py]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result(proc: subprocess.Popen):  # noqa: ANN201
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(params=["sqlite", "postgresql"])
async def site(request, tmp_path):
    """(service, pool, actor, home, store_url) with short leases, on an SQLite file or PostgreSQL."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("playing a second host needs root and unshare")
    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import open_context
    from jumpdeck.core.provision.pool import Pool
    from jumpdeck.core.provision.service import ProvisionService

    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_temp_url")
    home = tmp_path / "home"
    config = dataclasses.replace(load_config(cli={"home": str(home), "store_url": url}, env={}),
                                 lease_renew=RENEW, lease_expire=EXPIRE)
    ctx = await open_context(config, user="admin")
    assert ctx.store.kind == request.param, ctx.store.degraded_reason
    svc = ProvisionService(ctx.store, config, ctx.settings)
    yield svc, Pool(ctx.store), ctx.actor, home, url
    for run in await svc.list(ctx.actor):
        if run.worker_pid and run.status in ("PENDING", "RUNNING"):
            try:
                os.kill(run.worker_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    ctx.close()


async def running_with_lease(svc, actor, name: str, vms: int):  # noqa: ANN001, ANN201
    info = await svc.start(actor, "single", name, runner="mock", target="pool" if vms else "none",
                           options={"step_delay": 3.0})
    for _ in range(200):
        info = await svc.get(actor, info.id)
        if info.status == "RUNNING" and info.lease_pid:
            return info
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {info.id} never took its lease: {info.status}")


async def failed_count(svc, actor, run_id: int) -> int:  # noqa: ANN001
    from sqlalchemy import func, select

    from jumpdeck.core.store.models import ActivityRow

    return await svc.store.run(lambda s: s.scalar(select(func.count()).select_from(ActivityRow).where(
        ActivityRow.action == "PROVISION_FAILED", ActivityRow.target_id == str(run_id))))


async def test_killed_worker_is_failed_by_another_host_within_the_lease(site) -> None:
    svc, pool, actor, home, url = site
    await add_vms(pool, actor, 1)
    info = await running_with_lease(svc, actor, "leased", 1)
    os.kill(info.lease_pid, signal.SIGKILL)
    loop = asyncio.get_running_loop()
    killed = loop.time()
    while loop.time() - killed < EXPIRE + 8:
        if result(other_host("hostb", home, url, "reap")) == [info.id]:
            break
        await asyncio.sleep(0.2)
    done = await svc.get(actor, info.id)
    assert done.status == "FAILED"
    assert "stopped renewing at" in done.error and info.lease_host in done.error
    assert [(v.status, v.run_id) for v in await pool.list(actor)] == [("available", None)]


async def test_two_hosts_racing_for_an_expired_lease_have_one_winner(site) -> None:
    svc, pool, actor, home, url = site
    await add_vms(pool, actor, 1)
    info = await running_with_lease(svc, actor, "raced", 1)
    os.kill(info.lease_pid, signal.SIGKILL)
    await asyncio.sleep(EXPIRE + 0.5)
    procs = [other_host(n, home, url, "reap") for n in ("hostb", "hostc", "hostd")]
    wins = [result(p) for p in procs]
    assert sorted(map(len, wins)) == [0, 0, 1], wins
    assert (await svc.get(actor, info.id)).status == "FAILED"
    assert await failed_count(svc, actor, info.id) == 1


async def test_a_worker_back_after_losing_its_lease_leaves_the_run_alone(site) -> None:
    svc, pool, actor, home, url = site
    info = await running_with_lease(svc, actor, "paused", 0)
    pid = info.lease_pid
    os.kill(pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(EXPIRE + 0.5)
        assert result(other_host("hostb", home, url, "reap")) == [info.id]
        before = await svc.get(actor, info.id)
        events = len(await svc.events(actor, info.id))
    finally:
        os.kill(pid, signal.SIGCONT)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        if open(f"/proc/{pid}/stat").read().split()[2] == "Z":
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the worker went on after losing its lease")
    after = await svc.get(actor, info.id)
    assert (after.status, after.error, after.finished_at) == (before.status, before.error, before.finished_at)
    assert len(await svc.events(actor, info.id)) == events


async def test_cancel_from_another_host(site) -> None:
    svc, pool, actor, home, url = site
    await add_vms(pool, actor, 1)
    info = await running_with_lease(svc, actor, "canceled", 1)
    assert result(other_host("hostb", home, url, "cancel", info.id)) in ("RUNNING", "CANCELED")
    done = await wait_status(svc, actor, info.id, timeout=30)
    assert done.status == "CANCELED"
    assert [(v.status, v.run_id) for v in await pool.list(actor)] == [("available", None)]


async def test_watch_leases_reaps_while_runs_are_live_and_idles_otherwise(site) -> None:
    from jumpdeck.core.provision.lease_watch import watch_leases

    svc, pool, actor, home, url = site
    calls = 0
    real = svc.store.run

    async def counted(fn):  # noqa: ANN001, ANN202
        nonlocal calls
        calls += 1
        return await real(fn)

    wake, stop = asyncio.Event(), asyncio.Event()
    svc.store.run = counted
    task = asyncio.create_task(watch_leases(svc, actor, wake=wake, stop=stop))
    try:
        await asyncio.sleep(1.0)
        assert calls == 1  # one look, then it waits on `wake` without querying
        svc.store.run = real
        info = await running_with_lease(svc, actor, "watched", 0)
        os.kill(info.lease_pid, signal.SIGKILL)
        # The worker's host is this one, but watch_leases judges by the lease alone.
        wake.set()
        done = await wait_status(svc, actor, info.id, timeout=EXPIRE + 10)
        assert done.status == "FAILED" and "stopped renewing" in done.error
    finally:
        svc.store.run = real
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_the_open_app_fails_a_dead_workers_run_on_its_own(tmp_path) -> None:
    """With jumpdeck open (no Provision screen, no key pressed), a run whose worker was
    killed is failed within the lease and its VMs freed: the app's lease watch, woken by
    the change feed when the run started."""
    import asyncio
    import os
    import signal

    from jumpdeck.core.config import load_config
    from jumpdeck.core.provision.pool import Pool
    from jumpdeck.core.provision.service import ProvisionService
    from jumpdeck.tui.app import JumpdeckApp
    from tests.tui.conftest import booted, prepare_store

    config = load_config(cli={"home": str(tmp_path / "home")},
                         env={"JUMPDECK_LEASE_RENEW": str(RENEW), "JUMPDECK_LEASE_EXPIRE": str(EXPIRE),
                              "JUMPDECK_CONFIG": os.devnull})
    await prepare_store(config)
    app = JumpdeckApp(config, user="admin")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        ctx = app.ctx
        svc = ProvisionService(ctx.store, config, ctx.settings)
        await Pool(ctx.store, ctx.secrets).add(ctx.actor, "vm-app-1", "127.0.0.1")
        info = await svc.start(ctx.actor, "single", "leased-app", runner="mock", target="pool",
                               options={"step_delay": 3.0})
        for _ in range(400):
            info = await svc.get(ctx.actor, info.id)
            if info.status == "RUNNING" and info.lease_pid:
                break
            await pilot.pause(0.05)
        os.kill(info.worker_pid, signal.SIGKILL)
        for _ in range(int((EXPIRE * 10 + 20) / 0.1)):
            info = await svc.get(ctx.actor, info.id)
            if info.status == "FAILED":
                break
            await pilot.pause(0.1)
        assert info.status == "FAILED", info
        assert [v.status for v in await Pool(ctx.store, ctx.secrets).list(ctx.actor)] == ["available"]
