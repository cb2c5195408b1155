"""The jumpdeck Textual app: composes the shell, registers screens, palette and keys.

The first frame shows at once; the store is opened in a worker (it may migrate, or
wait on a PostgreSQL that does not answer), and only then are the screens installed
as Textual modes. Each screen lives in `tui/screens/<name>.py` and subclasses
`JumpdeckScreen` so it gets the shared header and footer.

To add a screen: put its module in `tui/screens/` and its entry in `SCREENS` below.
A screen whose module is not there yet shows a placeholder saying what is coming.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.signal import Signal
from textual.worker import Worker, WorkerState

from jumpdeck.core.config import Config
from jumpdeck.tui.screens.boot import BootScreen
from jumpdeck.tui.styles import stylesheet
from jumpdeck.tui.typeahead import HeldKey, KeySettled, KeysInOrder

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from jumpdeck.core.context import Context
    from jumpdeck.core.provision.lease_watch import LeaseWatch


@dataclass(frozen=True)
class ScreenEntry:
    key: str  # the number key that switches to it
    mode: str
    title: str
    target: str  # "module:Class"
    coming: str  # what the placeholder says until the module exists
    admin_only: bool = False

    @property
    def module_name(self) -> str:
        return self.target.split(":")[0]


SCREENS: list[ScreenEntry] = [
    ScreenEntry("1", "servers", "Servers", "jumpdeck.tui.screens.servers:ServersScreen",
                "The DB fleet grid: live status checks, filters, add/edit/delete with test-before-save, the server dashboard."),
    ScreenEntry("2", "provision", "Provision", "jumpdeck.tui.screens.provision:ProvisionScreen",
                "Provisioning from templates with real Ansible playbooks, a streaming log, run history and the VM pool."),
    ScreenEntry("3", "monitor", "Monitor", "jumpdeck.tui.screens.monitor:MonitorScreen",
                "CPU, memory and disk of your provisioned resources, live from Prometheus."),
    ScreenEntry("4", "ssh", "SSH", "jumpdeck.tui.screens.ssh:SshScreen",
                "An embedded SSH terminal with tabs and honest host-key checks."),
    ScreenEntry("5", "charts", "Charts", "jumpdeck.tui.screens.charts:ChartsScreen",
                "Production figures drawn with plotext over live and archive data."),
    ScreenEntry("6", "maintenance", "Maintenance", "jumpdeck.tui.screens.maintenance:MaintenanceScreen",
                "Health, verified backups and restore, the DB watcher and the year-end archive rollover."),
    ScreenEntry("7", "activity", "Activity", "jumpdeck.tui.screens.activity:ActivityScreen", "The audit log."),
    ScreenEntry("8", "users", "Users", "jumpdeck.tui.screens.users:UsersScreen", "Users, roles and SSH keys."),
]


async def _import_screen_module(entry: ScreenEntry) -> None:
    """Import a screen's module in a thread before its first show: some pull in big
    libraries (Charts: plotext, 40-90 ms here), which on the event loop would freeze
    the app between the key and the screen. The factory then finds it imported."""
    if entry.module_name not in sys.modules:
        try:
            await asyncio.to_thread(importlib.import_module, entry.module_name)
        except ImportError:
            pass  # the factory imports it again on the loop and shows the placeholder or the error


def _screen_factory(entry: ScreenEntry) -> Callable[[], Screen]:
    """A callable that imports the screen's module on first use: the shell's first paint
    does not pay for eight screens' imports (plotext, pyte, ...) it may never show."""

    def make() -> Screen:
        module_name, class_name = entry.module_name, entry.target.split(":")[1]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:  # a real bug inside the module: let it surface
                raise
            from jumpdeck.tui.screens.placeholder import PlaceholderScreen

            return PlaceholderScreen(entry.title, entry.coming)
        return getattr(module, class_name)()

    return make


def _terminal_driver() -> tuple[type | None, str]:
    """In a serve-ssh session on Linux, Textual's driver with an input thread that sleeps
    while idle (tui/quiet_driver.py), where its saving was measured; elsewhere Textual's
    choice. Also a sentence for the log when the quiet driver was wanted but cannot be
    used. Tests run headless either way."""
    import os

    from jumpdeck.core.context import in_serve_session
    from jumpdeck.tui.quiet_driver import driver_for_session

    return driver_for_session(in_serve_session(), sys.platform, os.environ)


class JumpdeckApp(App[int]):
    """The shell. Screens find the open context at `self.app.ctx`."""

    TITLE = "jumpdeck"
    CSS_PATH = stylesheet("jumpdeck.tui", "app.tcss")
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("question_mark", "help", "Keys", key_display="?", id="app.help"),
        Binding("q", "quit_app", "Quit", id="app.quit"),
        Binding("ctrl+p", "command_palette", "Palette", id="app.palette", show=False),
        Binding("ctrl+l", "redraw", "Redraw", show=False, id="app.redraw"),
        Binding("y", "copy", "Copy", show=False, id="app.copy"),
        Binding("f2", "settings", "Settings", show=False, id="app.settings"),
        Binding("minus", "previous_screen", "Previous screen", key_display="-", show=False, id="app.previous"),
        *[
            Binding(entry.key, f"switch('{entry.mode}')", entry.title, show=False, id=f"app.screen.{entry.mode}")
            for entry in SCREENS
        ],
    ]

    def __init__(self, config: Config, *, user: str | None = None, start_mode: str = "servers") -> None:
        driver_class, self._driver_note = _terminal_driver()
        super().__init__(driver_class=driver_class)
        self.config = config
        self.ctx: Context | None = None
        self._user = user
        self._start_mode = start_mode
        self.screen_modes: list[str] = []  # the modes installed once the store is open
        # Published when identity, store state or the notice changes; headers listen.
        self.header_signal: Signal[None] = Signal(self, "header")
        self.notice: str = ""
        from jumpdeck.tui.collector import CollectorSchedule

        self.collector = CollectorSchedule()
        self._lease_watch: LeaseWatch | None = None
        self._keys = KeysInOrder(self)
        self._previous_mode = ""  # for `-`

    # ----------------------------------------------------------------- start-up
    def get_default_screen(self) -> Screen:
        return BootScreen()

    def on_mount(self) -> None:
        if self.config.keymap:
            self.set_keymap(dict(self.config.keymap))
        # On a 16-colour terminal (TERM=xterm, a serial console) Textual would round the
        # theme's colours to the nearest of 16: the accent became the red of an offline
        # dot. The ANSI theme is drawn in the terminal's own 16 colours instead.
        if not self.is_headless and self.console.color_system in ("standard", "windows"):
            self.theme = "ansi-dark"
        self.open_context()
        from jumpdeck.tui.collector import CHECK_EVERY

        self.collector.start()
        self.set_interval(CHECK_EVERY, self.collector.tick, name="collector")

    async def on_event(self, event) -> None:  # noqa: ANN001
        from textual import events

        # Operator input postpones the collector's full pass (see tui/collector.py).
        if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp,
                              events.Paste)):
            self.collector.input_seen()
        # Keys (and pastes) the terminal sent go to their widget one at a time, each once
        # the one before has been handled all the way up (tui/typeahead.py).
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            if self._keys.busy:
                self._keys.hold(event)
            else:
                await self._hand_over(event)
            return
        await super().on_event(event)

    async def _hand_over(self, event) -> None:  # noqa: ANN001
        target, screen = self.focused or self.screen, self.screen
        await super().on_event(event)
        self._keys.sent(target, screen)

    def on_key(self, event) -> None:  # noqa: ANN001
        """A key this screen binds but this operator may not use says why, instead of
        doing nothing. (Keys reach here only when no widget took them.)"""
        active = self.screen.active_bindings.get(event.key)
        if active is None or active.enabled or not active.binding.description:
            return
        reason = getattr(self.screen, "disabled_reason", lambda action: None)(active.binding.action)
        self.notify(reason or f"{active.binding.description} is not available here.", severity="warning", timeout=4)

    async def on_key_settled(self, message: KeySettled) -> None:
        message.stop()
        following = self._keys.settled(message)
        if following is not None:
            await self._hand_over(following)

    async def on_held_key(self, message: HeldKey) -> None:
        message.stop()
        await self._hand_over(message.event)

    @work(exclusive=True, group="boot", exit_on_error=False)
    async def open_context(self) -> None:
        from jumpdeck.core.serve.face_context import open_face_context

        boot = self.screen if isinstance(self.screen, BootScreen) else None
        if self.config.demo:
            from jumpdeck.core.demo import ensure_demo

            if boot:
                boot.status("Preparing the demo data (first start only)…")
            await ensure_demo(self.config, user=self._user)
        if boot:
            boot.status("Opening the store…")
        self.ctx = await open_face_context(self.config, user=self._user)
        if self.ctx.log_problem:  # the command line says it on stderr; the screen is the app's
            self.notify(self.ctx.log_problem, severity="warning", markup=False, timeout=15)
        loop = asyncio.get_running_loop()
        # From a store or probe thread: the banner changes on the loop.
        self.ctx.store.on_change(lambda _store: loop.call_soon_threadsafe(self._store_state_changed))
        if self._driver_note:  # said once the log is set up (the terminal is the app's)
            import logging

            logging.getLogger(__name__).warning(self._driver_note)
        settings = self.ctx.settings_at_open or await self.ctx.settings.get()
        self.notice = settings.get("system_notice") or ""
        if self.ctx.actor.status.value != "active":
            # No screen is installed for a pending or disabled user: core would refuse
            # every call anyway; this says so once, plainly.
            from jumpdeck.tui.screens.pending import PendingScreen

            await self.push_screen(PendingScreen(self.ctx.actor))
            return
        for entry in SCREENS:
            self.add_mode(entry.mode, _screen_factory(entry))
            self.screen_modes.append(entry.mode)
        await _import_screen_module(next(e for e in SCREENS if e.mode == self._start_mode))
        await self.switch_mode(self._start_mode)
        self.header_signal.publish(None)
        # The notice, the settings and this operator's own role or account, changed by
        # someone on any jump host: read again (a few rows) and shown in the header.
        self.ctx.changes().subscribe({"settings", "users"}, lambda _changed: self.reread_identity())
        from jumpdeck.core.context import in_serve_session

        if not in_serve_session():  # a session's server watches the leases for it
            from jumpdeck.core.provision.lease_watch import LeaseWatch

            # A run whose worker died on any jump host is failed and its VMs freed here,
            # within the lease, even with no Provision screen open.
            self._lease_watch = LeaseWatch(self.ctx)
        # What boot built (modules, Textual's machinery, the store) lives as long as the
        # app. Left in the collector, every full collection walks it all: 90-150 ms with
        # the loop stopped, seen as a stalled key while the Monitor refreshes 1,000 rows.
        # Frozen objects are still freed by reference counting; only cycles among them
        # would outlive their use, and boot leaves few.
        import gc

        gc.freeze()

    @work(exclusive=True, group="identity", exit_on_error=False)
    async def reread_identity(self) -> None:
        from jumpdeck.core.errors import JumpdeckError
        from jumpdeck.core.identity import UserStatus

        assert self.ctx is not None
        before = self.ctx.actor
        from jumpdeck.core.errors import ConfigError

        try:
            actor, settings = await self.ctx.reread()
        except ConfigError as error:
            # The store's key was rotated on another host: nothing more is written here.
            from jumpdeck.tui.screens.pending import StoppedScreen

            await self.push_screen(StoppedScreen("The store's key changed", f"{error}"))
            return
        except JumpdeckError:
            return  # the store is away: what is shown stays until it is back
        self.notice = settings.get("system_notice") or ""
        self.header_signal.publish(None)
        if (actor.role, actor.status) == (before.role, before.status):
            return
        if actor.status is not UserStatus.ACTIVE:
            from jumpdeck.tui.screens.pending import PendingScreen

            if not isinstance(self.screen, PendingScreen):
                await self.push_screen(PendingScreen(actor))
            return
        self.notify(f"An admin changed your role: you are now {actor.role.value}.", timeout=8)
        self.screen.refresh_bindings()

    @on(Worker.StateChanged)
    def _boot_failed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "boot" and event.state is WorkerState.ERROR:
            from jumpdeck.core.errors import JumpdeckError

            error = event.worker.error
            text = str(error) if isinstance(error, JumpdeckError) else f"jumpdeck could not start: {error!r}"
            if isinstance(self.screen, BootScreen):
                self.screen.failed(text)

    def on_unmount(self) -> None:
        if self._lease_watch is not None:
            self._lease_watch.close()
        self.collector.stop()
        if self.ctx is not None:
            self.ctx.close()

    # ------------------------------------------------------------------ header
    def _store_state_changed(self) -> None:
        """The shared store turned read-only or came back: the banner follows, no restart."""
        if self.ctx is None:
            return
        self.header_signal.publish(None)
        if self.ctx.store.read_only:
            self.notify(self.ctx.store.degraded_reason or "", title="Store read-only", severity="error",
                        timeout=10, markup=False)
        else:
            self.notify(f"The shared store {self.ctx.store.url_display} is back; changes work again.",
                        title="Store back", timeout=6, markup=False)

    def set_notice(self, notice: str) -> None:
        self.notice = notice
        self.header_signal.publish(None)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every toast is plain text: messages carry data (names, hosts, driver and run
        errors) whose brackets markup would eat. Widgets' notify comes through here too."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    async def store_ready(self) -> None:
        """Before the first thing that reads the store in a serve-ssh session (whose first
        screen came from the server): open it in a thread, not on the loop."""
        if self.ctx is not None:
            await self.ctx.store.ready()

    # ----------------------------------------------------------------- actions
    async def action_switch(self, mode: str) -> None:
        if self.ctx is None or mode not in self.screen_modes:
            return
        # Dialogs belong to the screen under them: close them before switching.
        while len(self.screen_stack) > 1 and not isinstance(self.screen, BootScreen):
            from jumpdeck.tui.screens.pending import PendingScreen

            if isinstance(self.screen, PendingScreen):
                return
            self.pop_screen()
        await _import_screen_module(next(e for e in SCREENS if e.mode == mode))
        await self.store_ready()
        if mode != self.current_mode and self.current_mode in self.screen_modes:
            self._previous_mode = self.current_mode
        await self.switch_mode(mode)

    async def action_previous_screen(self) -> None:
        """`-`: back to the screen shown before this one, as k9s does."""
        if self._previous_mode:
            await self.action_switch(self._previous_mode)

    def action_help(self) -> None:
        from jumpdeck.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen.for_screen(self.screen, self))

    def all_screens(self) -> list[Screen]:
        """The screens of every mode shown so far (a mode's stack exists from its first
        show), the boot and pending screens of the default mode included."""
        screens: list[Screen] = []
        for mode in (self.DEFAULT_MODE, *self.screen_modes):
            try:
                screens.extend(self.get_screen_stack(mode))
            except KeyError:
                pass  # never shown: no screens yet
        return screens

    def running_work(self) -> list[str]:
        """Long work in progress anywhere in the app: screens report theirs."""
        work_items: list[str] = []
        for screen in self.all_screens():
            reporter = getattr(screen, "running_work", None)
            if callable(reporter):
                work_items.extend(reporter())
        work_items.extend(w.name or "background work" for w in self.workers if w.group == "work" and w.state is WorkerState.RUNNING)
        return work_items

    def action_quit_app(self) -> None:
        work_items = self.running_work()
        if not work_items:
            self.exit(0)
            return
        from jumpdeck.tui.screens.confirm import ConfirmScreen

        listed = "; ".join(work_items[:3]) + (f" and {len(work_items) - 3} more" if len(work_items) > 3 else "")

        def answer(quit_anyway: bool | None) -> None:
            if quit_anyway:
                self.exit(0)

        self.push_screen(ConfirmScreen("Quit jumpdeck?", f"Still running: {listed}. Quit anyway?", confirm_label="Quit"), answer)

    def action_redraw(self) -> None:
        """After a `wall` message or line noise over SSH: repaint every cell. A repaint of
        the whole screen is sent as a full update, which writes every line from its first
        cell to its last (tests/tui/test_redraw.py checks it over a real terminal)."""
        self.screen.refresh(repaint=True, layout=True)
        self.refresh(repaint=True, layout=True)

    def action_copy(self) -> None:
        getter = getattr(self.screen, "copy_text", None)
        text = getter() if callable(getter) else None
        if not text:
            self.notify("Nothing to copy here: select a row or value first.", severity="warning")
            return
        self.copy_to_clipboard(text)
        shown = text if len(text) <= 60 else text[:57] + "…"
        self.notify(f"Copied: {shown}", timeout=3)

    async def action_settings(self) -> None:
        if self.ctx is None:
            return
        from jumpdeck.tui.screens.settings_dialog import SettingsDialog

        await self.store_ready()
        self.push_screen(SettingsDialog())

    def action_ssh_sessions(self) -> None:
        if self.ctx is None:
            return
        from jumpdeck.tui.screens.sessions import SessionsScreen

        self.push_screen(SessionsScreen())

    # ----------------------------------------------------------------- palette
    def get_system_commands(self, screen: Screen):
        for entry in SCREENS:
            yield SystemCommand(f"Go to {entry.title}", f"Switch to the {entry.title} screen (key {entry.key})",
                                lambda mode=entry.mode: self.run_action(f"switch('{mode}')"))
        if self.ctx is not None and self.ctx.actor.is_admin:
            yield SystemCommand("SSH sessions", "Who is connected through serve-ssh; end a session (admin)",
                                self.action_ssh_sessions)
        yield SystemCommand("Settings", "System settings: maintenance mode, notice, limits, retention (F2)", self.action_settings)
        yield SystemCommand("Keys", "Show every key of this screen (?)", self.action_help)
        yield SystemCommand("Redraw", "Repaint the whole screen (ctrl+l)", self.action_redraw)
        yield SystemCommand("Copy", "Copy the selected value (y)", self.action_copy)
        if self.ctx is not None:
            store = self.ctx.store
            yield SystemCommand("Store details", "Where the metadata store is and its state",
                                lambda: self.notify(f"Store: {store.url_display}" + (f" — {store.degraded_reason}" if store.degraded else ""), timeout=10))
        yield SystemCommand("Theme", "Change the colour theme", self.action_change_theme)
        yield SystemCommand("Quit", "Quit jumpdeck (q)", self.action_quit_app)
        yield from self._action_commands(screen)

    def _action_commands(self, screen: Screen):  # noqa: ANN202
        """Every key's action of every screen, by name: this screen's first ("Add"),
        then the others' ("Maintenance: Backup now"), which switch there and run it."""
        here = next((e for e in SCREENS if e.mode == self.current_mode), None)
        for entry in SCREENS:
            if entry.mode not in self.screen_modes:
                continue
            try:  # a screen not shown yet is imported here: the palette is opened by hand
                module = importlib.import_module(entry.module_name)
            except ImportError:
                continue
            cls = getattr(module, entry.target.split(":")[1], None)
            for binding in getattr(cls, "BINDINGS", ()):
                if not isinstance(binding, Binding) or not binding.description:
                    continue
                key = binding.key_display or self.get_key_display(binding)
                if entry is here:
                    yield SystemCommand(binding.description, f"{entry.title}: {binding.description} (key {key})",
                                        lambda action=binding.action: self._run_screen_action(screen, action))
                else:
                    yield SystemCommand(f"{entry.title}: {binding.description}",
                                        f"Switch to {entry.title} and {binding.description.lower()} (key {entry.key}, then {key})",
                                        lambda mode=entry.mode, action=binding.action: self._switch_and_run(mode, action))

    async def _run_screen_action(self, screen: Screen, action: str) -> None:
        """Run `action` on `screen`, or say why it is not available (as its key would)."""
        if not screen.check_action(action, ()):
            reason = getattr(screen, "disabled_reason", lambda name: None)(action)
            self.notify(reason or "That is not available here.", severity="warning", timeout=5)
            return
        await screen.run_action(action)

    async def _switch_and_run(self, mode: str, action: str) -> None:
        await self.action_switch(mode)
        if self.current_mode == mode:
            screen = self.screen
            self.call_after_refresh(lambda: self.run_worker(self._run_screen_action(screen, action), exclusive=False))
