"""The SSH screen inside the real app shell, against the fixture sshd."""

from __future__ import annotations

import asyncio

from textual.widgets import Tab, Tabs

from tests.ssh.conftest import target_for
from tests.ssh.test_terminal_widget import screen_text, wait_for
from jumpdeck.tui.app import JumpdeckApp


def make_app(config, *targets):
    app = JumpdeckApp(config, start_mode="ssh")
    app.ssh_pending = list(targets)
    app.expect_panes = len(targets)
    return app


async def ssh_screen(pilot):
    from jumpdeck.tui.screens.ssh import SshScreen

    await wait_for(pilot, lambda: isinstance(pilot.app.screen, SshScreen))
    screen = pilot.app.screen
    if getattr(pilot.app, "expect_panes", 0):
        await wait_for(pilot, lambda: len(screen.panes()) >= pilot.app.expect_panes)
    return screen


async def test_cli_style_start_tabs_activity_and_exit_status(config, sshd_module):
    config.known_hosts_path.parent.mkdir(parents=True, exist_ok=True)
    config.known_hosts_path.write_text(sshd_module.known_hosts_line + "\n")
    app = make_app(config, target_for(sshd_module))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ssh_screen(pilot)
        first = screen.panes()[0]
        await wait_for(pilot, lambda: first.state == "live")
        assert app.focused is first.terminal
        await pilot.press(*"echo one", "enter")
        await wait_for(pilot, lambda: "\none" in screen_text(first.terminal))

        # A second session; then output in the first (now background) tab marks it.
        second = await screen.open_session(target_for(sshd_module))
        await wait_for(pilot, lambda: second.state == "live")
        first.terminal.sink.write(b"sleep 0.2; echo later\r")
        await wait_for(pilot, lambda: "\nlater" in screen_text(first.terminal))
        await wait_for(pilot, lambda: str(screen.query_one(f"#tab-{first.id}", Tab).label).endswith("•"))
        label = str(screen.query_one(f"#tab-{first.id}", Tab).label)
        assert label.startswith(f"{sshd_module.user}@127.0.0.1:{sshd_module.port}")

        # ctrl+] leaves the terminal; the tab bar has the focus; left switches back.
        await pilot.press("ctrl+right_square_bracket")
        await pilot.pause()
        assert isinstance(app.focused, Tabs)
        await pilot.press("left")
        await wait_for(pilot, lambda: screen.active_pane is first)
        assert not str(screen.query_one(f"#tab-{first.id}", Tab).label).endswith("•")

        # Closing a live session asks first.
        await pilot.press("w")
        await pilot.pause()
        from jumpdeck.tui.screens.confirm import ConfirmScreen

        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert first in screen.panes()

        # A finished session shows its exit status in the tab.
        await pilot.press("enter")
        assert app.focused is first.terminal
        await pilot.press(*"exit 5", "enter")
        await wait_for(pilot, lambda: first.state == "finished")
        await wait_for(pilot, lambda: "[5]" in str(screen.query_one(f"#tab-{first.id}", Tab).label))
        await pilot.press("ctrl+right_square_bracket", "w")  # finished: closes without asking
        await wait_for(pilot, lambda: first not in screen.panes())
        assert screen.running_work() == [f"SSH session {second.target.label}"]

        page = await app.ctx.activity.page(app.ctx.actor)
        opens = [e for e in page.entries if e.action == "SSH_OPEN"]
        assert len(opens) == 2 and opens[0].target_id == first.target.label


async def test_unknown_host_dialog_then_changed_key_refused(config, sshd_module, tmp_path):
    from jumpdeck.tui.screens.ssh_dialogs import HostKeyDialog

    app = make_app(config, target_for(sshd_module))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ssh_screen(pilot)
        pane = screen.panes()[0]
        await wait_for(pilot, lambda: isinstance(app.screen, HostKeyDialog))
        assert app.screen.offer.fingerprint in str(app.screen.message)
        await pilot.press("enter")  # the focused button is "Reject"
        await wait_for(pilot, lambda: pane.state == "failed")
        assert not config.known_hosts_path.exists()

        again = await screen.open_session(target_for(sshd_module))
        await wait_for(pilot, lambda: isinstance(app.screen, HostKeyDialog))
        await pilot.press("tab", "enter")  # "Trust and connect"
        await wait_for(pilot, lambda: again.state == "live")
        assert sshd_module.known_hosts_line in config.known_hosts_path.read_text()

    # Same host, same port, a different key on file: refused, with the warning on screen.
    import subprocess

    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    config.known_hosts_path.write_text(f"[127.0.0.1]:{sshd_module.port} " + " ".join(other.with_suffix(".pub").read_text().split()[:2]) + "\n")
    app = make_app(config, target_for(sshd_module))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ssh_screen(pilot)
        pane = screen.panes()[0]
        await wait_for(pilot, lambda: pane.state == "failed")
        assert "man-in-the-middle" in screen_text(pane.terminal).replace("\n", "")
        await wait_for(pilot, lambda: "[failed]" in str(screen.query_one(f"#tab-{pane.id}", Tab).label))


async def test_connect_dialog_opens_a_session(config, sshd_module):
    from jumpdeck.tui.screens.ssh_dialogs import ConnectDialog

    config.known_hosts_path.parent.mkdir(parents=True, exist_ok=True)
    config.known_hosts_path.write_text(sshd_module.known_hosts_line + "\n")
    app = make_app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ssh_screen(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ConnectDialog))
        dialog = app.screen
        dialog.query_one("#host").value = f"{sshd_module.user}@127.0.0.1"
        dialog.query_one("#port").value = str(sshd_module.port)
        dialog.query_one("#auth").value = "key"
        await pilot.pause()
        dialog.query_one("#key").value = str(sshd_module.client_key)
        dialog.query_one("#connect").press()
        await wait_for(pilot, lambda: screen.panes() and screen.panes()[0].state == "live")

