"""Health (seed 003 `/healthz`): one verdict, `ok` or `degraded`, with the reasons.

Figures: store reachable, production DB size, archive available, disk free (degraded
under 5 GB), the Charts rollup's state, the age of the last good live backup and the
watcher's last run.

The Charts query cache lives in the memory of each process (the TUI, every SSH session),
so no other process can report its fill truthfully. What all of them share is the monthly
rollup on disk (`jumpdeck.core.production.rollup`): health says which production files it answers
for (fresh), which changed since it was built (stale: Charts reads their raw rows until the
watcher refreshes it) and how old the oldest build is.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from jumpdeck.core.maintenance import locks
from jumpdeck.core.maintenance.backup import last_good_backup
from jumpdeck.core.maintenance.sqlite_files import connect, production_files
from jumpdeck.core.maintenance.watcher import read_state
from jumpdeck.core.production import schema

if TYPE_CHECKING:
    from jumpdeck.core.context import Context

MIN_FREE_GB = 5.0
WATCHER_STALE_HOURS = 48


@dataclass(frozen=True)
class Health:
    status: str  # "ok" or "degraded"
    reasons: list[str]
    database: str  # "connected" or "error: ..." (the store)
    db_size_mb: float | None
    archive_db: str  # "available", "none" or "error: ..."
    archive_years: list[int]
    disk_free_gb: float
    rollup: "RollupState"
    last_backup_age_hours: float | None
    watcher_last_run_age_hours: float | None
    running: list[str] = field(default_factory=list)
    leftover_bytes: int = 0  # what interrupted backups, restores and rollovers left (see reasons)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RollupState:
    """The Charts monthly rollup against the production files it summarises."""

    fresh: list[str]  # files whose rollup matches them (signature unchanged)
    stale: list[str]  # changed since their rollup was built
    missing: list[str]  # never summed
    oldest_build_age_hours: float | None
    error: str = ""

    def short(self) -> str:
        """At most ~28 characters, for the health panel."""
        if self.error:
            return "unreadable"
        total = len(self.fresh) + len(self.stale) + len(self.missing)
        parts = [f"{len(self.fresh)}/{total} fresh"]
        if self.stale:
            parts.append(f"{len(self.stale)} stale")
        if self.missing:
            parts.append(f"{len(self.missing)} unbuilt")
        return ", ".join(parts) if total else "-"

    def sentence(self) -> str:
        if self.error:
            return f"unreadable ({self.error})"
        total = len(self.fresh) + len(self.stale) + len(self.missing)
        if not total:
            return "no production files"
        text = f"{len(self.fresh)}/{total} files fresh"
        if self.oldest_build_age_hours is not None:
            text += f", oldest built {self.oldest_build_age_hours:.1f} h ago"
        if self.stale:
            text += f"; stale: {', '.join(self.stale)}"
        if self.missing:
            text += f"; not built: {', '.join(self.missing)}"
        return text


def rollup_state(config, now: float | None = None) -> RollupState:  # noqa: ANN001
    """Blocking: one read of the rollup's `sources` table and a stat per production file."""
    from jumpdeck.core.production.rollup import RollupReader, rollup_path

    names = [f.path for f in production_files(config)]
    path = rollup_path(config)
    if not path.exists():
        return RollupState([], [], [p.name for p in names], None)
    fresh, stale, missing, built = [], [], [], []
    try:
        conn = connect(path, readonly=True)
        try:
            built_at = dict(conn.execute("SELECT name, built_at FROM sources").fetchall())
            reader = RollupReader(config)
            for p in names:
                if p.name not in built_at:
                    missing.append(p.name)
                    continue
                built.append(built_at[p.name])
                (fresh if reader.is_valid(conn, p) else stale).append(p.name)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return RollupState([], [], [], None, error=str(exc))
    age = ((now or time.time()) - min(built)) if built else None
    return RollupState(fresh, stale, missing, _hours(age))


def hours_ago(hours: float | None) -> str:
    """An age as the faces show it: "never", or "3.2 h ago"."""
    return "never" if hours is None else f"{hours:.1f} h ago"


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


async def _notify(ctx: Context, reasons: list[str], archive_cutoff_year: int | None) -> None:
    """Whoever looks at health (an operator, cron's `jumpdeck health`) tells the team when
    it is degraded and, in December, that the rollover is due; the notifier's quiet period
    and repeat interval keep a screen refreshing health from sending it again and again."""
    from datetime import datetime, timezone

    from jumpdeck.core.notify.report import health_degraded, report, rollover_needed

    if ctx.store.degraded:  # read-only: nothing could be audited, so nothing is sent
        return
    if reasons:
        await report(ctx.store, ctx.secrets, ctx.actor, health_degraded(reasons))
    due = rollover_needed(datetime.now(timezone.utc).date(), archive_cutoff_year)
    if due is not None:
        await report(ctx.store, ctx.secrets, ctx.actor, due)


async def check_health(ctx: Context, *, min_free_gb: float = MIN_FREE_GB) -> Health:
    import asyncio

    config = ctx.config
    reasons: list[str] = []
    try:
        from sqlalchemy import text

        await asyncio.wait_for(ctx.store.run(lambda s: s.execute(text("SELECT 1")).scalar()), timeout=5)
        database = "connected"
        if ctx.store.degraded:
            reasons.append(f"store is {ctx.store.degraded_reason}")
    except Exception as exc:  # any failure of the store is the verdict, not a crash
        database = f"error: {type(exc).__name__}"
        reasons.append(f"store unreachable ({type(exc).__name__})")
    settings = await ctx.settings.get() if database == "connected" else None

    def files() -> tuple[float | None, str, list[int], list[str], RollupState]:
        found: list[str] = []
        live = schema.live_db_path(config)
        size = None
        if live.exists():
            size = round(live.stat().st_size / 1e6, 2)
            try:
                conn = connect(live, readonly=True)
                conn.execute("SELECT 1").fetchone()
                conn.close()
            except Exception as exc:
                found.append(f"live DB cannot be opened ({exc})")
        else:
            found.append(f"live DB {live.name} is missing")
        years = schema.archive_years(config)
        archive = "none"
        if years:
            try:
                conn = connect(schema.archive_db_path(config, years[-1]), readonly=True)
                conn.execute(f"SELECT 1 FROM {schema.TABLE} LIMIT 1").fetchall()
                conn.close()
                archive = "available"
            except Exception as exc:
                archive = f"error: {exc}"
                found.append(f"archive {years[-1]} cannot be read ({exc})")
        return size, archive, years, found, rollup_state(config)

    size, archive, years, found, rollup = await asyncio.to_thread(files)
    reasons += found
    free_gb = round(shutil.disk_usage(config.home if config.home.exists() else "/").free / 1e9, 2)
    if free_gb < min_free_gb:
        reasons.append(f"disk free {free_gb} GB is under {min_free_gb:g} GB")
    now = time.time()
    backup = last_good_backup(config, "live")
    backup_age = backup.age_seconds(now) if backup else None
    max_age_h = settings.get("backup_max_age_hours") if settings else 48
    if size is not None:
        if backup_age is None:
            reasons.append("no verified backup of the live DB")
        elif backup_age > max_age_h * 3600:
            reasons.append(f"last live backup is {backup_age / 3600:.0f} h old (limit {max_age_h} h)")
    state = read_state(config)
    last_run = state.get("last_run_ts")
    watcher_age = now - last_run if last_run else None
    if size is not None:
        if watcher_age is None:
            reasons.append("the DB watcher has never run")
        elif watcher_age > WATCHER_STALE_HOURS * 3600:
            reasons.append(f"the DB watcher last ran {watcher_age / 3600:.0f} h ago")
    from jumpdeck.core.maintenance import leftovers
    from jumpdeck.core.maintenance.rollover import RolloverFailed, journal_path, read_journal

    try:
        journal = read_journal(config)
    except RolloverFailed:
        reasons.append(f"the rollover journal {journal_path(config).name} is damaged; run `jumpdeck integrity`, then move it away")
    else:
        if journal is not None:
            pending = journal["year"]
            reasons.append(f"an archive rollover to {pending} was interrupted; run `jumpdeck archive rollover --year {pending}` to finish it")
    left = await asyncio.to_thread(leftovers.find_leftovers, config)
    if left:
        reasons.append(leftovers.sentence(left))
    await _notify(ctx, reasons, settings.get("archive_cutoff_year") if settings else None)
    return Health(
        status="ok" if not reasons else "degraded",
        reasons=reasons,
        database=database,
        db_size_mb=size,
        archive_db=archive,
        archive_years=years,
        disk_free_gb=free_gb,
        rollup=rollup,
        last_backup_age_hours=_hours(backup_age),
        watcher_last_run_age_hours=_hours(watcher_age),
        running=[h.sentence() for h in locks.running(config)],
        leftover_bytes=sum(item.size for item in left),
    )
