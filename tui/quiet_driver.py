"""Textual's Linux terminal driver, with an input thread that sleeps while nothing comes.

Textual's input thread wakes every 100 ms to see whether a lone ESC has waited long
enough to count as the escape key. Each wake takes the GIL and runs the parser: about
1.5 ms of CPU a second per idle app, which is what 20 idle serve-ssh sessions spent
together (3 % of a core, against a goal of 1 %). This thread blocks until input
arrives; only while the parser holds the start of a sequence does it wake, when that
sequence's timeout is due. A pipe wakes it to stop.

It is used only in serve-ssh sessions, where that saving was measured (README, "Serve
over SSH"); `jumpdeck` started by hand keeps Textual's own driver.

It leans on private details of Textual 8: the parser class `textual._xterm_parser.XTermParser`,
its `_timeout_time` (when the pending sequence is due, None when nothing is pending) and
the parser's clock `textual._time.get_time`. `private_parts()` checks them, with the
behaviour relied upon, before the driver is chosen; without them the session runs
Textual's own driver. pyproject.toml pins Textual below the next minor release for them.
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder
from typing import Any, Callable, NamedTuple

from textual.drivers.linux_driver import LinuxDriver


class PrivateParts(NamedTuple):
    parser_class: type
    get_time: Callable[[], float]


def private_parts() -> PrivateParts | None:
    """Textual's parser and its clock, if they still look and behave as this driver
    expects: a fresh parser has no deadline, a lone ESC sets one on the parser's clock,
    and once it has passed `tick()` turns the ESC into the escape key."""
    try:
        from textual._time import get_time
        from textual._xterm_parser import XTermParser

        parser = XTermParser(False)
        if parser._timeout_time is not None:
            return None
        before = get_time()
        if list(parser.feed("\x1b")):
            return None
        deadline = parser._timeout_time
        if not isinstance(deadline, float) or deadline < before:
            return None
        parser._timeout_time = get_time() - 1  # as if the deadline had passed
        keys = [getattr(event, "key", None) for event in parser.tick()]
        if keys != ["escape"] or parser._timeout_time is not None:
            return None
    except Exception:  # noqa: BLE001 - any mismatch: not the Textual this driver was written for
        return None
    return PrivateParts(XTermParser, get_time)


class QuietLinuxDriver(LinuxDriver):
    _wake_w: int = -1

    def disable_input(self) -> None:
        if self._wake_w >= 0:
            try:
                os.write(self._wake_w, b"x")  # the thread leaves on this byte
            except OSError:
                pass
        super().disable_input()

    def run_input_thread(self) -> None:
        parts = private_parts()
        if parts is None:  # chosen without the check, or Textual changed under us
            super().run_input_thread()
            return
        wake_r, self._wake_w = os.pipe()
        selector = selectors.DefaultSelector()
        selector.register(self.fileno, selectors.EVENT_READ, "input")
        selector.register(wake_r, selectors.EVENT_READ, "wake")
        parser: Any = parts.parser_class(getattr(self, "_debug", False))
        get_time = parts.get_time
        decode = getincrementaldecoder("utf-8")().decode

        def timeout() -> float | None:
            deadline = parser._timeout_time
            if deadline is None:
                return None  # nothing pending: sleep until a key (or the stop byte)
            return max(0.0, deadline - get_time())

        try:
            while not self.exit_event.is_set():
                stop = False
                for key, _mask in selector.select(timeout()):
                    if key.data == "wake":
                        stop = True
                        continue
                    data = decode(os.read(self.fileno, 1024 * 4))
                    if data:
                        for event in parser.feed(data):
                            self.process_message(event)
                for event in parser.tick():
                    self.process_message(event)
                if stop:
                    break
        finally:
            selector.close()
            wake_w, self._wake_w = self._wake_w, -1
            for fd in (wake_r, wake_w):
                os.close(fd)
            try:
                for _event in parser.feed(""):
                    pass
            except Exception:  # noqa: BLE001 - an unfinished sequence at exit is dropped
                pass


def driver_for_session(serve_session: bool, platform: str, environ: dict[str, str] | os._Environ) -> tuple[type | None, str]:
    """The driver class for the app (None: Textual's own choice) and, when the quiet
    driver was wanted but cannot be used, a sentence for the log."""
    if not serve_session or not platform.startswith("linux") or environ.get("TEXTUAL_DRIVER"):
        return None, ""
    if private_parts() is None:
        from importlib.metadata import version

        return None, (f"Textual {version('textual')} lacks the parser details the quiet input driver "
                      "relies on: this session uses Textual's own driver (it wakes 10 times a second)")
    return QuietLinuxDriver, ""
