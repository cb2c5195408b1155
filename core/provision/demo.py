"""Demo logs for the sample runs `jumpdeck.core.demo` creates, so the demo's run view has
something to replay: the steps each reached, in the mock runner's words."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jumpdeck.core.context import Context


async def seed_run_logs(ctx: Context) -> None:
    from sqlalchemy import select

    from jumpdeck.core.provision.templates import TEMPLATES
    from jumpdeck.core.store.models import ProvisionEventRow, ProvisionRunRow

    def go(session) -> None:  # noqa: ANN001
        for run in session.scalars(select(ProvisionRunRow)):
            template = TEMPLATES.get(run.template)
            if template is None:
                continue
            at = run.started_at or run.created_at
            steps = template.steps
            # Completed runs reached every step; failed and canceled ones stop half way.
            reached = len(steps) if run.status == "COMPLETED" else max(2, len(steps) // 2)
            hosts = [f"{t.group}-{n}" for t in template.tiers for n in range(1, t.count + 1)]
            events = [("step", "ok", "", steps[0], 1), ("status", "RUNNING", "", "RUNNING", None),
                      ("line", "started", "", f"PLAY [{run.service_name} · {template.title}]", None)]
            for number in range(2, reached + 1):
                events.append(("task", "started", "", f"TASK [Step {number}: {steps[number - 1]}]", None))
                events += [("line", "changed", h, f"changed: [{h}]", None) for h in hosts]
                events.append(("step", "ok", "", steps[number - 1], number))
            error = (run.details or {}).get("error", {}).get("message", "")
            if run.status == "FAILED":
                events.append(("line", "failed", hosts[0], f"fatal: [{hosts[0]}]: FAILED! => {error}", None))
            events.append(("status", run.status, "", error or run.status, None))
            for i, (kind, result, host, text, step) in enumerate(events):
                session.add(ProvisionEventRow(run_id=run.id, kind=kind, result=result, host=host, text=text, step=step,
                                              at=at + timedelta(seconds=2 * i)))
            details = dict(run.details or {})
            details["progress"] = {"step": reached, "total": len(steps)}
            details.setdefault("config", {})["steps"] = list(steps)
            run.details = details

    await ctx.store.run(go)
