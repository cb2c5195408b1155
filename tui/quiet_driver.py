"""Textual's Linux terminal driver, with an input thread that sleeps while nothing comes.

Textual's input thread wakes every 100 ms to see whether a lone ESC has waited long
enough to count as the escape key. Each wake takes the GIL and runs the parser: about
1.5 ms of CPU a second per idle app, which is what 20 idle serve-ssh sessions spent
together (3 % of a core, against a goal of 1 %). This thread blocks until input
arrives; only while the parser holds the start of a sequence does it wake, when that
sequence's timeout is due. A pipe wakes it to stop.

It leans on two private details of Textual 8 (the parser's `_timeout_time` and
`textual._time.get_time`); without them it polls every 100 ms, as Textual does.
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder

from textual.drivers.linux_driver import LinuxDriver

POLL = 0.1  # Textual's own interval, used when the parser's deadline cannot be read


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
        from textual._time import get_time
        from textual._xterm_parser import XTermParser

        wake_r, self._wake_w = os.pipe()
        selector = selectors.DefaultSelector()
        selector.register(self.fileno, selectors.EVENT_READ, "input")
        selector.register(wake_r, selectors.EVENT_READ, "wake")
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        unknown = object()

        def timeout() -> float | None:
            deadline = getattr(parser, "_timeout_time", unknown)
            if deadline is None:
                return None  # nothing pending: sleep until a key (or the stop byte)
            if deadline is unknown:
                return POLL
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
