"""Typed events of a provisioning run, shared by both runners, the store and the faces."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from jumpdeck.core.vm_defaults import DEFAULT_PYTHON, DEFAULT_ROOT_DIR
from jumpdeck.core.provision.templates import Template

PENDING, RUNNING, COMPLETED, FAILED, CANCELED = "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELED"
LIVE_STATUSES = (PENDING, RUNNING)
TERMINAL_STATUSES = (COMPLETED, FAILED, CANCELED)

# Results a line or task can carry; the log view colors by these.
RESULTS = ("started", "ok", "changed", "failed", "skipped", "unreachable", "rescued", "ignored")

STEP_MARKER = re.compile(r"::STEP_(\d+)_OK::")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


@dataclass(frozen=True)
class RunEvent:
    """One thing that happened in a run.

    kind: "line" (a log line), "task" (a task started or ended on a host), "step"
    (template step `step` is done), "recap" (a host's final counts), "status" (the run's
    status changed; `result` holds it, `text` the reason)."""

    kind: str
    text: str = ""
    result: str = ""
    host: str = ""
    task: str = ""
    step: int | None = None
    id: int = 0  # the store id once persisted; followers resume after it
    at: datetime | None = None


@dataclass(frozen=True)
class RunHost:
    """One allocated VM as the playbook sees it."""

    name: str  # inventory name, e.g. web-1
    group: str  # lb / web / app / db
    ip: str
    ssh_user: str
    ssh_port: int
    http_port: int
    vm_name: str = ""


@dataclass(frozen=True)
class RunSpec:
    """Everything a runner needs to execute one run."""

    run_id: int
    service_name: str
    template: Template
    hosts: tuple[RunHost, ...]
    data_dir: Path
    packages: tuple[str, ...] = ()
    connection: str = "ssh"  # "ssh" or "local" (this machine, for tests and labs)
    known_hosts: Path | None = None
    ssh_key: str | None = None
    python: str = DEFAULT_PYTHON
    root_dir: str = DEFAULT_ROOT_DIR
    install_packages: bool = False
    options: dict = field(default_factory=dict)  # test hooks: fail_step, hold_seconds, step_delay
    playbook: Path | None = None  # default: the template's; teardown uses its own


@dataclass(frozen=True)
class RunOutcome:
    """How a runner ended: "successful", "failed" or "canceled", with the first error."""

    status: str
    error: str = ""
