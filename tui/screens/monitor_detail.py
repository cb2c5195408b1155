"""Enter on a Monitor row: the resource's hour of CPU, memory and disk drawn with
plotext, its run's links (ALB, web URL, DB VIP, SSH targets) and how to reach it.
It follows the Monitor screen's refreshes while open."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Static
from textual_plotext import PlotextPlot

if TYPE_CHECKING:
    from jumpdeck.core.monitor.service import ResourceStatus

# config.chart_marker -> plotext marker
MARKERS = {"braille": "braille", "block": "hd", "ascii": "*"}
METRICS = (("cpu", "CPU %"), ("mem", "Memory %"), ("disk", "Root disk %"))


def describe(status: ResourceStatus) -> str:
    r = status.resource
    lines = [
        f"{r.vm_name}  {r.ip}  ·  role {r.role}  ·  state {status.state.label}",
        f"Run {r.run_label} ({r.run_status or 'no run'}) · owner {r.owner or '-'} · pool {r.pool_status or 'not a pool VM'}",
        f"Prometheus instance label: {status.instance or '-'}",
    ]
    links = r.links
    if links.alb_ip:
        lines.append(f"ALB        {links.alb_ip}")
    if links.web_url:
        lines.append(f"Web        {links.web_url}")
    if links.db_vip:
        lines.append(f"DB VIP     {links.db_vip}")
    for target in links.ssh_targets:
        user = f"{target.user}@" if target.user else ""
        lines.append(f"SSH        ssh {'-p ' + str(target.port) + ' ' if target.port != 22 else ''}{user}{target.host}")
    if not links.ssh_targets and r.ssh_user:
        lines.append(f"SSH        ssh {'-p ' + str(r.ssh_port) + ' ' if r.ssh_port != 22 else ''}{r.ssh_user}@{r.ip}")
    return "\n".join(lines)


class ResourceDetailScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close", id="monitor.detail.close"),
                Binding("y", "copy", "Copy IP", id="monitor.detail.copy")]
    DEFAULT_CSS = """
    ResourceDetailScreen { align: center middle; }
    ResourceDetailScreen > Vertical { width: 96%; height: 92%; border: thick $primary; background: $surface; padding: 0 1; }
    ResourceDetailScreen #detail-info { height: auto; padding-bottom: 1; }
    ResourceDetailScreen #detail-charts { height: 1fr; }
    ResourceDetailScreen PlotextPlot { width: 1fr; height: 1fr; min-height: 6; }
    ResourceDetailScreen #detail-foot { color: $text-muted; height: 1; }
    """

    def __init__(self, status: ResourceStatus, *, marker: str = "braille") -> None:
        super().__init__()
        self.status = status
        self.marker = MARKERS.get(marker, "braille")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(describe(self.status), id="detail-info", markup=False)  # names, URLs, owners
            with Horizontal(id="detail-charts"):
                for key, _ in METRICS:
                    yield PlotextPlot(id=f"chart-{key}")
            yield Static("The last hour, one point every 2 minutes · esc closes · y copies the IP", id="detail-foot")

    def on_mount(self) -> None:
        self._draw()

    def update_status(self, status: ResourceStatus | None) -> None:
        """A new snapshot arrived; `None` when the resource left the list."""
        if status is None:
            self.query_one("#detail-foot", Static).update("This resource is no longer in the list (released or out of scope).")
            return
        self.status = status
        self.query_one("#detail-info", Static).update(describe(status))
        self._draw()

    def _draw(self) -> None:
        from jumpdeck.core.monitor.service import HISTORY_SECONDS, HISTORY_STEP

        readings = self.status.readings()
        # Grid points sit on multiples of the step; the last point is "now" (the snapshot).
        lag = (time.time() % HISTORY_STEP) / 60
        for key, title in METRICS:
            plot = self.query_one(f"#chart-{key}", PlotextPlot)
            plt = plot.plt
            plt.clear_data()
            plt.clear_figure()
            reading = readings[key]
            grid = len(reading.history) - 1
            points = [(0.0 if i == grid else -(grid - 1 - i) * HISTORY_STEP / 60 - lag, v)
                      for i, v in enumerate(reading.history) if v is not None]
            now = "no data" if reading.value is None else f"{reading.value:.1f}"
            plt.title(f"{title} · now {now}")
            plt.ylim(0, 100)
            plt.xlim(-HISTORY_SECONDS / 60 - 2, 0)
            plt.xlabel("minutes ago")
            if points:
                plt.plot([p[0] for p in points], [p[1] for p in points], marker=self.marker)
            plot.refresh()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.status.resource.ip)
        self.notify(f"Copied: {self.status.resource.ip}", timeout=3)
