"""When the garbage collector's full passes run inside the app.

A full pass walks every tracked object with the event loop stopped. Once the app holds
a few screens' worth of widgets, strips and a terminal's scrollback (75,000 objects,
430,000 references, measured), one pass takes 80-160 ms, and Python starts it whenever
enough objects have survived: in the middle of a flood of terminal output or a
1,000-row Monitor refresh, exactly when a key is being pressed (bench/terminal.py and
bench/monitor.py saw their worst keys there).

So the app turns off automatic full passes and runs them itself, when the operator has
not touched a key for a few seconds, or at the latest every few minutes; and only when
objects have been moving into the oldest generation since the last pass (as many
middle-generation collections as Python itself waits for). An idle screen allocates
next to nothing: without that condition each idle session ran a pointless full pass
every 15 s (20 idle serve-ssh sessions: 2-3 % of a core). The young
generations keep collecting automatically (they are small and quick); reference counting
frees everything else as always; only garbage cycles wait for the next full pass.

All of this was measured on CPython 3.11, whose collector has three generations and a
third threshold that counts middle-generation collections. Later collectors differ (3.14's
is incremental, and its thresholds mean something else), so on any other version the
schedule stands aside and Python's own runs: `applies()` says which.
"""

from __future__ import annotations

import gc
import sys
import time
from typing import Callable

CHECK_EVERY = 15.0  # seconds between looks at the clock (a timer tick sends nothing)
QUIET_FOR = 3.0  # no operator input for this long: a full pass is allowed
AT_LEAST_EVERY = 300.0  # a full pass this often even while the operator types
NEVER = 1 << 30  # as the third threshold: no automatic full pass
MEASURED_ON = (3, 11)  # the CPython the figures above come from


def applies(version: tuple[int, ...] = sys.version_info[:2]) -> bool:
    return sys.implementation.name == "cpython" and tuple(version[:2]) == MEASURED_ON


class CollectorSchedule:
    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 promoted: Callable[[], int] = lambda: gc.get_count()[2], *, active: bool | None = None) -> None:
        self.clock = clock
        self.active = applies() if active is None else active  # False: Python's own schedule
        # Middle-generation collections since the last full pass (what Python's own third
        # threshold counts); a pass is due once there are as many as that threshold.
        self.promoted = promoted
        self.min_promoted = gc.get_threshold()[2]
        self.last_input = clock()
        self.last_full = clock()
        self.passes = 0
        self._saved: tuple[int, int, int] | None = None

    def start(self) -> None:
        if self.active and self._saved is None:
            self._saved = gc.get_threshold()
            young, middle, self.min_promoted = self._saved
            gc.set_threshold(young, middle, NEVER)

    def stop(self) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def input_seen(self) -> None:
        self.last_input = self.clock()

    def due(self) -> bool:
        now = self.clock()
        return now - self.last_full >= CHECK_EVERY and self.promoted() >= self.min_promoted and (
            now - self.last_input >= QUIET_FOR or now - self.last_full >= AT_LEAST_EVERY)

    def tick(self) -> bool:
        """Run a full pass if one is due; True if it ran."""
        if not self.active or not self.due():
            return False
        gc.collect()
        self.last_full = self.clock()
        self.passes += 1
        return True
