"""The terminal widget driven with Pilot against the real sshd."""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult

from jumpdeck.tui.widgets.ssh_pane import SshPane
from jumpdeck.tui.widgets.terminal import Terminal
from tests.ssh.conftest import target_for


class PaneApp(App):
    def __init__(self, target, policy) -> None:
        super().__init__()
        self.pane = SshPane(target, policy)
        self.questions = []

    def compose(self) -> ComposeResult:
        yield self.pane

    def on_mount(self) -> None:
        self.pane.terminal.focus()

    def on_ssh_pane_host_key_question(self, event: SshPane.HostKeyQuestion) -> None:
        self.questions.append(event.offer)


async def wait_for(pilot, predicate, limit: float = 10.0) -> None:
    async def poll():
        while not predicate():
            await pilot.pause(0.02)

    await asyncio.wait_for(poll(), limit)


def screen_text(terminal: Terminal) -> str:
    return "\n".join(terminal.text_lines())


async def test_echo_colors_resize_exit(trusted, sshd_module):
    app = PaneApp(target_for(sshd_module), trusted)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.pane
        await wait_for(pilot, lambda: pane.state == "live")
        await pilot.press(*"echo hello-jumpdeck", "enter")
        await wait_for(pilot, lambda: "\nhello-jumpdeck" in screen_text(pane.terminal))

        # ANSI colors become styled cells: 31 (red), 256-color 208, truecolor, bold.
        pane.terminal.sink.write(b"printf '\\033[31mRED\\033[0m \\033[38;5;208mORG\\033[0m "
                                 b"\\033[1;38;2;10;20;30mTRU\\033[0m\\n'\r")
        await wait_for(pilot, lambda: "\nRED ORG TRU" in screen_text(pane.terminal))
        emu = pane.terminal.emulator.screen
        row = next(y for y in range(emu.lines) if emu.display[y].startswith("RED ORG"))
        pane.terminal.flush()
        await pilot.pause()
        strip = pane.terminal.render_line(row)
        styles = {seg.text: seg.style for seg in strip if seg.text.strip()}
        assert styles["RED"].color.number == 1
        assert styles["ORG"].color.triplet is not None and styles["ORG"].color.triplet.red == 0xFF
        assert styles["TRU"].color.triplet == (10, 20, 30) and styles["TRU"].bold

        # Resize the app: the widget resizes the PTY.
        await pilot.resize_terminal(90, 25)
        await pilot.pause()
        await pilot.press(*"stty size", "enter")
        await wait_for(pilot, lambda: "\n25 90" in screen_text(pane.terminal))

        await pilot.press(*"exit 3", "enter")
        await wait_for(pilot, lambda: pane.state == "finished")
        assert pane.exit_status == 3
        assert "exited with status 3" in screen_text(pane.terminal)


async def test_less_scrolls_and_quits(trusted, sshd_module, tmp_path):
    long_file = tmp_path / "long.txt"
    long_file.write_text("".join(f"line {i:04d}\n" for i in range(1, 501)))
    app = PaneApp(target_for(sshd_module), trusted)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.pane
        await wait_for(pilot, lambda: pane.state == "live")
        await pilot.press(*"echo before-less", "enter")
        await wait_for(pilot, lambda: "\nbefore-less" in screen_text(pane.terminal))
        await pilot.press(*f"LESS= less {long_file}", "enter")
        await wait_for(pilot, lambda: pane.terminal.emulator.screen.in_alt_screen
                       and "line 0001" in screen_text(pane.terminal))
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: "line 0024" in screen_text(pane.terminal)
                       and "line 0001" not in screen_text(pane.terminal))
        await pilot.press("end")  # G-like: last page in less via the End key
        await wait_for(pilot, lambda: "line 0500" in screen_text(pane.terminal))
        await pilot.press("q")
        # Back on the main screen, the shell output from before less is intact.
        await wait_for(pilot, lambda: not pane.terminal.emulator.screen.in_alt_screen)
        await wait_for(pilot, lambda: "before-less" in screen_text(pane.terminal))
        assert "line 0500" not in screen_text(pane.terminal)


async def test_unknown_host_asks_then_connects(policy, sshd_module):
    app = PaneApp(target_for(sshd_module), policy)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.pane
        await wait_for(pilot, lambda: pane.state == "confirm")
        assert app.questions and app.questions[0].fingerprint.startswith("SHA256:")
        assert app.questions[0].fingerprint in screen_text(pane.terminal).replace("\n", "")
        pane.answer_host_key(True)
        await wait_for(pilot, lambda: pane.state == "live")
        assert policy.store.read_text().strip() == sshd_module.known_hosts_line


async def test_release_key_hands_focus_back(trusted, sshd_module):
    released = []

    class App2(PaneApp):
        def on_terminal_released(self, event) -> None:
            released.append(event.terminal)

    app = App2(target_for(sshd_module), trusted)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.pane.state == "live")
        assert app.focused is app.pane.terminal
        await pilot.press("ctrl+right_square_bracket")
        await pilot.pause()
        assert released == [app.pane.terminal]


async def test_scrollback_shift_pageup(trusted, sshd_module):
    app = PaneApp(target_for(sshd_module), trusted)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.pane
        await wait_for(pilot, lambda: pane.state == "live")
        await pilot.press(*"seq 1 200", "enter")
        await wait_for(pilot, lambda: "\n200\n" in screen_text(pane.terminal) + "\n")
        term = pane.terminal
        await pilot.press("shift+pageup")
        assert term.history_offset == 23
        visible = [term.render_line(y).text.rstrip() for y in range(24)]
        assert "200" not in visible and str(200 - 23 - 1) in "".join(v + "|" for v in visible).split("|")
        await pilot.press("shift+pagedown")
        assert term.history_offset == 0


async def test_vi_edits_and_writes_a_file(trusted, sshd_module, tmp_path):
    import shutil

    from tests.conftest import service_unavailable

    if not shutil.which("vi"):
        service_unavailable("vi is not installed (apt-get install vim)")
    path = tmp_path / "edited.txt"
    path.write_text("first line\n")
    app = PaneApp(target_for(sshd_module), trusted)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.pane
        await wait_for(pilot, lambda: pane.state == "live")
        await pilot.press(*f"vi -u NONE -N {path}", "enter")
        await wait_for(pilot, lambda: pane.terminal.emulator.screen.in_alt_screen
                       and "first line" in screen_text(pane.terminal))
        # The tildes of vi's empty lines fill the screen below the text.
        assert screen_text(pane.terminal).count("\n~") >= 10
        await pilot.press("G", "o", *"added by jumpdeck", "escape")
        await wait_for(pilot, lambda: "added by jumpdeck" in screen_text(pane.terminal))
        await pilot.press(*":wq", "enter")
        await wait_for(pilot, lambda: not pane.terminal.emulator.screen.in_alt_screen)
        assert path.read_text() == "first line\nadded by jumpdeck\n"


async def _top_like(pilot, pane, command: str, marker: str, check=None) -> None:  # noqa: ANN001
    await wait_for(pilot, lambda: pane.state == "live")
    await pilot.press(*"echo before-it", "enter")
    await wait_for(pilot, lambda: "\nbefore-it" in screen_text(pane.terminal))
    await pilot.press(*command, "enter")
    await wait_for(pilot, lambda: marker in screen_text(pane.terminal), 15)
    # It redraws in place: the header stays on the first lines after a refresh.
    header = [line for line in pane.terminal.text_lines()[:6] if marker in line]
    assert header, pane.terminal.text_lines()[:6]
    if check is not None:
        await check()
    await pilot.press("q")
    await wait_for(pilot, lambda: marker not in screen_text(pane.terminal) or
                   not pane.terminal.emulator.screen.in_alt_screen, 10)
    await pilot.press(*"echo after-it", "enter")
    await wait_for(pilot, lambda: "\nafter-it" in screen_text(pane.terminal))


async def test_top_renders_and_quits(trusted, sshd_module):
    app = PaneApp(target_for(sshd_module), trusted)
    async with app.run_test(size=(100, 30)) as pilot:
        await _top_like(pilot, app.pane, "top -d 1", "load average")


async def test_htop_renders_and_quits(trusted, sshd_module):
    import shutil

    from tests.conftest import service_unavailable

    if not shutil.which("htop"):
        service_unavailable("htop is not installed (apt-get install htop)")
    import re

    app = PaneApp(target_for(sshd_module), trusted)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.pane

        async def header_columns_apart() -> None:
            # ncurses draws runs of spaces with REP (`CSI n b`): without it the header's
            # columns run together ("USER PRI").
            await wait_for(pilot, lambda: "PID USER" in screen_text(pane.terminal), 15)
            assert re.search(r"PID USER {3,}PRI", screen_text(pane.terminal)), screen_text(pane.terminal)

        await _top_like(pilot, pane, "htop -d 10", "Load average", check=header_columns_apart)
