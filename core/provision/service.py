"""Durable provisioning runs (seeds 001, 002, 004).

`start` records the run (PENDING), takes its VMs atomically and launches a detached
worker process (`python -m jumpdeck.core.provision.worker`) in its own session, so the playbook
goes on when the jumpdeck that started it exits or its SSH link drops. The worker
persists every event in `provision_events` as it arrives and keeps `status` and the
seed's `details` JSON in step. Any process follows a run by reading events after the
last id it has seen; `recover_interrupted` marks runs whose worker is gone FAILED and
releases their VMs.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, AsyncIterator

from jumpdeck.core import activity
from jumpdeck.core.child_env import child_environment
from jumpdeck.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from jumpdeck.core.identity import Actor, Operation, require
from jumpdeck.core.private_files import open_private, private_dir
from jumpdeck.core.provision import pool
from jumpdeck.core.provision.failure_report import report_run_failed
from jumpdeck.core.vm_defaults import DEFAULT_PYTHON, DEFAULT_ROOT_DIR
from jumpdeck.core.provision.events import (
    CANCELED,
    COMPLETED,
    FAILED,
    LIVE_STATUSES,
    PENDING,
    RUNNING,
    TERMINAL_STATUSES,
    RunEvent,
    RunHost,
    RunSpec,
)
from jumpdeck.core.provision.lease import store_in, store_now, this_host
from jumpdeck.core.provision.process import kill_tree, worker_alive
from jumpdeck.core.provision.templates import get_template

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from jumpdeck.core.config import Config
    from jumpdeck.core.secrets import SecretBox
    from jumpdeck.core.store.engine import Store

_DNS_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_PACKAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_-]{0,99}$")
# A PENDING run without a live worker is only "interrupted" after this long: the
# starting process may still be between the insert and the spawn.
SPAWN_GRACE_SECONDS = 60
CANCEL_GRACE_SECONDS = 5.0
FOLLOW_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class RunInfo:
    id: int
    service_name: str
    template: str
    status: str
    runner: str
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    assigned_ip: str
    details: dict
    worker_pid: int | None
    artifact_dir: str
    cancel_requested: bool
    lease_host: str | None = None
    lease_pid: int | None = None
    lease_expires_at: datetime | None = None

    @property
    def duration(self) -> float | None:
        if not self.started_at:
            return None
        end = self.finished_at or _utcnow()
        return max(0.0, (end - self.started_at).total_seconds())

    @property
    def error(self) -> str:
        return ((self.details or {}).get("error") or {}).get("message", "")

    @property
    def resources(self) -> dict:
        return (self.details or {}).get("resources") or {}

    @property
    def progress(self) -> dict:
        return (self.details or {}).get("progress") or {}


def _utcnow() -> datetime:
    from jumpdeck.core.store.models import utcnow

    return utcnow()


def _to_info(row) -> RunInfo:  # noqa: ANN001
    return RunInfo(row.id, row.service_name, row.template, row.status, row.runner, row.created_by, row.created_at,
                   row.started_at, row.finished_at, row.assigned_ip, dict(row.details or {}), row.worker_pid,
                   row.artifact_dir, bool(row.cancel_requested), row.lease_host, row.lease_pid, row.lease_expires_at)


def _to_event(row) -> RunEvent:  # noqa: ANN001
    return RunEvent(row.kind, row.text, row.result, row.host, row.task, row.step, row.id, row.at)


def validate_name(name: str) -> str:
    name = name.strip()
    if not _DNS_NAME.match(name):
        raise ValidationError(
            f"'{name}' is not a valid service name.", field="name",
            remedy="Use lowercase letters, digits and '-', 1 to 63 long, starting and ending with a letter or digit (DNS-safe).",
        )
    return name


def validate_packages(packages: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    out = []
    for p in packages:
        p = p.strip()
        if not p:
            continue
        if not _PACKAGE.match(p):
            raise ValidationError(f"'{p}' is not a valid package name.", field="packages")
        if p not in out:
            out.append(p)
    return tuple(out)


def set_status_in(session: Session, row, status: str, *, error: str | None = None) -> None:  # noqa: ANN001
    """Status column and details.status move together (seed 001)."""
    from jumpdeck.core.store.models import ProvisionEventRow

    row.status = status
    details = dict(row.details or {})
    details["status"] = status
    if error:
        details["error"] = {"message": error}
    if status == RUNNING and row.started_at is None:
        row.started_at = _utcnow()
    if status in TERMINAL_STATUSES:
        row.finished_at = _utcnow()
    row.details = details
    session.add(ProvisionEventRow(run_id=row.id, kind="status", result=status, text=error or status))


def finish_in(session: Session, actor: Actor, run_id: int, status: str, *, error: str = "",
              resources: dict | None = None) -> bool:
    """Move a live run to its terminal status and settle its VMs. False when another
    process got there first (the run is already terminal)."""
    from jumpdeck.core.store.models import ProvisionRunRow

    # Locked (PostgreSQL) so a worker setting RUNNING and a cancel cannot both win.
    row = session.get(ProvisionRunRow, run_id, with_for_update=True)
    if row is None or row.status in TERMINAL_STATUSES:
        return False
    set_status_in(session, row, status, error=error or None)
    if status == COMPLETED:
        pool.assign_in(session, run_id)
        if resources is not None:
            details = dict(row.details)
            details["resources"] = resources
            row.details = details
    else:
        pool.release_in(session, actor, run_id, status.lower())
    activity.record(session, actor, f"PROVISION_{status}", "RUN", run_id, (f"{row.service_name}: {error}" if error else row.service_name))
    return True


def resources_for(hosts: list[dict], connection: str) -> dict:
    """The seed's resources block from the allocated hosts."""
    if not hosts:
        return {}
    by_group: dict[str, list[dict]] = {}
    for h in hosts:
        by_group.setdefault(h["group"], []).append(h)
    front = (by_group.get("lb") or by_group.get("web") or by_group.get("app") or hosts)[0]
    db = (by_group.get("db") or by_group.get("app") or hosts)[0]
    front_ip = "127.0.0.1" if connection == "local" else front["ip"]
    return {
        "alb_ip": front_ip,
        "web_url": f"http://{front_ip}:{front['http_port']}/",
        "db_vip": "127.0.0.1" if connection == "local" else db["ip"],
        "ssh_targets": [{"name": h["name"], "host": h["ip"], "port": h["ssh_port"], "user": h["ssh_user"]} for h in hosts],
    }


class ProvisionService:
    def __init__(self, store: Store, config: Config, settings=None, secrets: SecretBox | None = None) -> None:  # noqa: ANN001
        self.store = store
        self.config = config
        self.settings = settings  # core.settings.SettingsService; None in the worker
        # The key, for notifying of runs this process fails (and for a worker whose key
        # comes from the environment); None: no notification from here.
        self.secrets = secrets

    # ----- reading -------------------------------------------------------------------
    async def list(self, actor: Actor, *, status: str | None = None, limit: int = 500) -> list[RunInfo]:
        require(actor, Operation.VIEW)
        from sqlalchemy import select

        from jumpdeck.core.store.models import ProvisionRunRow

        def go(session: Session) -> list[RunInfo]:
            stmt = select(ProvisionRunRow).order_by(ProvisionRunRow.id.desc()).limit(limit)
            if status:
                stmt = stmt.where(ProvisionRunRow.status == status.upper())
            return [_to_info(r) for r in session.scalars(stmt)]

        return await self.store.run(go)

    async def get(self, actor: Actor, run_id: int) -> RunInfo:
        require(actor, Operation.VIEW)
        from jumpdeck.core.store.models import ProvisionRunRow

        def go(session: Session) -> RunInfo:
            row = session.get(ProvisionRunRow, run_id)
            if row is None:
                raise NotFound(f"There is no provisioning run {run_id}.", remedy="See the runs with: jumpdeck provision ls")
            return _to_info(row)

        return await self.store.run(go)

    async def events(self, actor: Actor, run_id: int, *, after_id: int = 0, limit: int = 5000) -> list[RunEvent]:
        require(actor, Operation.VIEW)
        from sqlalchemy import select

        from jumpdeck.core.store.models import ProvisionEventRow

        def go(session: Session) -> list[RunEvent]:
            stmt = (select(ProvisionEventRow).where(ProvisionEventRow.run_id == run_id, ProvisionEventRow.id > after_id)
                    .order_by(ProvisionEventRow.id).limit(limit))
            return [_to_event(r) for r in session.scalars(stmt)]

        return await self.store.run(go)

    async def follow(self, actor: Actor, run_id: int, *, after_id: int = 0) -> AsyncIterator[list[RunEvent]]:
        """Replay a run's events after `after_id`, then follow it live until it ends,
        a batch at a time (never empty, oldest first): a face shows each batch in one
        write, so a fast stream costs one repaint per read, not one per line. A run
        whose worker is gone is recovered on the way (FAILED, its reason the last
        event), so the CLI and the screen show the same end. Works from any process:
        it only reads the store (and settles dead runs)."""
        await self.get(actor, run_id)
        last = after_id
        next_reap = 0.0
        while True:
            batch = await self.events(actor, run_id, after_id=last)
            if batch:
                last = batch[-1].id
                yield batch
                continue
            info = await self.get(actor, run_id)
            if info.status in TERMINAL_STATUSES:
                # One more read: the final events are committed with the status.
                tail = await self.events(actor, run_id, after_id=last)
                if tail:
                    yield tail
                return
            if info.status in LIVE_STATUSES and self._worker_gone(info):
                await self.recover_interrupted(actor)
                continue
            loop = asyncio.get_running_loop()
            if loop.time() >= next_reap:
                # A worker on any host that stopped renewing: judged by its lease alone.
                next_reap = loop.time() + max(0.2, self.config.lease_expire / 3)
                if run_id in await self.reap_expired(actor):
                    continue
            await asyncio.sleep(FOLLOW_POLL_SECONDS)

    @staticmethod
    def _worker_gone(info: RunInfo) -> bool:
        """The fast path on the worker's own host: its pid is gone. A run of another host
        is judged by its lease only (reap_expired)."""
        host = info.lease_host or (info.details.get("config") or {}).get("worker_host")
        if host and host != this_host():
            return False
        if info.status == PENDING and (_utcnow() - info.created_at).total_seconds() < SPAWN_GRACE_SECONDS:
            # Not RUNNING yet: the worker may still be between fork and exec (its
            # /proc cmdline is then its parent's) or importing; give it time.
            return False
        return not worker_alive(info.worker_pid, info.id)

    # ----- starting ------------------------------------------------------------------
    async def start(
        self,
        actor: Actor,
        template: str,
        name: str,
        *,
        packages: list[str] | tuple[str, ...] = (),
        runner: str | None = None,
        target: str | None = None,
        options: dict | None = None,
    ) -> RunInfo:
        require(actor, Operation.PROVISION)
        tpl = get_template(template)
        name = validate_name(name)
        packages = validate_packages(packages)
        runner = (runner or self.config.runner).lower()
        if runner not in ("ansible", "mock"):
            raise ValidationError(f"'{runner}' is not a runner.", field="runner", remedy="Use ansible or mock.")
        target = (target or ("pool" if runner == "ansible" else "none")).lower()
        if target not in ("pool", "local", "none"):
            raise ValidationError(f"'{target}' is not a target.", field="target",
                                  remedy="Use pool (the VM pool over SSH), local (this machine) or none (mock only).")
        if target == "none" and runner == "ansible":
            raise ValidationError("The Ansible runner needs VMs.", field="target", remedy="Use --target pool or local.")
        settings = await self.settings.get() if self.settings else None

        def setting(key: str):  # noqa: ANN202
            return settings.get(key) if settings is not None else None

        if settings is not None and setting("maintenance_mode") and not actor.is_admin:
            raise PermissionDenied("Provisioning is paused: maintenance mode is on.",
                                   remedy="Only an admin can start runs until an admin turns maintenance_mode off.")
        await self.recover_interrupted(actor)
        run_config = {
            "template": tpl.name,
            "steps": list(tpl.steps),
            "timeout": float((options or {}).get("timeout", tpl.timeout)),
            "connection": "local" if target == "local" else "ssh",
            "root_dir": setting("provision_root") or DEFAULT_ROOT_DIR,
            "python": setting("provision_python") or DEFAULT_PYTHON,
            "ssh_key": setting("provision_ssh_key"),
            "http_port": int(setting("provision_http_port") or 8080),
            "install_packages": bool(setting("provision_install_packages")),
            # With a shared PostgreSQL store, only the jump host running the worker can
            # tell whether it is alive.
            "worker_host": this_host(),
            "lease_renew": self.config.lease_renew,
            "lease_expire": self.config.lease_expire,
        }
        max_runs = int(setting("max_concurrent_runs") or 4)

        def insert(session: Session) -> RunInfo:
            from sqlalchemy import func, select

            from jumpdeck.core.store.locks import write_lock
            from jumpdeck.core.store.models import ProvisionEventRow, ProvisionRunRow

            # The limit and the name are read, then a run is written: one step for every
            # process and host on the store, or two starts both see room for one more.
            write_lock(session, "provision.start")
            live = session.scalar(select(func.count()).select_from(ProvisionRunRow)
                                  .where(ProvisionRunRow.status.in_(LIVE_STATUSES)))
            if live >= max_runs:
                raise Conflict(f"{live} runs are already going; the limit is {max_runs}.",
                               remedy="Wait for one to end, or ask an admin to raise max_concurrent_runs.")
            clash = session.scalar(select(ProvisionRunRow.id).where(
                ProvisionRunRow.service_name == name, ProvisionRunRow.status.in_((PENDING, RUNNING, COMPLETED))))
            if clash is not None:
                raise Conflict(f"The service name '{name}' is in use by run {clash}.",
                               remedy="Pick another name, or tear that run down first.")
            row = ProvisionRunRow(service_name=name, template=tpl.name, status=PENDING, created_by=actor.user,
                                  runner=runner, details={}, lease_host=this_host(),
                                  # Until the worker takes the lease: the spawn grace.
                                  lease_expires_at=store_in(session, 2 * self.config.lease_expire))
            session.add(row)
            session.flush()
            hosts: list[dict] = []
            if target != "none":
                vms = pool.allocate_in(session, actor, row.id, tpl.vm_count)
                hosts = _assign_hosts(tpl, vms, run_config["http_port"], local=target == "local")
            row.assigned_ip = ",".join(dict.fromkeys(h["ip"] for h in hosts))
            row.artifact_dir = str(self.config.runs_dir / str(row.id))
            row.details = {
                "input": {"serviceName": name, "userName": actor.user,
                          "config": {"template": tpl.name, "packages": list(packages)},
                          "targetInfra": {"target": target, "runner": runner}, "options": dict(options or {})},
                "config": run_config,
                "infra": {"hosts": hosts},
                "status": PENDING,
                "logs": [f"Allocated {len(hosts)} VM(s)" if hosts else "No VMs needed (mock run)"],
                "progress": {"step": 1, "total": len(tpl.steps), "done": {"1": _utcnow().isoformat()}},
                "resources": {},
            }
            session.add(ProvisionEventRow(run_id=row.id, kind="step", result="ok", step=1, text=tpl.steps[0]))
            activity.record(session, actor, "PROVISION_START", "RUN", row.id,
                            f"{name} ({tpl.name}, {runner}, {target}) packages={','.join(packages) or '-'}")
            return _to_info(row)

        info = await self.store.run(insert)
        try:
            pid = self._spawn_worker(info)
        except OSError as exc:
            error = f"the worker could not start: {exc.strerror}"
            if await self.store.run(lambda s: finish_in(s, actor, info.id, FAILED, error=error)):
                await report_run_failed(self.store, self.secrets, actor, info.id, error)
            raise
        await self.store.run(lambda s: _set_pid(s, info.id, pid))
        return await self.get(actor, info.id)

    def _spawn_worker(self, info: RunInfo) -> int:
        run_dir = Path(info.artifact_dir)
        private_dir(run_dir)  # runs/ and the run's folder: its logs name hosts and steps
        args = [sys.executable, "-m", "jumpdeck.core.provision.worker", "--home", str(self.config.home),
                "--secrets-on-stdin", str(info.id)]
        # The store URL may hold a password: it goes down a pipe, never on the command
        # line (`ps` shows that) or in the environment (ansible-runner records that).
        handed: dict = {"store_url": self.config.store_url}
        if self.secrets is not None and self.secrets.from_environment:
            # The worker's environment has no JUMPDECK_KEY (child_env.py); it needs the key
            # to open the notification targets when its run fails. A key file it reads itself.
            handed["key"] = self.secrets.keys[0].decode("ascii")
        secrets = json.dumps(handed).encode()
        with open_private(run_dir / "worker.log", "ab") as log:
            # A new session: the worker survives its starter's exit, SIGHUP and Ctrl-C.
            proc = subprocess.Popen(args, cwd=str(self.config.home), stdin=subprocess.PIPE, stdout=log, stderr=log,
                                    start_new_session=True, close_fds=True, env=child_environment())
        try:
            assert proc.stdin is not None
            proc.stdin.write(secrets)
            proc.stdin.close()
        except OSError:  # it died at once; its log and the lease say why
            pass
        return proc.pid

    # ----- stopping ------------------------------------------------------------------
    async def cancel(self, actor: Actor, run_id: int, *, wait: float = 0.0) -> RunInfo:
        """Ask the run's worker to stop (graceful through ansible-runner, forceful after
        a grace period). With `wait`, wait that long for CANCELED, then kill the worker
        tree from here if it has not obeyed."""
        require(actor, Operation.PROVISION)
        from jumpdeck.core.store.models import ProvisionRunRow

        def flag(session: Session) -> RunInfo:
            row = session.get(ProvisionRunRow, run_id)
            if row is None:
                raise NotFound(f"There is no provisioning run {run_id}.")
            if row.status in TERMINAL_STATUSES:
                raise Conflict(f"Run {run_id} ({row.service_name}) has already ended: {row.status}.")
            row.cancel_requested = True
            activity.record(session, actor, "PROVISION_CANCEL", "RUN", run_id, row.service_name)
            return _to_info(row)

        info = await self.store.run(flag)
        if run_id in await self.reap_expired(actor):
            return await self.get(actor, run_id)
        host = info.lease_host or (info.details.get("config") or {}).get("worker_host")
        own = host in (None, this_host())
        if own and not worker_alive(info.worker_pid, run_id):
            await self.store.run(lambda s: finish_in(s, actor, run_id, CANCELED, error="canceled before its worker ran"))
            return await self.get(actor, run_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while loop.time() < deadline:
            info = await self.get(actor, run_id)
            if info.status in TERMINAL_STATUSES:
                return info
            await asyncio.sleep(0.2)
            if run_id in await self.reap_expired(actor):
                return await self.get(actor, run_id)
        if wait and own and worker_alive(info.worker_pid, run_id):
            kill_tree(info.worker_pid, include_root=True)
            await self.store.run(lambda s: finish_in(s, actor, run_id, CANCELED, error="the worker did not stop; killed"))
        return await self.get(actor, run_id)

    async def teardown(self, actor: Actor, run_id: int) -> RunInfo:
        """Tear a finished run down: for a completed Ansible run, stop its services and
        remove what it deployed (playbooks/teardown.yml, its lines appended to the
        run's log), then release its VMs back to the pool. If the teardown playbook
        fails, the VMs stay with the run and the error says why; it can be retried."""
        require(actor, Operation.PROVISION)
        info = await self.get(actor, run_id)
        if info.status in LIVE_STATUSES:
            raise Conflict(f"Run {run_id} ({info.service_name}) is still {info.status}.", remedy="Cancel it instead.")
        if info.runner == "ansible" and info.status == COMPLETED and not info.details.get("teardown"):
            await self._run_teardown_playbook(info)
        from jumpdeck.core.store.models import ProvisionRunRow

        def go(session: Session) -> RunInfo:
            row = session.get(ProvisionRunRow, run_id)
            released = pool.release_in(session, actor, run_id, "teardown")
            details = dict(row.details or {})
            details["teardown"] = {"at": _utcnow().isoformat(), "by": actor.user, "released": released}
            row.details = details
            activity.record(session, actor, "PROVISION_TEARDOWN", "RUN", run_id, f"{row.service_name}: {released} VM(s) released")
            return _to_info(row)

        return await self.store.run(go)

    async def _run_teardown_playbook(self, info: RunInfo) -> None:
        from dataclasses import replace

        from jumpdeck.core.provision.runner import AnsibleRunner
        from jumpdeck.core.package_data import playbooks_dir

        spec = run_spec(info.id, info.service_name, info.template, info.details,
                        data_dir=self.config.runs_dir / str(info.id) / "teardown",
                        known_hosts=self.config.known_hosts_path, playbook=playbooks_dir() / "teardown.yml")
        runner = AnsibleRunner()
        pending: list[RunEvent] = [RunEvent("line", "PLAY [teardown]", "started")]

        def persist(session: Session, batch: list[RunEvent]) -> None:
            now = _utcnow()
            for e in batch:
                # The teardown's own step markers are log lines: the run's progress is done.
                session.add(event_row(info.id, replace(e, kind="line", step=None) if e.kind == "step" else e, now))

        async for event in runner.start(spec):
            pending.append(event)
            if len(pending) >= 50:
                batch, pending = pending, []
                await self.store.run(lambda s, b=batch: persist(s, b))
        await self.store.run(lambda s, b=pending: persist(s, b))
        if runner.outcome.status != "successful":
            raise Conflict(f"Tearing down run {info.id} ({info.service_name}) failed: {runner.outcome.error}",
                           remedy="Its VMs stay with the run; fix the cause and tear it down again.")

    async def remove(self, actor: Actor, run_id: int) -> None:
        """Delete an ended run and its events; its VMs go back to the pool first."""
        require(actor, Operation.PROVISION)
        from sqlalchemy import delete

        from jumpdeck.core.store.models import ProvisionEventRow, ProvisionRunRow

        def go(session: Session) -> None:
            row = session.get(ProvisionRunRow, run_id)
            if row is None:
                raise NotFound(f"There is no provisioning run {run_id}.")
            if row.status in LIVE_STATUSES:
                raise Conflict(f"Run {run_id} ({row.service_name}) is still {row.status}.", remedy="Cancel it first.")
            pool.release_in(session, actor, run_id, "removed")
            session.execute(delete(ProvisionEventRow).where(ProvisionEventRow.run_id == run_id))
            session.delete(row)
            activity.record(session, actor, "PROVISION_REMOVE", "RUN", run_id, row.service_name)

        await self.store.run(go)

    async def reap_expired(self, actor: Actor) -> list[int]:
        """Runs whose lease expired on the store's clock are FAILED ("its worker on HOST
        stopped renewing at TIME") and their VMs released, each in one transaction whose
        conditional UPDATE only one host can win."""
        from sqlalchemy import select, update

        from jumpdeck.core.store.models import ProvisionRunRow as R

        def go(session: Session) -> list[tuple[int, str]]:
            won = []
            expired = session.execute(select(R.id, R.lease_host, R.lease_expires_at).where(
                R.status.in_(LIVE_STATUSES), R.lease_expires_at.is_not(None),
                R.lease_expires_at < store_now(session))).all()
            for run_id, host, expires in expired:
                claimed = session.execute(update(R).where(
                    R.id == run_id, R.status.in_(LIVE_STATUSES), R.lease_expires_at.is_not(None),
                    R.lease_expires_at < store_now(session)).values(lease_expires_at=None, lease_pid=None)
                    .execution_options(synchronize_session=False)).rowcount
                if claimed != 1:
                    continue
                config = self.config
                renewed = expires
                if isinstance(expires, datetime):
                    from datetime import timedelta
                    renewed = (expires - timedelta(seconds=config.lease_expire)).strftime("%Y-%m-%d %H:%M:%S UTC")
                error = f"its worker on {host or 'an unknown host'} stopped renewing at {renewed}"
                if finish_in(session, actor, run_id, FAILED, error=error):
                    won.append((run_id, error))
            return won

        if not await self.store.run(lambda s: s.scalar(select(R.id).where(R.status.in_(LIVE_STATUSES)).limit(1))):
            return []
        won = await self.store.run(go)
        for run_id, error in won:
            await report_run_failed(self.store, self.secrets, actor, run_id, error)
        return [run_id for run_id, _error in won]

    async def recover_interrupted(self, actor: Actor) -> list[int]:
        """Runs whose worker is gone are FAILED ("interrupted") and their VMs released."""
        from sqlalchemy import select

        from jumpdeck.core.store.models import ProvisionRunRow

        live = await self.store.run(lambda s: [_to_info(r) for r in s.scalars(
            select(ProvisionRunRow).where(ProvisionRunRow.status.in_(LIVE_STATUSES)))])
        dead = [r.id for r in live if self._worker_gone(r)]
        done = []
        error = "interrupted: its worker process is gone"
        for run_id in dead:
            if await self.store.run(lambda s, rid=run_id: finish_in(s, actor, rid, FAILED, error=error)):
                done.append(run_id)
                await report_run_failed(self.store, self.secrets, actor, run_id, error)
        return done


def _set_pid(session: Session, run_id: int, pid: int) -> None:
    from jumpdeck.core.store.models import ProvisionRunRow

    row = session.get(ProvisionRunRow, run_id)
    if row is not None and row.worker_pid is None:
        row.worker_pid = pid


def _assign_hosts(tpl, vms: list[pool.PoolVm], base_port: int, *, local: bool) -> list[dict]:  # noqa: ANN001
    """Inventory names per tier (web-1, web-2, ...). VMs sharing an address (a lab, or
    `local`) get distinct service ports so their services do not collide."""
    hosts, index, seen_ip = [], 0, {}
    for tier in tpl.tiers:
        for n in range(1, tier.count + 1):
            vm = vms[index]
            index += 1
            key = "local" if local else vm.ip
            offset = seen_ip.get(key, 0)
            seen_ip[key] = offset + 1
            hosts.append({"name": f"{tier.group}-{n}", "group": tier.group, "ip": vm.ip, "ssh_user": vm.ssh_user,
                          "ssh_port": vm.ssh_port, "http_port": base_port + offset, "vm_name": vm.name})
    return hosts


def event_row(run_id: int, event: RunEvent, now: datetime):  # noqa: ANN201
    """The store row of a runner's event (the worker's run and a teardown both write
    theirs here). Hosts and task names come from playbooks and can be any length: they
    are cut to their columns. `at` is when the playbook wrote the line where the runner
    knows it, else `now`."""
    from jumpdeck.core.store.models import ProvisionEventRow

    return ProvisionEventRow(run_id=run_id, kind=event.kind, result=event.result[:_column_size("result")],
                             host=event.host[:_column_size("host")], task=event.task[:_column_size("task")],
                             step=event.step, text=event.text, at=event.at or now)


def _column_size(name: str) -> int:
    from jumpdeck.core.store.models import ProvisionEventRow

    return ProvisionEventRow.__table__.c[name].type.length


def run_spec(run_id: int, service_name: str, template: str, details: dict, *, data_dir: Path,
             known_hosts: Path | None, playbook: Path | None = None) -> RunSpec:
    """What a runner needs for a recorded run, from the `details` `start` wrote. The
    worker's run and a teardown both build theirs here, so they agree on every default."""
    cfg = details.get("config") or {}
    wanted = details.get("input") or {}
    return RunSpec(
        run_id=run_id, service_name=service_name, template=get_template(template), hosts=host_specs(details),
        data_dir=data_dir, packages=tuple((wanted.get("config") or {}).get("packages", [])),
        connection=cfg.get("connection", "ssh"), known_hosts=known_hosts, ssh_key=cfg.get("ssh_key"),
        python=cfg.get("python") or DEFAULT_PYTHON, root_dir=cfg.get("root_dir") or DEFAULT_ROOT_DIR,
        install_packages=bool(cfg.get("install_packages")), options=wanted.get("options") or {}, playbook=playbook,
    )


def host_specs(details: dict) -> tuple[RunHost, ...]:
    return tuple(RunHost(h["name"], h["group"], h["ip"], h["ssh_user"], h["ssh_port"], h["http_port"], h.get("vm_name", ""))
                 for h in (details.get("infra") or {}).get("hosts", []))

