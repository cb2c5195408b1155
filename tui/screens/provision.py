"""The Provision screen: run history on top, the selected run's live view below.

The run view replays a run's persisted events and follows it while it goes, from any
jumpdeck process (the run itself lives in a detached worker). Keys: a new run, enter
open, f follow, / find, n/N next/previous match, & filter lines (like less), t
timestamps, w wrap, ctrl+s save, c cancel, d tear down — the last two ask first,
naming the run.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Select, Static

from jumpdeck.core.identity import Operation, can, denial
from jumpdeck.core.provision.events import LIVE_STATUSES, RunEvent
from jumpdeck.core.provision.service import ProvisionService, RunInfo
from jumpdeck.core.provision.templates import TEMPLATES
from jumpdeck.tui.plain import cells
from jumpdeck.tui.screens.base import JumpdeckScreen
from jumpdeck.tui.widgets.run_log import RunLog
from jumpdeck.tui.styles import stylesheet

STAFF_ACTIONS = {"new_run", "cancel_run", "teardown", "trust_key", "delete_run"}
# The worst result a host has had wins its status word.
_RANK = {"": 0, "started": 0, "skipped": 1, "ok": 2, "changed": 3, "unreachable": 4, "failed": 5}
_STATUS_STYLE = {"COMPLETED": "green", "FAILED": "red", "CANCELED": "yellow", "RUNNING": "cyan", "PENDING": "cyan"}


def _host_style(result: str) -> str:
    return "red" if result in ("failed", "unreachable") else "yellow" if result == "changed" else "green"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else f"{seconds // 60}:{seconds % 60:02d}"


class NewRunDialog(ModalScreen[RunInfo | None]):
    """Template picker with a summary of what it creates, name, packages, runner, target.
    Start calls `start` here: a refusal ("the pool has only 0 available") is shown in the
    dialog, which stays open with what was typed."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    NewRunDialog { align: center middle; }
    NewRunDialog > Vertical { width: 76; max-width: 98%; height: auto; max-height: 100%; border: thick $primary; background: $surface; padding: 0 1; }
    NewRunDialog Input { margin-bottom: 1; }
    NewRunDialog .title { text-style: bold; padding-bottom: 1; }
    NewRunDialog #nr-summary { color: $text-muted; height: auto; padding-bottom: 1; }
    NewRunDialog #nr-notice, NewRunDialog #nr-error { color: $error; height: auto; }
    NewRunDialog Label { padding-top: 1; }
    NewRunDialog Horizontal { height: auto; align: right middle; }
    NewRunDialog #nr-buttons { padding-top: 1; }
    NewRunDialog Button { margin-left: 1; }
    """

    def __init__(self, *, runner: str, start: Callable[[dict], Awaitable[RunInfo]], notice: str = "") -> None:
        super().__init__()
        self.default_runner = runner
        self.notice = notice
        self.start = start

    def compose(self) -> ComposeResult:
        blink = self.app.config.cursor_blink
        with Vertical():
            yield Static("New provisioning run", classes="title")
            yield Static(self.notice, id="nr-notice", markup=False)
            # Compact fields (one row each): at 80x24 the whole dialog, buttons included, fits.
            yield Select([(f"{t.title} ({t.name}, {t.vm_count} VM)", t.name) for t in TEMPLATES.values()],
                         value="single", allow_blank=False, id="nr-template", compact=True)
            yield Static("", id="nr-summary")
            name = Input(placeholder="service name (lowercase, digits, -)", id="nr-name", compact=True)
            packages = Input(placeholder="packages, comma separated (optional)", id="nr-packages", compact=True)
            name.cursor_blink = packages.cursor_blink = blink
            yield name
            yield packages
            with Horizontal():
                yield Select([("Ansible runner", "ansible"), ("Mock runner", "mock")], value=self.default_runner,
                             allow_blank=False, id="nr-runner", compact=True)
                yield Select([("VM pool over SSH", "pool"), ("this machine", "local"), ("no VMs (mock)", "none")],
                             value="pool" if self.default_runner == "ansible" else "none", allow_blank=False,
                             id="nr-target", compact=True)
            yield Static("", id="nr-error", markup=False)  # a refusal's own words
            with Horizontal(id="nr-buttons"):
                yield Button("Cancel", id="nr-cancel", compact=True)
                yield Button("Start", id="nr-start", variant="primary", disabled=bool(self.notice), compact=True)

    def on_mount(self) -> None:
        self.query_one("#nr-notice", Static).display = bool(self.notice)
        self.query_one("#nr-error", Static).display = False  # until there is something to say
        self._show_summary("single")
        self.query_one("#nr-name", Input).focus()

    @on(Select.Changed, "#nr-template")
    def _template_changed(self, event: Select.Changed) -> None:
        self._show_summary(str(event.value))

    def _show_summary(self, name: str) -> None:
        t = TEMPLATES[name]
        steps = " → ".join(t.steps)
        self.query_one("#nr-summary", Static).update(f"{t.summary}\nSteps: {steps}")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "nr-start":
            self._start()
        else:
            self.dismiss(None)

    def _start(self) -> None:
        if self.notice:
            return
        from jumpdeck.core.errors import ValidationError
        from jumpdeck.core.provision.service import validate_name

        raw = self.query_one("#nr-name", Input).value
        try:
            name = validate_name(raw)
        except ValidationError as error:
            self.notify(str(error), title=error.title, severity="error")
            return
        packages = [p.strip() for p in self.query_one("#nr-packages", Input).value.split(",") if p.strip()]
        self._call_start({"template": self.query_one("#nr-template", Select).value, "name": name, "packages": packages,
                          "runner": self.query_one("#nr-runner", Select).value,
                          "target": self.query_one("#nr-target", Select).value})

    @work(exclusive=True, group="new-run")
    async def _call_start(self, answer: dict) -> None:
        from jumpdeck.core.errors import JumpdeckError

        error = self.query_one("#nr-error", Static)
        error.display = True
        button = self.query_one("#nr-start", Button)
        error.update("Starting…")
        button.disabled = True
        try:
            info = await self.start(answer)
        except JumpdeckError as exc:
            error.update(str(exc))
            button.disabled = False
            return
        self.dismiss(info)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ProvisionScreen(JumpdeckScreen):
    TITLE = "Provision"
    CSS_PATH = stylesheet(__package__, "provision.tcss")
    HELP_EXTRA = [("enter", "Open the selected run's log")]  # handled as the table's row selection
    BINDINGS = [
        Binding("a", "new_run", "New run", id="provision.new"),
        Binding("enter", "open_run", "Open", show=False, id="provision.open"),
        Binding("f", "toggle_follow", "Follow", id="provision.follow"),
        Binding("slash", "find", "Find", key_display="/", id="provision.find"),
        Binding("n", "next_match", "Next", show=False, id="provision.next"),
        Binding("N", "prev_match", "Prev", show=False, id="provision.prev"),
        Binding("ampersand", "filter", "Filter", key_display="&", id="provision.filter"),
        Binding("t", "timestamps", "Times", id="provision.timestamps"),
        Binding("w", "wrap", "Wrap", id="provision.wrap"),
        Binding("ctrl+s", "save", "Save", id="provision.save"),
        Binding("c", "cancel_run", "Cancel run", id="provision.cancel"),
        Binding("d", "teardown", "Tear down", id="provision.teardown"),
        Binding("D", "delete_run", "Delete run", show=False, id="provision.delete"),
        Binding("k", "trust_key", "Trust key", id="provision.trust_key"),
        Binding("s", "ssh", "SSH", id="provision.ssh"),
        Binding("r", "reload", "Reload", id="provision.reload"),
        Binding("h", "history_filter", "History filter", show=False, id="provision.history_filter"),
        Binding("tab", "switch_pane", "Pane", show=False, id="provision.pane"),
        Binding("escape", "close_prompt", "Close or clear", show=False, id="provision.escape"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[RunInfo] = []
        self.current: RunInfo | None = None
        self.host_status: dict[str, str] = {}
        self.prompt_mode = ""  # "find" or "filter" while the prompt is open
        self._history_filter = ""
        self._tearing_down: set[int] = set()

    @property
    def service(self) -> ProvisionService:
        return ProvisionService(self.ctx.store, self.ctx.config, self.ctx.settings)

    def compose_body(self) -> ComposeResult:
        with Vertical(id="pv-history"):
            flt = Input(placeholder="filter history: name, template, status, user", id="pv-history-filter", compact=True)
            flt.cursor_blink = self.app.config.cursor_blink
            yield flt
            yield DataTable(id="pv-runs", cursor_type="row", zebra_stripes=True)
        with Vertical(id="pv-run"):
            yield Static("No run open. Select one and press enter, or press a for a new run.", id="pv-title")
            with Horizontal(id="pv-progress-row"):
                yield ProgressBar(total=1, show_eta=False, show_percentage=False, id="pv-progress")
                yield Static("", id="pv-step", markup=False)
            yield Static("", id="pv-hosts")
            yield RunLog(id="pv-log")
            prompt = Input(placeholder="", id="pv-prompt", compact=True)
            prompt.cursor_blink = self.app.config.cursor_blink
            yield prompt
            yield Static("", id="pv-logstate", markup=False)  # shows what was typed to find

    def on_mount(self) -> None:
        table = self.query_one("#pv-runs", DataTable)
        for label, key, width in (("ID", "id", 5), ("Name", "name", 18), ("Template", "template", 10), ("Status", "status", 10),
                                  ("Step", "step", 5), ("Created", "created", 16), ("Duration", "duration", 8),
                                  ("IPs", "ips", 22), ("User", "user", 12)):
            table.add_column(label, key=key, width=width)
        self.query_one("#pv-prompt", Input).display = False
        self._show_log_state()
        table.focus()
        # A run started, ended or cancelled on any jump host, or a VM taken or freed.
        self.watch_store({"provision_runs", "workload_pool"}, lambda _changed: self.load_runs())
        self.load_runs(recover=True)

    # ---------------------------------------------------------------- history
    @work(exclusive=True, group="provision-history")
    async def load_runs(self, recover: bool = False) -> None:
        svc = self.service
        if recover:
            await svc.recover_interrupted(self.ctx.actor)
        self.runs = await svc.list(self.ctx.actor)
        self._fill_table()

    def _visible_runs(self) -> list[RunInfo]:
        needle = self._history_filter.lower()
        if not needle:
            return self.runs
        return [r for r in self.runs if needle in f"{r.id} {r.service_name} {r.template} {r.status} {r.created_by} {r.assigned_ip}".lower()]

    def _fill_table(self) -> None:
        table = self.query_one("#pv-runs", DataTable)
        row = table.cursor_row
        table.clear()
        for r in self._visible_runs():
            style = _STATUS_STYLE.get(r.status, "")
            table.add_row(*cells([str(r.id), r.service_name, r.template]), Text(r.status, style=style, no_wrap=True, end=""),
                          *cells([f"{r.progress.get('step', 0)}/{r.progress.get('total', '?')}", f"{r.created_at:%Y-%m-%d %H:%M}",
                                  _duration(r.duration), r.assigned_ip or "-", r.created_by]), key=str(r.id))
        if table.row_count:
            table.move_cursor(row=min(max(row, 0), table.row_count - 1))

    @on(Input.Changed, "#pv-history-filter")
    def _history_filter_changed(self, event: Input.Changed) -> None:
        self._history_filter = event.value.strip()
        self._fill_table()

    def _selected(self) -> RunInfo | None:
        table = self.query_one("#pv-runs", DataTable)
        visible = self._visible_runs()
        if 0 <= table.cursor_row < len(visible):
            return visible[table.cursor_row]
        return None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_run()

    def action_open_run(self) -> None:
        run = self._selected()
        if run is not None:
            self.open_run(run.id)

    def action_reload(self) -> None:
        self.load_runs(recover=True)

    # ---------------------------------------------------------------- run view
    def open_run(self, run_id: int) -> None:
        log = self.query_one(RunLog)
        log.clear()
        log.set_follow(True)
        self.host_status = {}
        self.follow_run(run_id)

    @work(exclusive=True, group="provision-follow")
    async def follow_run(self, run_id: int) -> None:
        """Replay the run's events, then follow it until it ends, through the service's
        own follow loop: a run whose worker died is recovered here as in the CLI. Each
        batch goes to the log in one write: one repaint per batch, not per line."""
        svc = self.service
        log = self.query_one(RunLog)
        info = await svc.get(self.ctx.actor, run_id)
        self.current = info
        self._show_run(info)
        async for batch in svc.follow(self.ctx.actor, run_id):
            self._apply(batch, log)
            # Status and progress change only with events (a status or step row), so
            # the run is read again only when some arrived.
            self.current = await svc.get(self.ctx.actor, run_id)
            self._show_run(self.current)
        self.current = await svc.get(self.ctx.actor, run_id)
        self._show_run(self.current)
        self.load_runs()

    def _apply(self, events: list[RunEvent], log: RunLog) -> None:
        items = []
        for e in events:
            if e.kind == "step":
                items.append((f"::: step {e.step} done: {e.text}", "step", e.at))
            elif e.kind == "status":
                items.append((f"::: run is {e.result}" + (f": {e.text}" if e.text and e.text != e.result else ""), "status", e.at))
            else:
                items.append((e.text, e.result or None, e.at))
            if e.host and e.kind in ("line", "recap") and e.result:
                if _RANK.get(e.result, 0) >= _RANK.get(self.host_status.get(e.host, ""), 0):
                    self.host_status[e.host] = e.result
        log.write_lines(items)
        self._show_log_state()

    def _show_run(self, info: RunInfo) -> None:
        # Text, not markup: names, errors and URLs come from outside the code.
        title = Text.assemble(f"Run {info.id} · ", (info.service_name, "bold"), f" · {info.template} · {info.runner} · ",
                              (info.status, _STATUS_STYLE.get(info.status, "")))
        if info.error:
            title.append("\n" + info.error, style="red")
        if info.status == "COMPLETED" and info.resources.get("web_url"):
            title.append(f"\nweb {info.resources['web_url']} · db {info.resources.get('db_vip', '-')}")
        self.query_one("#pv-title", Static).update(title)
        progress = info.progress
        total = int(progress.get("total") or len(info.details.get("config", {}).get("steps", [])) or 1)
        step = int(progress.get("step") or 0)
        steps = info.details.get("config", {}).get("steps", [])
        bar = self.query_one("#pv-progress", ProgressBar)
        bar.update(total=total, progress=step)
        # Elapsed is as of the last event: an idle screen does not tick a clock.
        elapsed = _duration(info.duration)
        current = steps[step] if info.status in LIVE_STATUSES and step < len(steps) else (steps[step - 1] if 0 < step <= len(steps) else "")
        self.query_one("#pv-step", Static).update(f"step {step}/{total} {current} · {elapsed}")
        hosts = Text("  ").join(Text.assemble(f"{h} ", (r, _host_style(r))) for h, r in sorted(self.host_status.items()))
        self.query_one("#pv-hosts", Static).update(hosts if self.host_status else Text("hosts: -"))
        self.refresh_bindings()

    def _show_log_state(self) -> None:
        log = self.query_one(RunLog)
        bits = ["follow on" if log.follow else "follow off (f)"]
        if log.filter_text:
            bits.append(f"filter '{log.filter_text}'")
        if log.search_text:
            bits.append(f"find '{log.search_text}' {log.match_position + 1}/{log.match_count}")
        bits.append("times" if log.show_timestamps else "")
        bits.append("wrap" if log.wrap else "")
        bits.append(f"{log.line_count} lines")
        self.query_one("#pv-logstate", Static).update(" · ".join(b for b in bits if b))

    def on_run_log_follow_changed(self, _message: RunLog.FollowChanged) -> None:
        self._show_log_state()

    def action_toggle_follow(self) -> None:
        log = self.query_one(RunLog)
        log.set_follow(not log.follow)
        self._show_log_state()

    def action_timestamps(self) -> None:
        self.query_one(RunLog).toggle_timestamps()
        self._show_log_state()

    def action_wrap(self) -> None:
        self.query_one(RunLog).toggle_wrap()
        self._show_log_state()

    def _open_prompt(self, mode: str) -> None:
        self.prompt_mode = mode
        prompt = self.query_one("#pv-prompt", Input)
        log = self.query_one(RunLog)
        prompt.placeholder = "find (enter)" if mode == "find" else "show only lines containing (enter; empty shows all)"
        prompt.value = log.search_text if mode == "find" else log.filter_text
        prompt.display = True
        prompt.focus()

    def action_find(self) -> None:
        self._open_prompt("find")

    def action_filter(self) -> None:
        self._open_prompt("filter")

    def action_history_filter(self) -> None:
        self.query_one("#pv-history-filter", Input).focus()

    def action_close_prompt(self) -> None:
        """esc, one step at a time: close the open prompt; else clear the history filter
        being typed in; else clear the log's find and filter; else the history filter."""
        prompt = self.query_one("#pv-prompt", Input)
        history = self.query_one("#pv-history-filter", Input)
        log = self.query_one(RunLog)
        if prompt.display:
            prompt.display = False
            log.focus()
        elif history.has_focus:
            history.value = ""
            self.query_one("#pv-runs", DataTable).focus()
        elif log.search_text or log.filter_text:
            log.search("")
            log.set_filter("")
            self._show_log_state()
        elif history.value:
            history.value = ""

    @on(Input.Submitted, "#pv-prompt")
    def _prompt_submitted(self, event: Input.Submitted) -> None:
        log = self.query_one(RunLog)
        if self.prompt_mode == "find":
            count = log.search(event.value)
            if event.value.strip() and not count:
                self.notify(f"'{event.value.strip()}' is not in the log.", severity="warning")
        else:
            log.set_filter(event.value)
        event.input.display = False
        log.focus()
        self._show_log_state()

    def action_next_match(self) -> None:
        self.query_one(RunLog).next_match(1)
        self._show_log_state()

    def action_prev_match(self) -> None:
        self.query_one(RunLog).next_match(-1)
        self._show_log_state()

    def action_save(self) -> None:
        if self.current is None:
            return
        log = self.query_one(RunLog)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.ctx.config.log_dir / f"run-{self.current.id}-{self.current.service_name}-{stamp}.log"
        from jumpdeck.core.private_files import private_dir

        private_dir(path.parent)
        count = log.save(path)
        self.notify(f"Saved {count} lines to {path}.")

    def action_switch_pane(self) -> None:
        table, log = self.query_one("#pv-runs", DataTable), self.query_one(RunLog)
        (log if table.has_focus else table).focus()

    # ---------------------------------------------------------------- changes
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in STAFF_ACTIONS and not can(self.ctx.actor, Operation.PROVISION):
            return None
        if action in ("next_match", "prev_match") and isinstance(self.focused, Input):
            return False
        return True

    def disabled_reason(self, action: str) -> str | None:
        return denial(self.ctx.actor, Operation.PROVISION) if action in STAFF_ACTIONS else None

    def copy_text(self) -> str | None:
        run = self.current or self._selected()
        if run is None:
            return None
        return run.resources.get("web_url") or str(run.id)

    @work(exclusive=True, group="provision-new")
    async def action_new_run(self) -> None:
        settings = await self.ctx.settings.get()
        notice = ""
        if settings.get("maintenance_mode") and not self.ctx.actor.is_admin:
            notice = "Maintenance mode is on: only admins can start runs until an admin turns it off."
        svc = self.service

        async def start(answer: dict) -> RunInfo:
            return await svc.start(self.ctx.actor, answer["template"], answer["name"], packages=answer["packages"],
                                   runner=answer["runner"], target=answer["target"])

        info = await self.app.push_screen_wait(NewRunDialog(runner=self.ctx.config.runner, start=start, notice=notice))
        if info is not None:
            self.notify(f"Run started: {info.service_name}.", timeout=4)
            self.load_runs()
            self.open_run(info.id)

    def _target_for_change(self) -> RunInfo | None:
        return self.current if self.query_one(RunLog).has_focus and self.current else self._selected()

    def action_cancel_run(self) -> None:
        run = self._target_for_change()
        if run is None:
            return
        if run.status not in LIVE_STATUSES:
            self.notify(f"Run {run.id} ({run.service_name}) has already ended: {run.status}.", severity="warning")
            return
        from jumpdeck.tui.screens.confirm import ConfirmScreen

        async def answer(yes: bool | None) -> None:
            if yes:
                self.cancel_run(run.id)

        self.app.push_screen(ConfirmScreen("Cancel run?", f"Cancel run {run.id} '{run.service_name}' ({run.template})? "
                                           "Its playbook is stopped and its VMs go back to the pool.",
                                           confirm_label="Cancel run"), answer)

    @work(group="provision-cancel")
    async def cancel_run(self, run_id: int) -> None:
        svc = self.service
        info = await self.call_core(lambda: svc.cancel(self.ctx.actor, run_id, wait=15))
        if info is not None:
            self.notify(f"Run {info.id} ({info.service_name}) is {info.status}.")
            self.load_runs()

    @work(group="provision-trust")
    async def action_trust_key(self) -> None:
        """Trust the host key a failed run refused, after showing its fingerprint."""
        import asyncio

        from jumpdeck.core.provision import hostkeys
        from jumpdeck.tui.screens.confirm import ConfirmScreen

        run = self._target_for_change()
        where = hostkeys.refused_host(run.error) if run else None
        if where is None:
            self.notify("This run did not fail on a host key.", severity="warning")
            return
        key = await self.call_core(lambda: asyncio.to_thread(hostkeys.scan, *where))
        if key is None:
            return
        yes = await self.app.push_screen_wait(ConfirmScreen(
            "Trust host key?", f"Trust {key.host}:{key.port} with key {key.fingerprint} for run {run.id} "
            f"'{run.service_name}'? Compare it with the fingerprint the VM's owner gave you.", confirm_label="Trust"))
        if yes:
            path = self.ctx.config.known_hosts_path
            async def trust() -> bool:
                await asyncio.to_thread(hostkeys.trust, path, key, expected_fingerprint=key.fingerprint)
                return True

            if await self.call_core(trust):
                self.notify(f"Trusted {key.host}:{key.port} ({key.fingerprint}). Start the run again.")

    @work(group="provision-ssh")
    async def action_ssh(self) -> None:
        """Open an SSH tab on one of the run's ssh targets (a picker when it has several)."""
        from jumpdeck.core.ssh import SshTarget
        from jumpdeck.tui.screens.ssh import open_ssh_session
        from jumpdeck.tui.screens.ssh_dialogs import TargetChoiceDialog

        run = self._target_for_change()
        if run is None:
            self.notify("No run selected.", severity="warning", timeout=3)
            return
        targets = [SshTarget(host=str(t["host"]), user=str(t.get("user") or "root"), port=int(t.get("port") or 22))
                   for t in run.resources.get("ssh_targets") or [] if t.get("host")]
        if not targets:
            self.notify(f"Run {run.id} ({run.service_name}) has no SSH targets: it has not reached its hosts, "
                        "or it ran on this machine.", severity="warning")
            return
        target = targets[0] if len(targets) == 1 else await self.app.push_screen_wait(
            TargetChoiceDialog(f"SSH into run {run.id} '{run.service_name}'", targets))
        if target is not None:
            await open_ssh_session(self.app, target)

    @work(group="provision-teardown")
    async def teardown_run(self, run_id: int) -> None:
        svc = self.service
        self.notify(f"Tearing down run {run_id}…")
        self._tearing_down.add(run_id)
        try:
            info = await self.call_core(lambda: svc.teardown(self.ctx.actor, run_id))
        finally:
            self._tearing_down.discard(run_id)
        if info is not None:
            self.notify(f"Run {info.id} ({info.service_name}) torn down; its VMs are back in the pool.")
            self.load_runs()

    def running_work(self) -> list[str]:
        # Runs go on without this app; only a teardown in progress is this app's own work.
        return [f"tearing down run {run_id}" for run_id in sorted(self._tearing_down)]

    def action_delete_run(self) -> None:
        """Delete an ended run and its log, as `jumpdeck provision rm` does."""
        run = self._target_for_change()
        if run is None:
            return
        if run.status in LIVE_STATUSES:
            self.notify(f"Run {run.id} ({run.service_name}) is still {run.status}: cancel it first (c).", severity="warning")
            return
        from jumpdeck.tui.screens.confirm import ConfirmScreen

        async def answer(yes: bool | None) -> None:
            if not yes:
                return
            from jumpdeck.core.errors import JumpdeckError
            from jumpdeck.tui.screens.base import notify_error

            try:
                await self.service.remove(self.ctx.actor, run.id)
            except JumpdeckError as error:
                notify_error(self, error)
                return
            self.notify(f"Deleted run {run.id} ({run.service_name}).", timeout=4)
            self.load_runs()

        self.app.push_screen(ConfirmScreen("Delete run?", f"Delete run {run.id} '{run.service_name}' ({run.status}) and its "
                                           f"log? Its VMs ({run.assigned_ip or 'none'}) go back to the pool; the log is gone "
                                           "for good.", confirm_label="Delete"), answer)

    def action_teardown(self) -> None:
        run = self._target_for_change()
        if run is None:
            return
        from jumpdeck.tui.screens.confirm import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes:
                self.teardown_run(run.id)

        self.app.push_screen(ConfirmScreen("Tear down run?", f"Tear down run {run.id} '{run.service_name}' ({run.template})? "
                                           f"Its services are stopped, its files removed and its VMs ({run.assigned_ip or 'none'}) go back to the pool.",
                                           confirm_label="Tear down"), answer)
