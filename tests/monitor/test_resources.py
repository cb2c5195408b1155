"""Which resources each role sees, and how pool rows merge with a run's details."""

from __future__ import annotations

import pytest

from jumpdeck.core.errors import PermissionDenied
from jumpdeck.core.monitor.resources import list_resources, parse_links, role_of
from tests.monitor.rows import add_free_vm, add_run


async def _fleet(ctx) -> dict[str, int]:
    runs = {}
    runs["mine"] = await add_run(ctx, service="web-portal", created_by="oper",
                                 vms=[("WKLD-01", "127.0.10.1"), ("WKLD-02", "127.0.10.2")],
                                 resources={"alb_ip": "127.0.10.1", "web_url": "http://127.0.10.1/", "db_vip": "127.0.10.2",
                                            "ssh_targets": [{"host": "127.0.10.1", "port": 22, "user": "deploy"},
                                                            {"host": "127.0.10.2", "port": 22, "user": "deploy"}]})
    runs["theirs"] = await add_run(ctx, service="batch-etl", created_by="someone",
                                   vms=[("WKLD-03", "127.0.10.3")])
    # A mock run: no pool rows, its machines only in details.resources.
    runs["mock"] = await add_run(ctx, service="mock-app", created_by="oper",
                                 resources={"ssh_targets": [{"host": "127.0.20.1", "port": 2222, "user": "mock"}]})
    # A failed run's details describe nothing that still exists.
    runs["failed"] = await add_run(ctx, service="broken", created_by="oper", status="FAILED",
                                   resources={"ssh_targets": [{"host": "127.0.30.1"}]})
    # Someone else's run, but a VM of it occupied by oper (occupy_user is the rule).
    runs["lent"] = await add_run(ctx, service="shared", created_by="someone", vms=[("WKLD-04", "127.0.10.4")],
                                 occupy_user="oper")
    await add_free_vm(ctx, "WKLD-09", "127.0.10.9")
    return runs


async def test_admin_sees_every_held_resource(ctx, admin):
    runs = await _fleet(ctx)
    names = {r.vm_name for r in await list_resources(ctx.store, admin)}
    assert names == {"WKLD-01", "WKLD-02", "WKLD-03", "WKLD-04", "127.0.20.1"}
    assert runs  # the free VM and the failed run's host are not resources


async def test_operator_sees_own_runs_and_occupied_vms(ctx, operator):
    runs = await _fleet(ctx)
    found = await list_resources(ctx.store, operator)
    assert {r.vm_name for r in found} == {"WKLD-01", "WKLD-02", "WKLD-04", "127.0.20.1"}
    by_name = {r.vm_name: r for r in found}
    assert by_name["WKLD-01"].run_id == runs["mine"] and by_name["WKLD-01"].role == "alb+web"
    assert by_name["WKLD-02"].role == "db"
    assert by_name["WKLD-04"].service == "shared"
    mock = by_name["127.0.20.1"]
    assert (mock.pool_status, mock.ssh_port, mock.ssh_user, mock.run_id) == (None, 2222, "mock", runs["mock"])
    assert by_name["WKLD-01"].links.web_url == "http://127.0.10.1/"


async def test_viewer_sees_nothing_of_others(ctx, viewer):
    await _fleet(ctx)
    assert await list_resources(ctx.store, viewer) == []


async def test_everyone_is_admin_only(ctx, admin, operator):
    await _fleet(ctx)
    with pytest.raises(PermissionDenied, match="every operator's resources"):
        await list_resources(ctx.store, operator, everyone=True)
    mine = await list_resources(ctx.store, admin, everyone=False)
    assert mine == []  # the admin started no run
    assert len(await list_resources(ctx.store, admin, everyone=True)) == 5


async def test_pending_user_is_refused(ctx, pending):
    with pytest.raises(PermissionDenied, match="waiting for an administrator"):
        await list_resources(ctx.store, pending)


def test_links_tolerate_odd_details():
    assert parse_links(None).ssh_targets == ()
    assert parse_links({"resources": "nope"}).alb_ip == ""
    links = parse_links({"resources": {"ssh_targets": ["127.0.0.5", {"host": "127.0.0.6", "port": "x"}, {"port": 22}]}})
    assert [(t.host, t.port) for t in links.ssh_targets] == [("127.0.0.5", 22), ("127.0.0.6", 22)]
    assert role_of("127.0.0.7", parse_links({"resources": {"web_url": "127.0.0.7:8080"}})) == "web"


async def test_torn_down_run_lists_nothing(ctx, admin):
    # The provisioning service's teardown keeps the run COMPLETED, notes it in details
    # and returns the VMs to the pool.
    await add_run(ctx, service="gone", created_by="admin", pool_status="available",
                  vms=[("WKLD-07", "127.0.10.7")],
                  resources={"ssh_targets": [{"host": "127.0.10.7"}, {"host": "127.0.40.1"}]})

    def mark(session) -> None:  # noqa: ANN001
        from jumpdeck.core.store.models import ProvisionRunRow

        run = session.query(ProvisionRunRow).one()
        run.details = {**run.details, "teardown": {"by": "admin", "released": 1}}

    await ctx.store.run(mark)
    assert await list_resources(ctx.store, admin) == []
