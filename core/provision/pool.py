"""The workload VM pool (seed 002 `workload_test_pool`, seed 004 `WorkloadPool`).

A run takes the VMs it needs atomically. The seed read `status="available"` rows and
then updated them, so two requests could take the same VM; here each VM is claimed
with a conditional UPDATE (`... WHERE id = ? AND status = 'available'`) whose row
count says whether this transaction won it. That works the same on SQLite (writers
are serialised) and PostgreSQL (the second writer re-checks the WHERE after the
first commits), so no VM is ever held by two runs. A run that cannot get all the VMs
it needs rolls back before anything starts and says how many are free.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from jumpdeck.core import activity
from jumpdeck.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from jumpdeck.core.identity import Actor, Operation, require
from jumpdeck.core.secrets import Secret

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from jumpdeck.core.secrets import SecretBox
    from jumpdeck.core.store.engine import Store

AVAILABLE, PROVISIONING, ASSIGNED = "available", "provisioning", "assigned"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class PoolVm:
    id: int
    name: str
    ip: str
    ssh_user: str
    ssh_port: int
    status: str
    run_id: int | None
    occupy_user: str | None
    updated_at: datetime


def _to_vm(row) -> PoolVm:  # noqa: ANN001
    return PoolVm(row.id, row.vm_name, row.ip_address, row.ssh_user, row.ssh_port, row.status,
                  row.project_id, row.occupy_user, row.updated_at)


def validate_vm(name: str, ip: str, ssh_user: str, ssh_port: int) -> tuple[str, str, str, int]:
    name = name.strip()
    if not _NAME.match(name):
        raise ValidationError(f"'{name}' is not a valid VM name.", field="name",
                              remedy="Use letters, digits, '.', '_' or '-' (up to 100), starting with a letter or digit.")
    try:
        ip = str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        raise ValidationError(f"'{ip}' is not an IP address.", field="ip", remedy="Write it like 10.0.40.21.") from None
    ssh_user = ssh_user.strip()
    if not re.match(r"^[a-z_][a-z0-9_.-]{0,31}$", ssh_user):
        raise ValidationError(f"'{ssh_user}' is not a valid SSH user name.", field="ssh_user")
    if not 1 <= int(ssh_port) <= 65535:
        raise ValidationError(f"SSH port {ssh_port} is outside 1-65535.", field="ssh_port")
    return name, ip, ssh_user, int(ssh_port)


@dataclass(frozen=True)
class StoredLogin:
    """A pool VM's SSH login as the store holds it; `password` only for those allowed."""

    vm_name: str
    ip: str
    ssh_user: str
    ssh_port: int
    password: Secret | None


class Pool:
    def __init__(self, store: Store, secrets: SecretBox | None = None) -> None:
        self.store = store
        self.secrets = secrets  # needed only to store or hand out SSH passwords

    def _box(self) -> SecretBox:
        if self.secrets is None:
            raise ValueError("Pool needs the SecretBox to handle SSH passwords")  # a programming error
        return self.secrets

    async def list(self, actor: Actor) -> list[PoolVm]:
        require(actor, Operation.VIEW)
        from sqlalchemy import select

        from jumpdeck.core.store.models import WorkloadVmRow

        return await self.store.run(lambda s: [_to_vm(r) for r in s.scalars(select(WorkloadVmRow).order_by(WorkloadVmRow.vm_name))])

    async def add(self, actor: Actor, name: str, ip: str, *, ssh_user: str = "root", ssh_port: int = 22,
                  ssh_password: Secret | None = None) -> PoolVm:
        require(actor, Operation.MANAGE_POOL)
        name, ip, ssh_user, ssh_port = validate_vm(name, ip, ssh_user, ssh_port)
        token = self._box().encrypt(ssh_password) if ssh_password else None
        from sqlalchemy import select

        from jumpdeck.core.store.models import WorkloadVmRow

        from jumpdeck.core.store.locks import write_lock

        def go(session: Session) -> PoolVm:
            write_lock(session, "pool.add")  # the name is checked, then written
            if session.scalar(select(WorkloadVmRow.id).where(WorkloadVmRow.vm_name == name)) is not None:
                raise Conflict(f"A VM named '{name}' is already in the pool.", remedy="Pick another name or remove the old one first.")
            row = WorkloadVmRow(vm_name=name, ip_address=ip, ssh_user=ssh_user, ssh_port=ssh_port, status=AVAILABLE,
                                ssh_password_enc=token)
            session.add(row)
            session.flush()
            activity.record(session, actor, "POOL_ADD", "VM", name,
                            f"{ssh_user}@{ip}:{ssh_port}" + (", SSH password stored" if token else ""))
            return _to_vm(row)

        return await self.store.run(go)

    async def set_password(self, actor: Actor, name: str, password: Secret | None) -> None:
        """Store (encrypted) or clear a VM's SSH password. The audit row says which, never the value."""
        require(actor, Operation.MANAGE_POOL)
        token = self._box().encrypt(password) if password else None
        from sqlalchemy import select

        from jumpdeck.core.store.models import WorkloadVmRow

        def go(session: Session) -> None:
            row = session.scalar(select(WorkloadVmRow).where(WorkloadVmRow.vm_name == name))
            if row is None:
                raise NotFound(f"There is no VM named '{name}' in the pool.", remedy="See the names with: jumpdeck pool ls")
            row.ssh_password_enc = token
            activity.record(session, actor, "POOL_PASSWORD", "VM", name, "stored" if token else "cleared")

        await self.store.run(go)

    async def ssh_login(self, actor: Actor, host: str, port: int | None = None) -> StoredLogin | None:
        """The pool VM at `host` (its IP) with its stored password, or None if no VM has that IP.

        The password is handed out only to an admin or to the operator whose run holds the
        VM (its `occupy_user`); anyone else gets `PermissionDenied`. Each hand-out is audited.
        """
        require(actor, Operation.VIEW)
        from sqlalchemy import select

        from jumpdeck.core.store.models import WorkloadVmRow

        def go(session: Session) -> StoredLogin | None:
            query = select(WorkloadVmRow).where(WorkloadVmRow.ip_address == host.strip("[]"))
            rows = list(session.scalars(query.order_by(WorkloadVmRow.id)))
            if port is not None:
                rows = [r for r in rows if r.ssh_port == port] or rows
            if not rows:
                return None
            row = rows[0]
            password = None
            if row.ssh_password_enc:
                if not (actor.is_admin or (row.occupy_user and row.occupy_user == actor.user)):
                    raise PermissionDenied(
                        f"The stored SSH password of VM {row.vm_name} is for admins and for the operator whose run "
                        f"holds it; you are signed in as {actor.user}.",
                        remedy="Use your own key or ssh-agent, or ask an admin.")
                password = self._box().decrypt(row.ssh_password_enc)
            return StoredLogin(row.vm_name, row.ip_address, row.ssh_user, row.ssh_port, password)

        login = await self.store.run(go)
        if login is not None and login.password is not None:
            # Audited apart from the read: while the shared store is away (read-only on its
            # snapshot) the SSH session still opens and its row lands when the store is back.
            await activity.ActivityService(self.store).record(actor, "POOL_PASSWORD_USE", "VM", login.vm_name,
                                                              f"SSH to {login.ip}")
        return login

    async def remove(self, actor: Actor, name: str) -> None:
        require(actor, Operation.MANAGE_POOL)
        from sqlalchemy import delete, select

        from jumpdeck.core.store.models import WorkloadVmRow

        def go(session: Session) -> None:
            row = session.scalar(select(WorkloadVmRow).where(WorkloadVmRow.vm_name == name))
            if row is None:
                raise NotFound(f"There is no VM named '{name}' in the pool.", remedy="See the names with: jumpdeck pool ls")
            if row.status != AVAILABLE:
                raise Conflict(f"VM '{name}' is {row.status} by run {row.project_id}; it cannot be removed now.",
                               remedy="Tear the run down or cancel it first.")
            # Only while still available: a run starting meanwhile claims VMs with a
            # conditional update (allocate_in), so whichever commits first wins.
            gone = session.execute(delete(WorkloadVmRow).where(WorkloadVmRow.id == row.id,
                                                              WorkloadVmRow.status == AVAILABLE)
                                   .execution_options(synchronize_session=False)).rowcount
            if not gone:
                raise Conflict(f"VM '{name}' was just taken by a run starting; it cannot be removed now.",
                               remedy="Tear that run down or cancel it first.")
            session.expunge(row)
            activity.record(session, actor, "POOL_REMOVE", "VM", name, row.ip_address)

        await self.store.run(go)


def allocate_in(session: Session, actor: Actor, run_id: int, count: int) -> list[PoolVm]:
    """Claim `count` free VMs for `run_id` inside the caller's transaction, or raise
    Conflict (the caller's transaction then rolls back, so nothing is half-taken)."""
    from sqlalchemy import func, select, update

    from jumpdeck.core.store.models import WorkloadVmRow

    if count <= 0:
        return []
    claimed: list[int] = []
    # Candidates are read without a lock; the conditional UPDATE is what decides. A
    # candidate lost to a concurrent run is skipped and the next one tried.
    candidates = session.scalars(
        select(WorkloadVmRow.id).where(WorkloadVmRow.status == AVAILABLE).order_by(WorkloadVmRow.id)
    ).all()
    for vm_id in candidates:
        result = session.execute(
            update(WorkloadVmRow)
            .where(WorkloadVmRow.id == vm_id, WorkloadVmRow.status == AVAILABLE)
            .values(status=PROVISIONING, project_id=run_id, occupy_user=actor.user)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(vm_id)
            if len(claimed) == count:
                break
    if len(claimed) < count:
        free = session.scalar(select(func.count()).select_from(WorkloadVmRow)
                              .where(WorkloadVmRow.status == AVAILABLE))
        raise Conflict(
            f"This run needs {count} VM(s) but the pool has only {len(claimed) + (free or 0)} available.",
            remedy="Add VMs with `jumpdeck pool add`, or tear down a finished run to free its VMs.",
        )
    rows = session.scalars(select(WorkloadVmRow).where(WorkloadVmRow.id.in_(claimed)).order_by(WorkloadVmRow.id)).all()
    activity.record(session, actor, "POOL_ALLOCATE", "RUN", run_id, ", ".join(f"{r.vm_name}={r.ip_address}" for r in rows))
    return [_to_vm(r) for r in rows]


def release_in(session: Session, actor: Actor, run_id: int, reason: str) -> int:
    """Return every VM of `run_id` to the pool. Returns how many were released."""
    from sqlalchemy import select, update

    from jumpdeck.core.store.models import WorkloadVmRow

    names = session.scalars(select(WorkloadVmRow.vm_name).where(WorkloadVmRow.project_id == run_id)).all()
    if not names:
        return 0
    session.execute(
        update(WorkloadVmRow).where(WorkloadVmRow.project_id == run_id)
        .values(status=AVAILABLE, project_id=None, occupy_user=None).execution_options(synchronize_session=False)
    )
    activity.record(session, actor, "POOL_RELEASE", "RUN", run_id, f"{reason}: {', '.join(names)}")
    return len(names)


def assign_in(session: Session, run_id: int) -> None:
    """A COMPLETED run keeps its VMs until it is torn down."""
    from sqlalchemy import update

    from jumpdeck.core.store.models import WorkloadVmRow

    session.execute(update(WorkloadVmRow).where(WorkloadVmRow.project_id == run_id)
                    .values(status=ASSIGNED).execution_options(synchronize_session=False))
