"""The Maintenance screen (seed 003): health, backups per kind (backup now, restore with
the file name typed to confirm, retention cleanup), integrity check, WAL checkpoint,
ANALYZE, the DB watcher (run once, or a daemon in this app) with its log, and the
year-end rollover wizard. The work is done by `jumpdeck.core.maintenance`; keys the actor may not
use are shown disabled, with the reason under `?`."""

from __future__ import annotations

import asyncio
import time

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Log, ProgressBar, Static

from jumpdeck.core.identity import Operation, can, denial
from jumpdeck.tui.plain import cells
from jumpdeck.tui.screens.base import JumpdeckScreen
from jumpdeck.tui.styles import stylesheet

STAFF_ACTIONS = {"backup", "cleanup", "integrity", "checkpoint", "analyze", "watch_once", "daemon"}
ADMIN_ACTIONS = {"restore": Operation.RESTORE, "rollover": Operation.ARCHIVE_ROLLOVER}


class MaintenanceScreen(JumpdeckScreen):
    TITLE = "Maintenance"
    CSS_PATH = stylesheet(__package__, "maintenance.tcss")
    BINDINGS = [
        Binding("b", "backup", "Backup now", id="maintenance.backup"),
        Binding("r", "restore", "Restore", id="maintenance.restore"),
        Binding("c", "cleanup", "Cleanup", id="maintenance.cleanup"),
        Binding("i", "integrity", "Integrity", id="maintenance.integrity"),
        Binding("k", "checkpoint", "Checkpoint", id="maintenance.checkpoint"),
        Binding("a", "analyze", "ANALYZE", id="maintenance.analyze"),
        Binding("w", "watch_once", "Watcher once", id="maintenance.watch_once"),
        Binding("d", "daemon", "Watcher daemon", id="maintenance.daemon"),
        Binding("o", "rollover", "Rollover", id="maintenance.rollover"),
        Binding("f5", "reload", "Refresh", id="maintenance.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.backups: list = []
        self.busy: str | None = None  # the one operation running, for running_work()
        self._daemon_stop: asyncio.Event | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="mt-top"):
            yield Static("", id="mt-health", markup=False)
            with Vertical(id="mt-watcher"):
                yield Static("", id="mt-watcher-state", markup=False)
                yield Log(id="mt-watcher-log", max_lines=200)
        yield Static("Backups", id="mt-backups-title")
        yield DataTable(id="mt-backups", cursor_type="row", zebra_stripes=True)
        yield ProgressBar(id="mt-progress", show_eta=False)
        yield Log(id="mt-results", max_lines=500)

    def on_mount(self) -> None:
        self.query_one("#mt-health").border_title = "Health"
        self.query_one("#mt-watcher").border_title = "DB watcher"
        table = self.query_one("#mt-backups", DataTable)
        table.add_column("Backup", key="name", width=34)
        table.add_column("Kind", key="kind", width=13)
        table.add_column("Size", key="size", width=10)
        table.add_column("Age", key="age", width=6)
        table.add_column("Verified", key="verified", width=8)
        self.query_one("#mt-progress").display = False
        table.focus()
        self.reload()

    # ------------------------------------------------------------------ state
    @work(exclusive=True, group="maintenance-load")
    async def reload(self) -> None:
        from jumpdeck.core.maintenance import backup, watcher
        from jumpdeck.core.maintenance.health import check_health

        health = await check_health(self.ctx)
        self.backups = await asyncio.to_thread(backup.list_backups, self.ctx.config)
        settings = await self.ctx.settings.get()
        state = await asyncio.to_thread(watcher.read_state, self.ctx.config)
        log_lines = await asyncio.to_thread(watcher.tail_log, self.ctx.config, 40)
        self._show_health(health)
        self._show_backups(settings)
        self._show_watcher(state, settings.get("watcher_interval"))
        log = self.query_one("#mt-watcher-log", Log)
        log.clear()
        log.write_lines(log_lines)
        self.refresh_bindings()

    def _show_health(self, health) -> None:  # noqa: ANN001
        from jumpdeck.core.maintenance.health import hours_ago as hours

        # What is wrong comes right after the status: on a short terminal the panel is
        # cut from the bottom.
        lines = [
            f"status      {health.status.upper()}",
            *(f"! {reason}" for reason in health.reasons),
            f"store       {health.database}",
            f"live DB     {'-' if health.db_size_mb is None else f'{health.db_size_mb:,.2f} MB'}",
            f"archive     {health.archive_db}" + (f" ({', '.join(map(str, health.archive_years))})" if health.archive_years else ""),
            f"disk free   {health.disk_free_gb:,.1f} GB",
            f"rollup      {health.rollup.short()}",
            f"last backup {hours(health.last_backup_age_hours)}",
            f"watcher     {hours(health.watcher_last_run_age_hours)}",
        ]
        panel = self.query_one("#mt-health", Static)
        panel.update("\n".join(lines))
        panel.set_class(not health.ok, "degraded")

    def _show_backups(self, settings) -> None:  # noqa: ANN001
        from jumpdeck.core.maintenance.backup import RETENTION_KEYS, human_age, human_size

        table = self.query_one("#mt-backups", DataTable)
        row = table.cursor_row
        table.clear()
        now = time.time()
        for b in self.backups:
            table.add_row(*cells([b.name, b.label, human_size(b.size), human_age(b.age_seconds(now)), "yes" if b.verified else "NO"]),
                          key=b.name)
        if self.backups:
            table.move_cursor(row=min(max(row, 0), len(self.backups) - 1))
        counts = []
        for kind in ("live", "archive", "store"):
            n = sum(1 for b in self.backups if b.kind == kind)
            counts.append(f"{kind} {n} (keeps {settings.get(RETENTION_KEYS[kind])})")
        self.query_one("#mt-backups-title", Static).update("Backups: " + " · ".join(counts))

    def _show_watcher(self, state: dict, interval: int) -> None:
        daemon = f"daemon: on, every {interval} s (d stops)" if self._daemon_stop else "daemon: off (d starts)"
        last = state.get("last_run_ts")
        analyzed = state.get("last_analyze_ts")
        self.query_one("#mt-watcher-state", Static).update(
            f"{daemon}\n"
            f"run {time.strftime('%m-%d %H:%M:%S', time.localtime(last)) if last else 'never'}"
            f" · ANALYZE {time.strftime('%m-%d %H:%M', time.localtime(analyzed)) if analyzed else 'never'}")

    def result(self, line: str) -> None:
        self.query_one("#mt-results", Log).write_line(f"{time.strftime('%H:%M:%S')} {line}")

    def _progress(self, total: float | None = None, progress: float | None = None, *, hide: bool = False) -> None:
        bar = self.query_one("#mt-progress", ProgressBar)
        bar.display = not hide
        if not hide:
            bar.update(total=total, progress=progress)

    # ------------------------------------------------------------ permissions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in STAFF_ACTIONS and not can(self.ctx.actor, Operation.RUN_BACKUP):
            return None
        if action in ADMIN_ACTIONS and not can(self.ctx.actor, ADMIN_ACTIONS[action]):
            return None
        return True

    def disabled_reason(self, action: str) -> str | None:
        if action in STAFF_ACTIONS:
            return denial(self.ctx.actor, Operation.RUN_BACKUP)
        if action in ADMIN_ACTIONS:
            return denial(self.ctx.actor, ADMIN_ACTIONS[action])
        return None

    def copy_text(self) -> str | None:
        selected = self._selected()
        return str(selected.path) if selected else None

    def running_work(self) -> list[str]:
        work_items = [self.busy] if self.busy else []
        if self._daemon_stop is not None:
            work_items.append("the DB watcher daemon")
        return work_items

    def _selected(self):  # noqa: ANN202
        table = self.query_one("#mt-backups", DataTable)
        if 0 <= table.cursor_row < len(self.backups):
            return self.backups[table.cursor_row]
        return None

    def _start(self, label: str) -> bool:
        if self.busy:
            self.notify(f"Wait: {self.busy} is running.", severity="warning")
            return False
        self.busy = label
        return True

    # ---------------------------------------------------------------- actions
    def action_reload(self) -> None:
        self.reload()

    def action_backup(self) -> None:
        if self._start("a backup"):
            self.run_backup(cleanup=False)

    def action_cleanup(self) -> None:
        if self._start("the backup cleanup"):
            self.run_backup(cleanup=True)

    @work(exclusive=True, group="maintenance-op")
    async def run_backup(self, cleanup: bool) -> None:
        from jumpdeck.core.errors import JumpdeckError
        from jumpdeck.core.maintenance import backup

        try:
            removed = 0
            async for event in backup.run_backup(self.ctx, cleanup_only=cleanup):
                if isinstance(event, backup.BackupProgress):
                    self._progress(event.total_pages, event.copied_pages)
                    continue
                removed += isinstance(event, (backup.BackupRemoved, backup.BackupSwept))
                line = backup.describe(event)
                if line:
                    self.result(line)
            if cleanup and not removed:
                self.result("cleanup: every kind is within its retention; nothing removed")
        except JumpdeckError as error:
            self.result(f"backup: {error}")
        finally:
            self.busy = None
            self._progress(hide=True)
            self.reload()

    def action_restore(self) -> None:
        from jumpdeck.core.errors import JumpdeckError
        from jumpdeck.core.maintenance.restore import target_for
        from jumpdeck.tui.screens.maintenance_dialogs import RestoreDialog

        selected = self._selected()
        if selected is None:
            self.notify("Select a backup first.", severity="warning")
            return
        try:
            target = target_for(self.ctx.config, selected.path)
        except JumpdeckError as error:
            self.notify(str(error), severity="warning", timeout=8)
            return

        def answer(confirmed: bool | None) -> None:
            if confirmed and self._start(f"the restore of {target.name}"):
                self.run_restore(selected.name)

        self.app.push_screen(RestoreDialog(selected.name, target.name), answer)

    @work(exclusive=True, group="maintenance-op")
    async def run_restore(self, name: str) -> None:
        from jumpdeck.core.maintenance.restore import restore

        try:
            result = await self.call_core(lambda: restore(self.ctx, name))
            if result is not None:
                kept = f"; previous kept as {result.broken.name}" if result.broken else ""
                self.result(f"restore: {result.target.name} restored from {name} (integrity_check ok){kept}")
                if result.warning():
                    self.result(f"restore: warning: {result.warning()}")
        finally:
            self.busy = None
            self.reload()

    def action_integrity(self) -> None:
        if self._start("the integrity check"):
            self.run_integrity()

    @work(exclusive=True, group="maintenance-op")
    async def run_integrity(self) -> None:
        from jumpdeck.core.errors import JumpdeckError
        from jumpdeck.core.maintenance import checks

        try:
            seen = 0
            async for event in checks.integrity(self.ctx):
                if isinstance(event, checks.FileStarted):
                    self._progress(event.total, event.index)
                    self.result(f"integrity: checking {event.path.name} ({event.index + 1}/{event.total}) …")
                else:
                    seen += 1
                    rows = f", {event.rows:,} rows" if event.rows is not None else ""
                    self.result(f"integrity: {event.path.name}: {event.verdict}{rows} ({event.seconds:.2f} s)")
            if not seen:
                self.result("integrity: no production DB files to check")
        except JumpdeckError as error:
            self.result(f"integrity: {error}")
        finally:
            self.busy = None
            self._progress(hide=True)

    def action_checkpoint(self) -> None:
        if self._start("the WAL checkpoint"):
            self.run_checkpoint()

    @work(exclusive=True, group="maintenance-op")
    async def run_checkpoint(self) -> None:
        from jumpdeck.core.maintenance import checks
        from jumpdeck.core.maintenance.backup import human_size

        try:
            results = await self.call_core(lambda: checks.checkpoint_all(self.ctx))
            for r in results or []:
                self.result(f"checkpoint: {r.path.name}: WAL checkpoint complete ({human_size(r.wal_before)} WAL before)"
                            + (", readers kept part of it" if r.busy else ""))
            if results == []:
                self.result("checkpoint: no production DB files")
        finally:
            self.busy = None

    def action_analyze(self) -> None:
        if self._start("ANALYZE"):
            self.run_watcher(force=True)

    def action_watch_once(self) -> None:
        if self._start("the watcher"):
            self.run_watcher(force=False)

    @work(exclusive=True, group="maintenance-op")
    async def run_watcher(self, force: bool) -> None:
        from jumpdeck.core.maintenance import watcher

        try:
            report = await self.call_core(lambda: watcher.run_once(self.ctx, force_analyze=force))
            if report is not None:
                self._watcher_report(report)
        finally:
            self.busy = None
            self.reload()

    def _watcher_report(self, report) -> None:  # noqa: ANN001
        if report.lines:
            self.query_one("#mt-watcher-log", Log).write_lines(report.lines)
        parts = []
        if report.healed:
            parts.append("healed " + "; ".join(f"{k}: {', '.join(v)}" for k, v in report.healed.items()))
        if report.analyzed:
            parts.append("ANALYZE OK on " + ", ".join(report.analyzed))
        if report.checkpointed:
            parts.append("WAL checkpoint on " + ", ".join(report.checkpointed))
        parts += report.problems
        self.result(f"watcher: {'; '.join(parts) or 'nothing to do'} ({report.seconds * 1000:.0f} ms)")

    def action_daemon(self) -> None:
        if self._daemon_stop is not None:
            self._daemon_stop.set()
            self.result("watcher: stopping the daemon")
            return
        self._daemon_stop = asyncio.Event()
        self.run_daemon(self._daemon_stop)

    @work(group="maintenance-daemon")
    async def run_daemon(self, stop: asyncio.Event) -> None:
        from jumpdeck.core.errors import JumpdeckError
        from jumpdeck.core.maintenance import watcher

        interval = (await self.ctx.settings.get()).get("watcher_interval")
        self.result(f"watcher: daemon started, every {interval} s")
        try:
            async for report in watcher.run_daemon(self.ctx, interval, stop=stop):
                self._watcher_report(report)
                self.reload()
        except JumpdeckError as error:
            self.result(f"watcher: {error}")
        finally:
            self._daemon_stop = None
            self.result("watcher: daemon stopped")
            self.reload()

    def action_rollover(self) -> None:
        from jumpdeck.tui.screens.maintenance_dialogs import RolloverWizard

        def closed(done: bool | None) -> None:
            if done:
                self.result("rollover: complete; see the activity log for the counts")
            self.reload()

        self.app.push_screen(RolloverWizard(), closed)
