"""Which provisioned resources an actor may see.

As the seed's `/api/monitoring/my-resources` does, a resource list is the pool VMs a run
holds (`workload_pool` rows in `provisioning` or `assigned`) merged with the run's
`details.resources` (alb_ip, web_url, db_vip, ssh_targets): the run's links and each VM's
role come from there, and an ssh target that is not a pool VM (a mock run's hosts) is
listed as a machine of its own. ALB and DB addresses are roles and links, not rows: a
virtual IP runs no node_exporter, so a row for it would read "no data" forever.

Scope is decided here, not in a face: admins may see every resource; anyone else sees
the VMs they occupy and the resources of runs they started.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from jumpdeck.core.identity import Actor, Operation, can, require

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from jumpdeck.core.store.engine import Store

# Pool statuses that mean "a run holds this VM".
HELD_POOL_STATUSES = ("provisioning", "assigned")
# A run whose details alone (no pool rows) still describe live machines.
LIVE_RUN_STATUSES = ("COMPLETED",)


@dataclass(frozen=True)
class SshTarget:
    host: str
    port: int = 22
    user: str = ""


@dataclass(frozen=True)
class RunLinks:
    """The run's `details.resources`, shown in the detail panel."""

    alb_ip: str = ""
    web_url: str = ""
    db_vip: str = ""
    ssh_targets: tuple[SshTarget, ...] = ()


@dataclass(frozen=True)
class Resource:
    """One machine an operator can watch."""

    vm_name: str
    ip: str
    run_id: int | None
    service: str  # the run's service name ("" without a run)
    role: str  # "alb+web", "db", "vm"... from the run's details
    owner: str  # who occupies it / started the run
    run_status: str
    pool_status: str | None  # None when only the run's details name it
    ssh_user: str
    ssh_port: int
    links: RunLinks

    @property
    def key(self) -> str:
        """Stable identity of the row across refreshes (table row key)."""
        return f"{self.run_id or 0}/{self.vm_name}/{self.ip}"

    @property
    def run_label(self) -> str:
        return f"#{self.run_id} {self.service}" if self.run_id is not None else "-"


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def parse_links(details: Any) -> RunLinks:
    """Read `details.resources` defensively: the JSON was written by another service."""
    resources = details.get("resources") if isinstance(details, dict) else None
    if not isinstance(resources, dict):
        return RunLinks()
    targets = []
    for raw in resources.get("ssh_targets") or ():
        if isinstance(raw, dict) and _text(raw.get("host")):
            try:
                port = int(raw.get("port") or 22)
            except (TypeError, ValueError):
                port = 22
            targets.append(SshTarget(_text(raw.get("host")), port, _text(raw.get("user"))))
        elif isinstance(raw, str) and raw.strip():
            targets.append(SshTarget(raw.strip()))
    return RunLinks(_text(resources.get("alb_ip")), _text(resources.get("web_url")), _text(resources.get("db_vip")),
                    tuple(targets))


def role_of(ip: str, links: RunLinks) -> str:
    roles = []
    if ip and ip == links.alb_ip:
        roles.append("alb")
    if ip and links.web_url and urlsplit(links.web_url if "//" in links.web_url else f"//{links.web_url}").hostname == ip:
        roles.append("web")
    if ip and ip == links.db_vip:
        roles.append("db")
    return "+".join(roles) or "vm"


def _load(session: Session, user: str | None) -> list[Resource]:
    from sqlalchemy import or_, select

    from jumpdeck.core.store.models import ProvisionRunRow as Run
    from jumpdeck.core.store.models import WorkloadVmRow as Vm

    # Plain column rows, not ORM objects: a 1,000-VM refresh reads the store every 15 s.
    vm_columns = (Vm.vm_name, Vm.ip_address, Vm.status, Vm.project_id, Vm.occupy_user, Vm.ssh_user, Vm.ssh_port)
    run_columns = (Run.id, Run.service_name, Run.status, Run.created_by, Run.details)
    pool_query = select(*vm_columns).where(Vm.status.in_(HELD_POOL_STATUSES))
    run_query = select(*run_columns).where(Run.status.in_(LIVE_RUN_STATUSES))
    if user is not None:
        own_runs = select(Run.id).where(Run.created_by == user)
        pool_query = pool_query.where(or_(Vm.occupy_user == user, Vm.project_id.in_(own_runs)))
        run_query = run_query.where(Run.created_by == user)
    vms = session.execute(pool_query).all()
    runs = {run.id: run for run in session.execute(run_query).all()}
    # Runs holding visible VMs are shown with them even when someone else started them.
    missing = {vm.project_id for vm in vms if vm.project_id is not None} - runs.keys()
    if missing:
        runs.update({run.id: run for run in session.execute(select(*run_columns).where(Run.id.in_(missing)))})
    links = {run_id: parse_links(run.details) for run_id, run in runs.items()}

    found: list[Resource] = []
    seen: set[tuple[int | None, str]] = set()
    for vm in vms:
        run = runs.get(vm.project_id) if vm.project_id is not None else None
        run_links = links[run.id] if run is not None else RunLinks()
        found.append(Resource(
            vm_name=vm.vm_name, ip=vm.ip_address, run_id=run.id if run else None, service=run.service_name if run else "",
            role=role_of(vm.ip_address, run_links), owner=vm.occupy_user or (run.created_by if run else ""),
            run_status=run.status if run else "", pool_status=vm.status, ssh_user=vm.ssh_user, ssh_port=vm.ssh_port,
            links=run_links,
        ))
        seen.add((run.id if run else None, vm.ip_address))
    for run_id, run in runs.items():
        # A torn-down run stays COMPLETED (its history), but its machines are gone.
        if run.status not in LIVE_RUN_STATUSES or (isinstance(run.details, dict) and run.details.get("teardown")):
            continue
        for target in links[run_id].ssh_targets:
            if (run_id, target.host) in seen:
                continue
            seen.add((run_id, target.host))
            found.append(Resource(
                vm_name=target.host, ip=target.host, run_id=run_id, service=run.service_name,
                role=role_of(target.host, links[run_id]), owner=run.created_by, run_status=run.status, pool_status=None,
                ssh_user=target.user, ssh_port=target.port, links=links[run_id],
            ))
    found.sort(key=lambda r: (r.run_id or 0, r.vm_name))
    return found


async def list_resources(store: Store, actor: Actor, *, everyone: bool | None = None) -> list[Resource]:
    """The resources `actor` may watch.

    `everyone=None` follows the seed (admins see all, others their own); `True` asks for
    every operator's resources and is refused to non-admins; `False` is "mine" for anyone."""
    require(actor, Operation.VIEW)
    if everyone:
        require(actor, Operation.VIEW_ALL_RESOURCES)
    elif everyone is None:
        everyone = can(actor, Operation.VIEW_ALL_RESOURCES)
    user = None if everyone else actor.user
    return await store.run(lambda session: _load(session, user))
