"""The detached worker of one provisioning run: `python -m jumpdeck.core.provision.worker RUN_ID`.

It runs in its own session (so the starter's exit, SIGHUP or Ctrl-C do not reach it),
makes itself a child subreaper (so ansible's setsid() workers stay in its tree), runs the
runner, persists each event as it arrives, obeys the cancel flag and the template's
timeout, and always leaves the run in a terminal status with its VMs settled.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path

from jumpdeck.core.child_env import child_environment
from jumpdeck.core.identity import Actor, Role
from jumpdeck.core.provision.failure_report import report_run_failed
from jumpdeck.core.provision.events import CANCELED, COMPLETED, FAILED, RUNNING, TERMINAL_STATUSES, RunEvent
from jumpdeck.core.provision.lease import renew_in, store_in, this_host
from jumpdeck.core.provision.process import become_subreaper, kill_tree
from jumpdeck.core.provision.runner import make_runner
from jumpdeck.core.provision.service import (
    CANCEL_GRACE_SECONDS,
    event_row,
    finish_in,
    resources_for,
    run_spec,
    set_status_in,
)
from jumpdeck.core.provision.templates import get_template

log = logging.getLogger("jumpdeck.provision.worker")
# Events are written in batches: whatever has arrived while the last batch was being
# committed goes in the next transaction (one commit per event would cap the rate).
MAX_BATCH = 500


class LeaseLost(Exception):
    """Another host judged this run's worker gone and failed the run."""


class Worker:
    def __init__(self, store, run_id: int, runs_dir: Path, known_hosts: Path, secrets=None) -> None:  # noqa: ANN001
        self.store = store
        self.secrets = secrets  # to notify of a FAILED run; None: no key here, no message
        self.run_id = run_id
        self.runs_dir = runs_dir
        self.known_hosts = known_hosts
        self.queue: asyncio.Queue[RunEvent | None] = asyncio.Queue()
        self.cancel_requested = False
        self.timed_out = False
        self.lost = False
        self.host = this_host()
        self.pid = os.getpid()
        self.renew_every = 5.0
        self.expire = 30.0

    def _hold(self, session) -> None:  # noqa: ANN001
        """Renew the lease in this transaction, or raise LeaseLost before writing anything."""
        if not renew_in(session, self.run_id, self.host, self.pid, self.expire):
            raise LeaseLost()

    def _load(self, session):  # noqa: ANN001, ANN202
        from jumpdeck.core.store.models import ProvisionRunRow

        row = session.get(ProvisionRunRow, self.run_id, with_for_update=True)
        if row is None:
            raise SystemExit(f"run {self.run_id} does not exist")
        if row.status in TERMINAL_STATUSES:  # canceled before this worker got going
            raise SystemExit(0)
        if row.worker_pid is None:
            row.worker_pid = os.getpid()
        cfg = (row.details or {}).get("config") or {}
        self.renew_every = float(cfg.get("lease_renew") or self.renew_every)
        self.expire = float(cfg.get("lease_expire") or self.expire)
        row.lease_host, row.lease_pid = self.host, self.pid
        row.lease_expires_at = store_in(session, self.expire)
        set_status_in(session, row, RUNNING)
        return row.service_name, row.template, row.runner, row.created_by, dict(row.details), bool(row.cancel_requested)

    def _persist(self, session, events: list[RunEvent]) -> None:  # noqa: ANN001
        from jumpdeck.core.store.models import ProvisionRunRow, utcnow

        self._hold(session)
        step_events = [e for e in events if e.kind == "step" and e.step]
        now = utcnow()
        for e in events:
            session.add(event_row(self.run_id, e, now))
        if step_events:
            row = session.get(ProvisionRunRow, self.run_id)
            details = dict(row.details)
            progress = dict(details.get("progress") or {})
            done = dict(progress.get("done") or {})
            logs = list(details.get("logs") or [])
            for e in step_events:
                done[str(e.step)] = utcnow().isoformat()
                progress["step"] = max(int(progress.get("step", 0)), e.step)
                logs.append(f"Step {e.step}: {e.text} done")
            progress["done"] = done
            details["progress"], details["logs"] = progress, logs
            row.details = details

    async def _writer(self) -> None:
        while True:
            first = await self.queue.get()
            if first is None:
                return
            batch = [first]
            end = False
            while not self.queue.empty() and len(batch) < MAX_BATCH:
                item = self.queue.get_nowait()
                if item is None:
                    end = True
                    break
                batch.append(item)
            try:
                await self.store.run(lambda s, b=batch: self._persist(s, b))
            except LeaseLost:
                self.lost = True
            if end:
                return
            # A lost lease: drain the queue, write nothing more.

    async def _watch_cancel(self, runner, timeout: float) -> None:  # noqa: ANN001
        from jumpdeck.core.store.models import ProvisionRunRow

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (self.cancel_requested or self.timed_out):
            await asyncio.sleep(0.25)
            flagged = await self.store.run(lambda s: bool(s.get(ProvisionRunRow, self.run_id).cancel_requested))
            if flagged:
                self.cancel_requested = True
            elif loop.time() > deadline:
                self.timed_out = True
        # Graceful first: ansible-runner terminates ansible-playbook on the callback.
        runner.cancel()
        await asyncio.sleep(CANCEL_GRACE_SECONDS)
        # Then forceful: every descendant, including setsid()'d ansible workers.
        kill_tree(os.getpid(), include_root=False)

    async def _renew(self, runner) -> None:  # noqa: ANN001
        while True:
            await asyncio.sleep(self.renew_every)
            try:
                await self.store.run(self._hold)
            except LeaseLost:
                self.lost = True
            except Exception:  # the store is away for a moment: retry; the lease tells
                log.warning("run %s: could not renew the lease", self.run_id, exc_info=True)
            if self.lost:
                log.warning("run %s: lost its lease to another host; stopping without touching the run", self.run_id)
                runner.cancel()
                kill_tree(os.getpid(), include_root=False)
                return

    async def run(self) -> int:
        name, template_name, runner_kind, created_by, details, flagged = await self.store.run(self._load)
        actor = Actor(created_by or "jumpdeck", Role.OPERATOR, origin=f"worker:{os.getpid()}")
        template = get_template(template_name)
        cfg = details.get("config") or {}
        spec = run_spec(self.run_id, name, template_name, details, data_dir=self.runs_dir / str(self.run_id),
                        known_hosts=self.known_hosts)
        runner = make_runner(runner_kind)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, lambda: setattr(self, "cancel_requested", True))
        writer = asyncio.create_task(self._writer())
        watcher = asyncio.create_task(self._watch_cancel(runner, float(cfg.get("timeout", template.timeout))))
        renewer = asyncio.create_task(self._renew(runner))
        if flagged:
            self.cancel_requested = True
        error = ""
        try:
            async for event in runner.start(spec):
                await self.queue.put(event)
        except Exception as exc:  # the run must still end in a status
            log.exception("run %s: runner crashed", self.run_id)
            error = f"the runner crashed: {type(exc).__name__}: {exc}"
        self.queue.put_nowait(None)
        await writer
        renewer.cancel()
        if self.lost:
            watcher.cancel()
            kill_tree(os.getpid(), include_root=False)
            return 3
        if self.cancel_requested or self.timed_out:
            kill_tree(os.getpid(), include_root=False)
        watcher.cancel()
        outcome = runner.outcome
        if self.cancel_requested:
            status, error = CANCELED, "canceled by an operator"
        elif self.timed_out:
            status, error = FAILED, f"timed out after {float(cfg.get('timeout', template.timeout)):g} s"
        elif not error and outcome.status == "successful":
            status = COMPLETED
        else:
            status, error = FAILED, error or outcome.error or "the run failed"
        resources = resources_for((details.get("infra") or {}).get("hosts", []), spec.connection) if status == COMPLETED else None
        if status == COMPLETED and not resources:
            resources = _mock_resources(self.run_id, name)
        def finish(session) -> None:  # noqa: ANN001
            self._hold(session)
            finish_in(session, actor, self.run_id, status, error=error if status != COMPLETED else "", resources=resources)

        try:
            await self.store.run(finish)
        except LeaseLost:
            log.warning("run %s: lost its lease before finishing; the run is left as another host set it", self.run_id)
            return 3
        if status == FAILED:  # after the commit: the run's end never waits on a message
            await report_run_failed(self.store, self.secrets, actor, self.run_id, error)
        return 0 if status == COMPLETED else 1


def _mock_resources(run_id: int, name: str) -> dict:
    """Seed 001's fake resources, on loopback addresses so nothing ever leaves the host."""
    octet = run_id % 250 + 1
    return {"alb_ip": f"127.0.{octet}.10", "web_url": f"http://127.0.{octet}.10/{name}", "db_vip": f"127.0.{octet}.20",
            "ssh_targets": [{"name": f"{name}-web", "host": f"127.0.{octet}.11", "port": 22, "user": "deploy"}]}


def _notify_key(config, handed_key: str | None):  # noqa: ANN001, ANN202
    """The key to open notification targets with: the one handed down the pipe (the
    starter's came from JUMPDECK_KEY), else this host's key file; never a new key file."""
    from jumpdeck.core.secrets import SecretBox, load_secret_box

    if handed_key:
        return SecretBox([handed_key.encode("ascii")], source="the key handed to the worker")
    if config.key_path.exists():
        try:
            return load_secret_box(config.key_path, env={})
        except Exception:  # a run without notifications rather than a run that cannot end
            log.warning("the key file cannot be read; a failure of this run will not be notified")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jumpdeck-provision-worker")
    parser.add_argument("--home", required=True)
    # The store URL (it may hold a password) comes as JSON on stdin, never as an
    # argument or in the environment: see service.py `_spawn_worker`.
    parser.add_argument("--secrets-on-stdin", action="store_true")
    parser.add_argument("run_id", type=int)
    args = parser.parse_args(argv)
    handed: dict = {}
    if args.secrets_on_stdin:
        handed = json.loads(sys.stdin.buffer.read() or b"{}")
    store_url = handed.get("store_url")
    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import setup_logging
    from jumpdeck.core.store.engine import open_store

    config = load_config(cli={"home": args.home, "store_url": store_url})
    # Whatever started this worker, its children (ansible-runner copies this process's
    # environment for ansible-playbook and its ssh) see only the allow-list.
    clean = child_environment()
    os.environ.clear()
    os.environ.update(clean)
    setup_logging(config)
    become_subreaper()
    secrets = _notify_key(config, handed.get("key"))
    store = open_store(sqlite_path=config.store_path, store_url=config.store_url)
    try:
        return asyncio.run(Worker(store, args.run_id, config.runs_dir, config.known_hosts_path, secrets).run())
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
