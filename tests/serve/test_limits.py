"""serve-ssh's login limits on their own, with a clock the tests move."""

from __future__ import annotations

import pytest

from jumpdeck.core.errors import Conflict
from jumpdeck.core.serve import limits
from jumpdeck.core.serve.limits import LoginLimits, RefusalLog, RefusalSummary, SourcePenalties, UserSlots


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_is_refused_after_its_failures_for_longer_each_time():
    clock = Clock()
    penalties = SourcePenalties(LoginLimits(failures_allowed=3, penalty=15, penalty_max=100), clock)
    assert [penalties.failed("10.0.0.9") for _ in range(2)] == [0, 0]
    assert penalties.refused_for("10.0.0.9") == 0
    assert penalties.failed("10.0.0.9") == 15
    assert penalties.refused_for("10.0.0.9") == 15
    assert penalties.refused_for("10.0.0.8") == 0  # only that address
    clock.now += 10
    assert penalties.refused_for("10.0.0.9") == 5
    clock.now += 5
    assert penalties.refused_for("10.0.0.9") == 0

    # Back and failing again: refused twice as long, then four times, never past the maximum.
    seen = []
    for _ in range(4):
        for _ in range(3):
            penalty = penalties.failed("10.0.0.9")
        seen.append(penalty)
        clock.now += penalty
    assert seen == [30, 60, 100, 100]


def test_a_quiet_address_starts_over():
    clock = Clock()
    penalties = SourcePenalties(LoginLimits(failures_allowed=2, penalty=10, penalty_max=60), clock)
    penalties.failed("a")
    assert penalties.failed("a") == 10
    clock.now += 10 + 61  # its penalty over, then longer than the longest penalty without failures
    assert penalties.failed("a") == 0  # one failure again, not the one that completes a pair
    assert penalties.failed("a") == 10  # and the first penalty again, not the doubled one


def test_no_penalties_when_failures_allowed_is_zero():
    penalties = SourcePenalties(LoginLimits(failures_allowed=0), Clock())
    assert all(penalties.failed("a") == 0 for _ in range(50))
    assert penalties.refused_for("a") == 0 and len(penalties) == 0


def test_the_penalty_table_has_a_bound(monkeypatch):
    monkeypatch.setattr(limits, "MAX_SOURCES", 3)
    penalties = SourcePenalties(LoginLimits(failures_allowed=1, penalty=30), Clock())
    for address in ("a", "b", "c", "d"):
        penalties.failed(address)
    assert len(penalties) == 3
    assert penalties.refused_for("a") == 0  # the oldest went first
    assert penalties.refused_for("d") == 30


def test_user_slots_count_ssh_n_and_sessions_alike():
    clock = Clock()
    slots = UserSlots(3, clock)
    slots.connect("kim", "c1")  # ssh -N: no session at all
    slots.connect("kim", "c2")
    slots.open_session("c2")  # an ordinary ssh -t: one connection, one session, one slot
    assert slots.held("kim") == 2
    slots.connect("kim", "c3")
    with pytest.raises(Conflict, match=r"You already have 3 jumpdeck connections open, ssh -N included \(the limit is 3\)"):
        slots.connect("kim", "c4")
    slots.connect("lee", "l1")  # another user has slots of their own
    # A second session on one connection (a multiplexing client) is one more slot.
    with pytest.raises(Conflict):
        slots.open_session("c2")
    slots.disconnect("c1")
    slots.open_session("c2")
    assert slots.held("kim") == 3
    slots.close_session("c2")
    slots.close_session("c2")
    slots.close_session("c2")  # more closes than opens change nothing
    assert slots.held("kim") == 2
    with pytest.raises(Conflict, match="closing"):
        slots.open_session("gone")


def test_connections_without_a_session_are_found_after_a_while():
    clock = Clock()
    slots = UserSlots(5, clock)
    slots.connect("kim", "forward-only")
    slots.connect("kim", "working")
    slots.open_session("working")
    clock.now += 30
    assert slots.sessionless_beyond(60) == []
    clock.now += 31
    assert slots.sessionless_beyond(60) == ["forward-only"]
    slots.close_session("working")  # its session ended: its connection's time starts now
    clock.now += 59
    assert slots.sessionless_beyond(60) == ["forward-only"]
    clock.now += 2
    assert slots.sessionless_beyond(60) == ["forward-only", "working"]


def test_refusals_first_per_window_then_one_summary():
    clock = Clock()
    log = RefusalLog(60, clock)
    assert log.note("10.0.0.9").write
    assert [log.note("10.0.0.9").write for _ in range(99)] == [False] * 99
    assert log.note("10.0.0.8").write  # each address has its own window
    assert log.note("10.0.0.9", "lee").write  # and a known user's refusals from it one more
    assert not log.note("10.0.0.9", "lee").write
    clock.now += 30
    assert log.due() == []
    clock.now += 30
    assert log.due() == [RefusalSummary("10.0.0.9", 99), RefusalSummary("10.0.0.9", 1, "lee")]
    assert RefusalSummary("10.0.0.9", 99).sentence() == "99 more refused from 10.0.0.9"
    assert RefusalSummary("10.0.0.9", 1, "lee").sentence() == "1 more refused from 10.0.0.9 for lee"
    assert log.due() == []  # said once


def test_a_refusal_after_the_window_brings_the_last_windows_summary():
    clock = Clock()
    log = RefusalLog(60, clock)
    log.note("a")
    log.note("a")
    clock.now += 61
    noted = log.note("a")  # before due() ran: the next window's first refusal
    assert noted.write and noted.summary == RefusalSummary("a", 1)
    clock.now += 10
    log.note("a")
    assert log.due(everything=True) == [RefusalSummary("a", 1)]  # at shutdown, whatever is open


def test_a_flood_from_very_many_addresses_is_counted_together(monkeypatch):
    monkeypatch.setattr(limits, "MAX_SOURCES", 2)
    clock = Clock()
    log = RefusalLog(60, clock)
    assert [log.note(f"10.0.0.{i}").write for i in range(5)] == [True, True, False, False, False]
    clock.now += 60
    assert log.due() == [RefusalSummary(limits.OTHER_SOURCES, 3)]
