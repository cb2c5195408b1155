"""The run log widget: ring buffer cap, filter, find, wrap, follow auto-pause, save."""

from __future__ import annotations

from datetime import datetime

from textual.app import App, ComposeResult

from jumpdeck.tui.widgets.run_log import RunLog, guess_result


class LogApp(App):
    def __init__(self, cap: int = 1000) -> None:
        super().__init__()
        self.cap = cap

    def compose(self) -> ComposeResult:
        yield RunLog(max_lines=self.cap, id="log")


def test_results_are_guessed_from_ansible_output() -> None:
    assert guess_result("fatal: [db-1]: FAILED! => {}") == "failed"
    assert guess_result("changed: [web-1]") == "changed"
    assert guess_result("ok: [app-1]") == "ok"
    assert guess_result("skipping: [lb-1]") == "skipped"
    assert guess_result("TASK [base : Create service directories] ***") == "started"
    assert guess_result("nothing special") == ""


async def test_cap_keeps_the_newest_lines() -> None:
    app = LogApp(cap=1000)
    async with app.run_test(size=(80, 20)) as pilot:
        log = app.query_one(RunLog)
        for start in range(0, 5000, 250):
            log.write_lines([f"\x1b[32mok: [web-1] => line {i}\x1b[0m" for i in range(start, start + 250)])
        await pilot.pause()
        assert log.line_count <= 1100
        assert log.lines[-1].text == "ok: [web-1] => line 4999"
        assert log.lines[-1].result == "ok"
        assert len(log._rows) == log.line_count


async def test_filter_find_and_follow() -> None:
    app = LogApp()
    async with app.run_test(size=(80, 10)) as pilot:
        log = app.query_one(RunLog)
        log.write_lines([f"ok: [web-{i % 3}] step {i}" for i in range(100)] + ["fatal: [db-1]: FAILED! => boom"])
        await pilot.pause()
        assert log.follow and log.scroll_y == log.max_scroll_y
        assert log.search("boom") == 1
        assert log.follow is False  # jumping to a match stops following
        log.write_lines(["fatal: [db-2]: FAILED! => boom again"])
        assert log.match_count == 2  # matches found in lines that arrive later too
        assert log.set_filter("web-1") == 33
        log.write_line("ok: [web-1] late")
        assert len(log._rows) == 34
        log.set_filter("")
        assert len(log._rows) == log.line_count
        log.set_follow(True)
        await pilot.pause()
        log.scroll_up(animate=False, immediate=True)
        await pilot.pause()
        assert log.follow is False  # scrolling up pauses follow
        log.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert log.follow is True


async def test_wrap_and_save(tmp_path) -> None:
    app = LogApp()
    async with app.run_test(size=(40, 10)) as pilot:
        log = app.query_one(RunLog)
        at = datetime(2026, 3, 14, 9, 26, 53)
        log.write_lines([("x" * 100, "ok", at), ("short", "changed", at)])
        await pilot.pause()
        assert len(log._rows) == 2
        log.toggle_wrap()
        assert len(log._rows) > 3
        log.toggle_wrap()
        assert len(log._rows) == 2
        out = tmp_path / "run.log"
        assert log.save(out) == 2
        assert out.read_text().splitlines()[1] == "2026-03-14 09:26:53 short"
