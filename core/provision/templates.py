"""Provisioning templates: what each creates, the VMs it takes, its steps and limits.

Step 1 (allocation) is done by the service before the playbook starts; the playbook
prints `::STEP_n_OK::` (seed 004) when step n is done, which is how both runners tell
the UI how far a run has got.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jumpdeck.core.errors import ValidationError
from jumpdeck.core.package_data import playbooks_dir


@dataclass(frozen=True)
class Tier:
    group: str  # inventory group: lb, web, app, db
    count: int
    label: str


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    summary: str
    tiers: tuple[Tier, ...]
    steps: tuple[str, ...]
    timeout: float  # seconds before a hung run is ended

    @property
    def vm_count(self) -> int:
        return sum(t.count for t in self.tiers)

    @property
    def playbook(self) -> Path:
        return playbooks_dir() / f"{self.name}.yml"


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in [
        Template(
            "single", "Single VM",
            "One VM running the service: service user and dirs, rendered config, the service started and health-checked.",
            (Tier("app", 1, "app"),),
            ("Allocate IP", "Prepare host", "Configure service", "Start and health-check", "Record deployment"),
            timeout=900,
        ),
        Template(
            "standard", "Standard 3-tier",
            "Three VMs: web (reverse proxy config), app and db, each configured, started and health-checked.",
            (Tier("web", 1, "web"), Tier("app", 1, "app"), Tier("db", 1, "db")),
            ("Allocate IPs", "Prepare hosts", "Create DB tier", "Create App tier", "Create Web tier", "Health check", "Record deployment"),
            timeout=1800,
        ),
        Template(
            "enterprise", "Enterprise HA",
            "Seven VMs: a load balancer in front of two web, two app, and a db primary with a replica.",
            (Tier("lb", 1, "load balancer"), Tier("web", 2, "web"), Tier("app", 2, "app"), Tier("db", 2, "db primary + replica")),
            ("Allocate IPs", "Prepare hosts", "Create DB primary and replica", "Create App tier", "Create Web tier",
             "Create load balancer", "Health check", "Record deployment"),
            timeout=3600,
        ),
    ]
}


def get_template(name: str) -> Template:
    template = TEMPLATES.get(name.strip().lower())
    if template is None:
        raise ValidationError(f"There is no template '{name}'.", field="template",
                              remedy=f"Pick one of: {', '.join(TEMPLATES)}.")
    return template
