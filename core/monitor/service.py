"""CPU, memory and disk of an actor's resources, as one snapshot per refresh.

A refresh costs a fixed number of requests whatever the fleet's size: one PromQL query
per metric covers every visible instance with a regex matcher on the `instance` label
(3 instant queries). With `history=True` (the screen's sparklines) one range query per
metric reads the last hour on a 2-minute grid; it runs again only when the grid moved
on or the set of instances changed, so most refreshes stay at 3 requests.
"""

from __future__ import annotations

import asyncio
import enum
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

from jumpdeck.core.monitor.prometheus import (
    SET_URL_REMEDY,
    PrometheusClient,
    PrometheusError,
    PrometheusProblem,
    instance_regex,
    redact_url,
)
from jumpdeck.core.monitor.resources import Resource, list_resources

if TYPE_CHECKING:
    from jumpdeck.core.context import Context
    from jumpdeck.core.settings import Settings

HISTORY_SECONDS = 3600
HISTORY_STEP = 120  # 31 points an hour: as wide as a sparkline cell, and light for 1,000 VMs
EMPTY_HOUR: tuple[None, ...] = (None,) * (HISTORY_SECONDS // HISTORY_STEP + 1)
RATE_WINDOW = "2m"  # at least two scrapes at the usual 15-60 s intervals

# One query per metric; `{match}` becomes the instance matcher for every visible VM.
# `by (instance)` on both sides lets the division match one series per VM even when the
# exporter carries other labels (job, device...).
METRIC_QUERIES: dict[str, str] = {
    "cpu": '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{{mode="idle",{match}}}[' + RATE_WINDOW + "])))",
    "mem": "100 * (1 - max by (instance) (node_memory_MemAvailable_bytes{{{match}}})"
           " / max by (instance) (node_memory_MemTotal_bytes{{{match}}}))",
    "disk": '100 * (1 - max by (instance) (node_filesystem_avail_bytes{{mountpoint="/",{match}}})'
            ' / max by (instance) (node_filesystem_size_bytes{{mountpoint="/",{match}}}))',
}
METRIC_NAMES = {"cpu": "CPU", "mem": "memory", "disk": "disk"}


class Level(str, enum.Enum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    NO_DATA = "no_data"  # Prometheus answered, but has no series for this VM
    UNREACHABLE = "unreachable"  # Prometheus itself could not be read
    UNKNOWN = "unknown"  # not asked: no URL configured, or an unusable instance template

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


# Worst first: a critical VM above a warning one above one that went silent.
SEVERITY = {Level.CRITICAL: 4, Level.WARNING: 3, Level.UNREACHABLE: 2, Level.UNKNOWN: 2, Level.NO_DATA: 1, Level.OK: 0}


@dataclass(frozen=True)
class Thresholds:
    warning: float = 80.0
    critical: float = 95.0

    def level(self, value: float | None) -> Level:
        if value is None:
            return Level.NO_DATA
        if value >= self.critical:
            return Level.CRITICAL
        if value >= self.warning:
            return Level.WARNING
        return Level.OK


@dataclass(frozen=True)
class Reading:
    """One metric of one VM: the current percentage and the last hour, oldest first
    (31 points on the 2-minute grid, then the current value; empty without history)."""

    value: float | None
    level: Level
    history: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class ResourceStatus:
    resource: Resource
    instance: str  # the instance label looked up
    cpu: Reading
    mem: Reading
    disk: Reading
    state: Level

    @property
    def key(self) -> str:
        return self.resource.key

    def readings(self) -> dict[str, Reading]:
        return {"cpu": self.cpu, "mem": self.mem, "disk": self.disk}

    def worst_value(self) -> float:
        return max((r.value for r in (self.cpu, self.mem, self.disk) if r.value is not None), default=-1.0)

    def as_dict(self) -> dict[str, Any]:
        """The CLI's JSON object (and a script's view of a row)."""
        r = self.resource
        return {"vm_name": r.vm_name, "ip": r.ip, "run_id": r.run_id, "service": r.service, "role": r.role,
                "owner": r.owner, "instance": self.instance,
                "cpu_pct": _round(self.cpu.value), "mem_pct": _round(self.mem.value), "disk_pct": _round(self.disk.value),
                "state": self.state.value}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass(frozen=True)
class MonitorSnapshot:
    rows: tuple[ResourceStatus, ...]
    url: str | None  # redacted; None when not configured
    url_origin: str  # "config" or "settings" or ""
    problem: PrometheusProblem | None
    message: str  # one sentence describing the state as a whole
    remedy: str | None
    thresholds: Thresholds
    taken_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    requests: int = 0
    elapsed_ms: float = 0.0
    refresh_seconds: int = 15  # setting monitor_refresh, for the screen's next poll

    @property
    def healthy(self) -> bool:
        """True when Prometheus was read and every resource is ok (the CLI's exit 0)."""
        return self.problem is None and all(row.state is Level.OK for row in self.rows)

    def counts(self) -> dict[Level, int]:
        out = {level: 0 for level in Level}
        for row in self.rows:
            out[row.state] += 1
        return out


def sort_worst_first(rows: list[ResourceStatus]) -> list[ResourceStatus]:
    return sorted(rows, key=lambda r: (-SEVERITY[r.state], -r.worst_value(), r.resource.vm_name, r.key))


class InstanceTemplateError(ValueError):
    pass


def instance_label(template: str, resource: Resource) -> str:
    """The node_exporter `instance` label of a VM (setting `prometheus_instance`)."""
    try:
        return template.format(ip=resource.ip, vm_name=resource.vm_name, host=resource.ip)
    except (KeyError, IndexError, ValueError) as exc:
        raise InstanceTemplateError(str(exc)) from None


def resolve_url(config_url: str | None, settings: Settings) -> tuple[str | None, str]:
    """Config (file, JUMPDECK_PROMETHEUS_URL, flag) wins over the shared settings row:
    a jump host may need its own route to Prometheus."""
    if config_url:
        return config_url, "config"
    setting = settings.get("prometheus_url")
    if setting and str(setting).strip():
        return str(setting).strip(), "settings"
    return None, ""


class MonitorService:
    """Reads snapshots for one context. Keep one per screen: it reuses its HTTP client."""

    def __init__(self, ctx: Context, *, event_hooks: dict[str, list[Callable[..., Any]]] | None = None) -> None:
        self.ctx = ctx
        self._event_hooks = event_hooks
        self._client: PrometheusClient | None = None
        self._lock = asyncio.Lock()  # one refresh at a time: polls never overlap
        self._history_key: tuple[str, float, frozenset[str]] | None = None
        self._histories: dict[str, dict[str, tuple[float | None, ...]]] = {}
        self._queries_key: frozenset[str] | None = None
        self._queries: dict[str, str] = {}

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _client_for(self, url: str, timeout: float) -> PrometheusClient:
        if self._client is not None and (self._client.base_url != url.strip().rstrip("/") or self._client.timeout != timeout):
            await self.aclose()
        if self._client is None:
            self._client = PrometheusClient(url, timeout=timeout, event_hooks=self._event_hooks)
        return self._client

    async def _fetch(self, client: PrometheusClient, instances: frozenset[str], *, history: bool
                     ) -> tuple[dict[str, dict[str, float | None]], dict[str, dict[str, tuple[float | None, ...]]]]:
        """Current values (3 instant queries) and, with `history`, the hour's series.

        History points sit on a fixed grid (multiples of the step), so they only change
        when a step has passed: the 3 range queries run then, or when the set of
        instances changes, and are reused in between."""
        queries = self._queries_for(instances)
        if not history:
            return await _current(client, queries), {m: {} for m in queries}
        end = float(int(time.time()) // HISTORY_STEP * HISTORY_STEP)
        cache_key = (client.base_url, end, instances)
        if self._history_key != cache_key:
            values, histories = await asyncio.gather(_current(client, queries), _history(client, queries, end))
            self._history_key, self._histories = cache_key, histories
        else:
            values = await _current(client, queries)
        return values, self._histories

    def _queries_for(self, instances: frozenset[str]) -> dict[str, str]:
        """The three PromQL queries for a set of instances; the last set's are kept
        (escaping 1,000 labels is 10 ms, and the set rarely changes between refreshes)."""
        if self._queries_key != instances:
            match = f'instance=~"{instance_regex(instances)}"'
            self._queries = {metric: template.format(match=match) for metric, template in METRIC_QUERIES.items()}
            self._queries_key = instances
        return self._queries

    async def resources(self, *, everyone: bool | None = None) -> list[Resource]:
        return await list_resources(self.ctx.store, self.ctx.actor, everyone=everyone)

    async def snapshot(self, *, everyone: bool | None = None, history: bool = False) -> MonitorSnapshot:
        async with self._lock:
            started = time.perf_counter()
            resources = await self.resources(everyone=everyone)
            settings = await self.ctx.settings.get()
            snap = await self._read(resources, settings, history=history)
            return _with_timing(snap, started, int(settings.get("monitor_refresh")))

    async def _read(self, resources: list[Resource], settings: Settings, *, history: bool) -> MonitorSnapshot:
        thresholds = Thresholds(float(settings.get("monitor_warning_pct")), float(settings.get("monitor_critical_pct")))
        url, origin = resolve_url(self.ctx.config.prometheus_url, settings)
        template = str(settings.get("prometheus_instance") or "{ip}:9100")

        def failed(problem: PrometheusProblem, message: str, remedy: str | None, display_url: str | None,
                   level: Level = Level.UNREACHABLE, requests: int = 0) -> MonitorSnapshot:
            rows = [ResourceStatus(r, "", Reading(None, level), Reading(None, level), Reading(None, level), level)
                    for r in resources]
            return MonitorSnapshot(tuple(sort_worst_first(rows)), display_url, origin, problem, message, remedy,
                                   thresholds, requests=requests)

        if not resources:
            # Nothing to watch: no request at all, and no need for a URL yet.
            message = "No provisioned resources to watch." if url else "No provisioned resources to watch (Prometheus is not configured)."
            return MonitorSnapshot((), redact_url(url) if url else None, origin, None, message, None, thresholds)
        if url is None:
            return failed(PrometheusProblem.NOT_CONFIGURED, "Prometheus is not configured, so there are no metrics.",
                          SET_URL_REMEDY, None, Level.UNKNOWN)
        try:
            instances = {r.key: instance_label(template, r) for r in resources}
        except InstanceTemplateError as exc:
            return failed(PrometheusProblem.QUERY_ERROR,
                          f"The prometheus_instance setting {template!r} cannot be filled in ({exc}).",
                          "Use {ip} and/or {vm_name}, e.g. `jumpdeck settings set prometheus_instance {ip}:9100`.",
                          redact_url(url), Level.UNKNOWN)
        try:
            client = await self._client_for(url, float(settings.get("monitor_timeout")))
        except PrometheusError as exc:
            return failed(exc.problem, exc.message, exc.remedy, redact_url(url))
        before = client.requests
        try:
            values, histories = await self._fetch(client, frozenset(instances.values()), history=history)
        except PrometheusError as exc:
            return failed(exc.problem, exc.message, exc.remedy, client.display_url, requests=client.requests - before)

        # 1,000 resources x 3 readings is tens of milliseconds of Python: in a thread, the
        # event loop (and a key pressed meanwhile) gets the GIL every few milliseconds.
        rows = await asyncio.to_thread(_statuses, resources, instances, values, histories, thresholds, history)
        silent = sum(1 for row in rows if row.state is Level.NO_DATA)
        message = f"{len(rows)} resource(s) from {client.display_url}"
        message += f"; {silent} with no data (no series for their instance label)." if silent else "."
        remedy = (f"A VM shows no data when Prometheus has no node_exporter series with its instance label "
                  f"(setting prometheus_instance = {template!r}).") if silent else None
        return MonitorSnapshot(tuple(rows), client.display_url, origin, None, message, remedy,
                               thresholds, requests=client.requests - before)


def _statuses(resources: list[Resource], instances: dict[str, str], values: dict[str, dict[str, float | None]],
              histories: dict[str, dict[str, tuple[float | None, ...]]], thresholds: Thresholds,
              history: bool) -> list[ResourceStatus]:
    """Each resource's readings and state, worst first."""
    rows = []
    for resource in resources:
        instance = instances[resource.key]
        readings = {}
        for metric in METRIC_QUERIES:
            value = values[metric].get(instance)
            if value is not None:
                value = min(100.0, max(0.0, value))
            past = histories[metric].get(instance)
            # The sparkline ends with "now": the grid's hour, then the current value.
            line = (past or EMPTY_HOUR) + (value,) if (past or value is not None) and history else ()
            readings[metric] = Reading(value, thresholds.level(value), line)
        present = [r.level for r in readings.values() if r.value is not None]
        state = max(present, key=SEVERITY.__getitem__) if present else Level.NO_DATA
        rows.append(ResourceStatus(resource, instance, readings["cpu"], readings["mem"], readings["disk"], state))
    return sort_worst_first(rows)


def _with_timing(snap: MonitorSnapshot, started: float, refresh_seconds: int) -> MonitorSnapshot:
    from dataclasses import replace

    return replace(snap, elapsed_ms=(time.perf_counter() - started) * 1000, refresh_seconds=refresh_seconds)


async def _current(client: PrometheusClient, queries: dict[str, str]) -> dict[str, dict[str, float | None]]:
    """Each metric's value now, per instance label: one instant query per metric."""
    now = time.time()
    results = await asyncio.gather(*(client.query(q, at=now) for q in queries.values()))
    return {metric: {s.labels.get("instance", ""): s.value for s in samples} for metric, samples in zip(queries, results)}


async def _history(client: PrometheusClient, queries: dict[str, str], end: float
                   ) -> dict[str, dict[str, tuple[float | None, ...]]]:
    """The hour before `end` (a multiple of the step), per metric and instance label."""
    start = end - HISTORY_SECONDS
    results = await asyncio.gather(*(client.query_range(q, start=start, end=end, step=HISTORY_STEP)
                                     for q in queries.values()))
    return await asyncio.to_thread(_slot_histories, queries, results, start)


def _slot_histories(queries: dict[str, str], results: list, start: float) -> dict[str, dict[str, tuple[float | None, ...]]]:
    """Put each series' points on the hour's grid (a thread: 90,000 points for 1,000 VMs)."""
    slots = HISTORY_SECONDS // HISTORY_STEP + 1
    histories: dict[str, dict[str, tuple[float | None, ...]]] = {}
    for metric, series_list in zip(queries, results):
        histories[metric] = {}
        for series in series_list:
            line: list[float | None] = [None] * slots
            for t, v in series.points:
                index = round((t - start) / HISTORY_STEP)
                if 0 <= index < slots:
                    line[index] = None if v is None else min(100.0, max(0.0, v))
            histories[metric][series.labels.get("instance", "")] = tuple(line)
    return histories
