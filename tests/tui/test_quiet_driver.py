"""The quiet input driver (tui/quiet_driver.py): chosen only for serve-ssh sessions, and
only while Textual still has the private parser details it relies on. These tests fail
when an upgraded Textual changes them, and show that without them a session gets
Textual's own driver. The driver running for real: tests/serve/test_quiet_session.py."""

from __future__ import annotations

import inspect
import os

import textual._time
from textual.drivers.linux_driver import LinuxDriver

from jumpdeck.tui.quiet_driver import QuietLinuxDriver, driver_for_session, private_parts


def test_textual_has_the_parser_details_the_driver_relies_on():
    from textual._time import get_time
    from textual._xterm_parser import XTermParser

    parser = XTermParser(False)
    assert parser._timeout_time is None  # nothing pending: the thread may sleep
    before = get_time()
    assert list(parser.feed("\x1b")) == []  # a lone ESC waits for what may follow
    assert isinstance(parser._timeout_time, float) and parser._timeout_time >= before
    assert list(parser.tick()) == []  # not due yet
    parser._timeout_time = get_time() - 1
    assert [event.key for event in parser.tick()] == ["escape"] and parser._timeout_time is None
    assert [event.key for event in parser.feed("a")] == ["a"] and parser._timeout_time is None
    assert private_parts() is not None


async def test_the_driver_has_what_the_input_thread_reads():
    from textual.app import App

    # The method the quiet driver replaces, and what its thread reads of the driver.
    assert list(inspect.signature(LinuxDriver.run_input_thread).parameters) == ["self"]
    driver = QuietLinuxDriver(App(), debug=False, size=(80, 24))
    assert isinstance(driver.fileno, int) and not driver.exit_event.is_set() and driver._debug is False
    assert callable(driver.process_message)


def test_quiet_only_in_serve_sessions_on_linux_without_a_driver_override():
    assert driver_for_session(True, "linux", {}) == (QuietLinuxDriver, "")
    assert driver_for_session(False, "linux", {}) == (None, "")  # jumpdeck started by hand
    assert driver_for_session(True, "linux", {"TEXTUAL_DRIVER": "x:y"}) == (None, "")
    assert driver_for_session(True, "darwin", {}) == (None, "")


def test_without_the_details_a_session_gets_textuals_own_driver(monkeypatch):
    # As if a later Textual had moved its clock: its own parser still runs.
    monkeypatch.delattr(textual._time, "get_time")
    assert private_parts() is None
    driver, note = driver_for_session(True, "linux", {})
    assert driver is None and "uses Textual's own driver" in note

    ran = []
    monkeypatch.setattr(LinuxDriver, "run_input_thread", lambda self: ran.append(self))
    quiet = object.__new__(QuietLinuxDriver)  # chosen anyway: its thread is Textual's
    quiet.run_input_thread()
    assert ran == [quiet]


def _thread_switches(native_id: int) -> int:
    with open(f"/proc/self/task/{native_id}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("voluntary_ctxt_switches"))


def test_input_thread_on_a_pty_sleeps_and_times_out_a_lone_escape():
    """The thread for real on a PTY: idle it does not wake; keys come through; a lone ESC
    becomes the escape key once the parser's deadline passes; the stop byte ends it."""
    import pty
    import threading
    import time
    import tty

    from textual import events

    primary, secondary = pty.openpty()
    tty.setraw(secondary)  # as Textual's application mode leaves it: bytes, not lines
    driver = object.__new__(QuietLinuxDriver)
    driver.fileno, driver.exit_event, driver._debug = secondary, threading.Event(), False
    keys: list[str] = []
    driver.process_message = lambda event: keys.append(event.key) if isinstance(event, events.Key) else None
    thread = threading.Thread(target=driver.run_input_thread, daemon=True)
    try:
        thread.start()
        time.sleep(0.3)
        before = _thread_switches(thread.native_id)
        time.sleep(1.0)
        assert _thread_switches(thread.native_id) - before <= 1  # Textual's own: 10 wakes
        os.write(primary, b"a")
        assert _wait(lambda: keys == ["a"]), keys
        os.write(primary, b"\x1b")
        assert _wait(lambda: keys == ["a", "escape"]), keys
    finally:
        os.write(driver._wake_w, b"x")
        thread.join(5)
        os.close(primary)
        os.close(secondary)
    assert not thread.is_alive() and driver._wake_w == -1


def _wait(predicate, timeout: float = 2.0) -> bool:  # noqa: ANN001
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
