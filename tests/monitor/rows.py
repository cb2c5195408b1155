"""Insert provisioning rows straight into the store, as the provisioning service would."""

from __future__ import annotations

from typing import Any


async def add_run(ctx, *, service: str, created_by: str, vms: list[tuple[str, str]] = (), occupy_user: str | None = None,
                  status: str = "COMPLETED", resources: dict[str, Any] | None = None, pool_status: str = "assigned") -> int:
    """A run holding the pool VMs `vms` [(vm_name, ip)]; returns the run id."""
    from jumpdeck.core.store.models import ProvisionRunRow, WorkloadVmRow

    def insert(session) -> int:  # noqa: ANN001
        details: dict[str, Any] = {"status": status}
        if resources is not None:
            details["resources"] = resources
        run = ProvisionRunRow(service_name=service, template="standard", status=status, created_by=created_by,
                              details=details)
        session.add(run)
        session.flush()
        for name, ip in vms:
            session.add(WorkloadVmRow(vm_name=name, ip_address=ip, status=pool_status, project_id=run.id,
                                      occupy_user=occupy_user if occupy_user is not None else created_by))
        return run.id

    return await ctx.store.run(insert)


async def add_free_vm(ctx, name: str, ip: str) -> None:
    from jumpdeck.core.store.models import WorkloadVmRow

    await ctx.store.run(lambda s: s.add(WorkloadVmRow(vm_name=name, ip_address=ip)))
