"""When the garbage collector's full passes run inside the app.

A full pass walks every tracked object with the event loop stopped. Once the app holds
a few screens' worth of widgets, strips and a terminal's scrollback (75,000 objects,
430,000 references, measured), one pass takes 80-160 ms, and Python starts it whenever
enough objects have survived: in the middle of a flood of terminal output or a
1,000-row Monitor refresh, exactly when a key is being pressed (bench/terminal.py and
bench/monitor.py saw their worst keys there).

So the app turns off automatic full passes and runs them itself, when the operator has
not touched a key for a few seconds, or at the latest every few minutes. The young
generations keep collecting automatically (they are small and quick); reference counting
frees everything else as always; only garbage cycles wait for the next full pass.
"""

from __future__ import annotations

import gc
import time
from typing import Callable

CHECK_EVERY = 15.0  # seconds between looks at the clock (a timer tick sends nothing)
QUIET_FOR = 3.0  # no operator input for this long: a full pass is allowed
AT_LEAST_EVERY = 300.0  # a full pass this often even while the operator types
NEVER = 1 << 30  # as the third threshold: no automatic full pass


class CollectorSchedule:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.last_input = clock()
        self.last_full = clock()
        self.passes = 0
        self._saved: tuple[int, int, int] | None = None

    def start(self) -> None:
        if self._saved is None:
            self._saved = gc.get_threshold()
            young, middle, _ = self._saved
            gc.set_threshold(young, middle, NEVER)

    def stop(self) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def input_seen(self) -> None:
        self.last_input = self.clock()

    def due(self) -> bool:
        now = self.clock()
        return now - self.last_full >= CHECK_EVERY and (
            now - self.last_input >= QUIET_FOR or now - self.last_full >= AT_LEAST_EVERY)

    def tick(self) -> bool:
        """Run a full pass if one is due; True if it ran."""
        if not self.due():
            return False
        gc.collect()
        self.last_full = self.clock()
        self.passes += 1
        return True
