"""The Provision screen with Pilot: a mock run started from the dialog streams into
the run view and its progress advances; find, filter and follow work on the log; and
snapshots of the run view at 120x40 and 80x24."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from jumpdeck.core.config import load_config
from tests.tui.conftest import FIXED, booted, prepare_store


@pytest.fixture
def mock_config(tmp_path):
    config = load_config(cli={"home": str(tmp_path / "home"), "runner": "mock"})
    asyncio.run(prepare_store(config))
    return config


async def test_mock_run_streams_and_progress_advances(mock_config) -> None:
    from textual.widgets import Input, ProgressBar

    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.widgets.run_log import RunLog

    app = JumpdeckApp(mock_config, user="admin", start_mode="provision")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        await pilot.press("a")
        await pilot.pause(0.3)
        app.screen.query_one("#nr-name", Input).value = "pilot-run"
        await pilot.press("enter")
        screen = app.screen
        log = screen.query_one(RunLog)
        bar = screen.query_one("#pv-progress", ProgressBar)
        seen_progress, seen_lines = set(), set()
        for _ in range(300):
            await pilot.pause(0.05)
            seen_progress.add(bar.progress)
            seen_lines.add(log.line_count)
            if screen.current is not None and screen.current.status == "COMPLETED":
                break
        assert screen.current is not None and screen.current.status == "COMPLETED"
        # It advanced in view: several distinct progress values and line counts.
        assert len(seen_progress) >= 3 and max(seen_progress) == 5
        assert len(seen_lines) >= 3
        texts = [line.text for line in log.lines]
        assert "::: run is COMPLETED" in texts
        # Find and filter on the finished log.
        await pilot.press("slash")
        screen.query_one("#pv-prompt", Input).value = "STEP_3"
        await pilot.press("enter")
        assert log.match_count == 1
        await pilot.press("ampersand")
        screen.query_one("#pv-prompt", Input).value = "changed"
        await pilot.press("enter")
        assert len(log._rows) == sum(1 for t in texts if "changed" in t)
        await pilot.press("f")
        assert log.follow is False
        await pilot.press("f")
        assert log.follow is True
        # esc clears the find and the filter (the prompt is closed already).
        await pilot.press("escape")
        assert log.filter_text == "" and log.search_text == "" and len(log._rows) == len(texts)
        # h: the history filter, from the keyboard; esc clears it and goes back to the table.
        await pilot.press("h", *"nomatch")
        history = screen.query_one("#pv-history-filter", Input)
        assert history.value == "nomatch"
        await pilot.pause(0.2)
        assert screen.query_one("#pv-runs").row_count == 0
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert history.value == "" and screen.query_one("#pv-runs").has_focus
        assert screen.query_one("#pv-runs").row_count == 1


def _seed_finished_run(ctx) -> None:  # noqa: ANN001
    from jumpdeck.core.store.models import ProvisionEventRow, ProvisionRunRow

    def go(session) -> None:  # noqa: ANN001
        run = ProvisionRunRow(service_name="web-portal", template="standard", status="COMPLETED", created_by="admin",
                              runner="mock", created_at=FIXED, started_at=FIXED, finished_at=FIXED + timedelta(seconds=83),
                              assigned_ip="127.0.10.1,127.0.10.2,127.0.10.3")
        steps = ["Allocate IPs", "Prepare hosts", "Create DB tier", "Create App tier", "Create Web tier", "Health check", "Record deployment"]
        run.details = {"status": "COMPLETED", "config": {"steps": steps},
                       "progress": {"step": 7, "total": 7},
                       "resources": {"web_url": "http://127.0.10.1:8080/", "db_vip": "127.0.10.3"}}
        session.add(run)
        session.flush()
        lines = [("step", "ok", "", "Allocate IPs", 1), ("status", "RUNNING", "", "RUNNING", None),
                 ("line", "started", "", "PLAY [Step 2: Prepare hosts] ****", None),
                 ("line", "changed", "web-1", "changed: [web-1]", None), ("line", "ok", "app-1", "ok: [app-1]", None),
                 ("line", "skipped", "db-1", "skipping: [db-1]", None),
                 ("line", "failed", "db-1", "fatal: [db-1]: FAILED! => {\"msg\": \"retrying\"} (ignored)", None),
                 ("step", "ok", "", "Prepare hosts", 2), ("status", "COMPLETED", "", "COMPLETED", None)]
        for kind, result, host, text, step in lines:
            session.add(ProvisionEventRow(run_id=run.id, kind=kind, result=result, host=host, text=text, step=step, at=FIXED))

    return ctx.store.run(go)


@pytest.fixture
def seeded_config(tmp_path):
    config = load_config(cli={"home": str(tmp_path / "home"), "runner": "mock"})
    asyncio.run(prepare_store(config, extra=_seed_finished_run))
    return config


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_run_view_snapshot(snap_compare, seeded_config, size) -> None:
    from jumpdeck.tui.app import JumpdeckApp

    async def run_before(pilot) -> None:
        await booted(pilot)
        await pilot.pause(0.2)
        await pilot.press("enter")
        for _ in range(50):
            await pilot.pause(0.05)
            if pilot.app.screen.current is not None and pilot.app.screen.current.status == "COMPLETED" \
                    and pilot.app.screen.query_one("#pv-log").line_count >= 9:
                break
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.2)

    assert snap_compare(JumpdeckApp(seeded_config, user="admin", start_mode="provision"), terminal_size=size,
                        run_before=run_before)


async def test_a_run_whose_worker_died_is_shown_recovered(mock_config) -> None:
    """The screen follows through the service's loop, which settles a run whose worker
    is gone: the open run ends FAILED with the reason, on screen, without a reload."""
    import os
    import signal

    from jumpdeck.core.provision.process import worker_alive
    from jumpdeck.core.provision.service import ProvisionService
    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.widgets.run_log import RunLog

    app = JumpdeckApp(mock_config, user="admin", start_mode="provision")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        screen = app.screen
        svc = ProvisionService(app.ctx.store, app.ctx.config, app.ctx.settings)
        info = await svc.start(app.ctx.actor, "single", "doomed", runner="mock", target="none",
                               options={"step_delay": 60})
        try:
            for _ in range(300):  # until the worker has really started the run
                if (await svc.get(app.ctx.actor, info.id)).status == "RUNNING":
                    break
                await asyncio.sleep(0.1)
            screen.open_run(info.id)
            for _ in range(50):
                await pilot.pause(0.05)
                if screen.current is not None and screen.current.status == "RUNNING":
                    break
            assert screen.current.status == "RUNNING"
        finally:
            os.kill(info.worker_pid, signal.SIGKILL)
        for _ in range(50):
            if not worker_alive(info.worker_pid, info.id):
                break
            await asyncio.sleep(0.1)
        for _ in range(100):
            await pilot.pause(0.05)
            if screen.current.status != "RUNNING":
                break
        assert screen.current.status == "FAILED"
        title = str(screen.query_one("#pv-title").render())
        assert "FAILED" in title and "interrupted: its worker process is gone" in title
        texts = [line.text for line in screen.query_one(RunLog).lines]
        assert texts[-1] == "::: run is FAILED: interrupted: its worker process is gone"


async def test_a_refused_start_keeps_the_dialog_and_what_was_typed(mock_config) -> None:
    from textual.widgets import Input, Select

    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.screens.provision import NewRunDialog

    app = JumpdeckApp(mock_config, user="admin", start_mode="provision")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        await pilot.press("a")
        await pilot.pause(0.3)
        dialog = app.screen
        assert isinstance(dialog, NewRunDialog)
        dialog.query_one("#nr-target", Select).value = "pool"  # the pool is empty
        await pilot.press(*"kept-name")
        await pilot.press("enter")
        # (The screen's worker waits on the dialog, which stays open: poll, not wait.)
        for _ in range(50):
            await pilot.pause(0.1)
            error = str(dialog.query_one("#nr-error").render())
            if "available" in error:
                break
        assert app.screen is dialog
        assert "available" in error, error
        assert dialog.query_one("#nr-name", Input).value == "kept-name"


async def test_an_ended_run_is_deleted_after_naming_it(mock_config) -> None:
    from jumpdeck.core.context import open_context
    from jumpdeck.tui.app import JumpdeckApp
    from jumpdeck.tui.screens.confirm import ConfirmScreen

    ctx = await open_context(mock_config, user="admin")
    await _seed_finished_run(ctx)
    ctx.close()
    app = JumpdeckApp(mock_config, user="admin", start_mode="provision")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        screen = app.screen
        assert [r.service_name for r in screen.runs] == ["web-portal"]
        await pilot.press("D")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "web-portal" in text and "COMPLETED" in text
        await pilot.press("y")
        for _ in range(30):
            await pilot.pause(0.1)
            if not screen.runs:
                break
        assert screen.runs == []
