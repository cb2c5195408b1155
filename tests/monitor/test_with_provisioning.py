"""The monitor over runs made by the real provisioning service (mock runner, real
worker process, real store), not rows written by hand."""

from __future__ import annotations

from jumpdeck.core.monitor.resources import list_resources
from jumpdeck.core.monitor.service import Level, MonitorService
from tests.provision.conftest import add_vms, prov, wait_status  # noqa: F401  (prov is a fixture)


async def test_a_completed_run_is_watched_until_torn_down(ctx, prov, prom):  # noqa: F811
    svc, pool, _ = prov
    await add_vms(pool, ctx.actor, 2, prefix="mon")
    info = await svc.start(ctx.actor, "single", "watched-app", runner="mock", target="pool",
                           options={"step_delay": 0.05})
    done = await wait_status(svc, ctx.actor, info.id)
    assert done.status == "COMPLETED"

    found = await list_resources(ctx.store, ctx.actor)
    assert found and all(r.run_id == info.id and r.service == "watched-app" for r in found)
    assert {r.pool_status for r in found} == {"assigned"}
    assert found[0].links.ssh_targets  # the run's details.resources came along

    await ctx.settings.set(ctx.actor, {"prometheus_url": prom.url, "prometheus_instance": "{ip}:" + str(prom.exporter_port)})
    service = MonitorService(ctx)
    try:
        snap = await service.snapshot(history=True)
    finally:
        await service.aclose()
    assert snap.problem is None
    assert all(row.state is not Level.NO_DATA and row.mem.value is not None for row in snap.rows)

    await svc.teardown(ctx.actor, info.id)
    assert await list_resources(ctx.store, ctx.actor) == []
