"""Health (seed 003 `/healthz`): one verdict, `ok` or `degraded`, with the reasons.

Figures: store reachable, production DB size, archive available, disk free (degraded
under 5 GB), the production query cache's fill when the Charts layer offers one, the
age of the last good live backup and the watcher's last run.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from core.maintenance import locks
from core.maintenance.backup import last_good_backup
from core.maintenance.sqlite_files import connect
from core.maintenance.watcher import read_state
from core.production import schema

if TYPE_CHECKING:
    from core.context import Context

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
    cache: dict[str, int] | None
    last_backup_age_hours: float | None
    watcher_last_run_age_hours: float | None
    running: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def cache_fill() -> dict[str, int] | None:
    """The Charts layer's query cache {size, maxsize}, when it offers `cache_stats()`."""
    try:
        from core.production import query  # type: ignore[attr-defined]
    except ImportError:
        return None
    stats = getattr(query, "cache_stats", None)
    try:
        return dict(stats()) if stats else None
    except Exception:
        return None


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


async def check_health(ctx: Context, *, min_free_gb: float = MIN_FREE_GB) -> Health:
    import asyncio

    config = ctx.config
    reasons: list[str] = []
    try:
        from sqlalchemy import text

        await asyncio.wait_for(ctx.store.run(lambda s: s.execute(text("SELECT 1")).scalar()), timeout=5)
        database = "connected"
        if ctx.store.degraded:
            reasons.append(f"store fell back to local SQLite: {ctx.store.degraded_reason}")
    except Exception as exc:  # any failure of the store is the verdict, not a crash
        database = f"error: {type(exc).__name__}"
        reasons.append(f"store unreachable ({type(exc).__name__})")
    settings = await ctx.settings.get() if database == "connected" else None

    def files() -> tuple[float | None, str, list[int], list[str]]:
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
        return size, archive, years, found

    size, archive, years, found = await asyncio.to_thread(files)
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
    from core.maintenance.rollover import pending_rollover

    pending = pending_rollover(config)
    if pending:
        reasons.append(f"an archive rollover to {pending} was interrupted; run `jumpdeck archive rollover --year {pending}` to finish it")
    return Health(
        status="ok" if not reasons else "degraded",
        reasons=reasons,
        database=database,
        db_size_mb=size,
        archive_db=archive,
        archive_years=years,
        disk_free_gb=free_gb,
        cache=cache_fill(),
        last_backup_age_hours=_hours(backup_age),
        watcher_last_run_age_hours=_hours(watcher_age),
        running=[h.sentence() for h in locks.running(config)],
    )
