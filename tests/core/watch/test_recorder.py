"""Recording results: the latest result, incidents after N failures, and aggregates that
equal a recount of the results, on SQLite and the real PostgreSQL."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from jumpdeck.core.servers.checks import CheckResult, Status
from jumpdeck.core.servers.drivers import ErrorKind
from jumpdeck.core.servers.values import DbType
from jumpdeck.core.watch.buckets import Retention, bucket_start
from jumpdeck.core.watch.minute_slots import unpack
from jumpdeck.core.watch.events import IncidentClosed, IncidentOpened
from jumpdeck.core.watch.recorder import prune_in, record_in
from tests.core.watch.conftest import add_servers

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def result(sid: int, at: datetime, online: bool, *, latency: float = 3.0,
           kind: ErrorKind = ErrorKind.TIMEOUT) -> CheckResult:
    if online:
        return CheckResult(sid, f"s{sid}", DbType.POSTGRESQL, "127.0.0.1", 5432, Status.ONLINE, latency, "PostgreSQL 16",
                           checked_at=at)
    return CheckResult(sid, f"s{sid}", DbType.POSTGRESQL, "127.0.0.1", 5432, Status.OFFLINE, 1000.0, None, kind,
                       "No answer.", "", checked_at=at)


def _aggregates(store) -> list:  # noqa: ANN001
    """(grain, row) of every hour and day row."""
    from jumpdeck.core.store.models import WatchDayRow, WatchHourRow

    return store.run_sync(lambda s: [("hour", r) for r in s.scalars(select(WatchHourRow))]
                          + [("day", r) for r in s.scalars(select(WatchDayRow))])


def record(store, results, failures: int = 3):  # noqa: ANN001, ANN201
    return store.run_sync(lambda s: record_in(s, results, checked_by="test:1", failures_to_open=failures))


def test_an_incident_opens_after_n_failures_from_the_first_and_closes_when_it_answers(store) -> None:
    from jumpdeck.core.store.models import WatchIncidentRow, WatchLatestRow

    sid = add_servers(store, ["db1"])["db1"]
    at = [T0 + timedelta(minutes=i) for i in range(6)]
    assert record(store, [result(sid, at[0], True), result(sid, at[1], False), result(sid, at[2], False)]) == []
    opened = record(store, [result(sid, at[3], False)])  # the third failure, in a later batch
    assert [type(e) for e in opened] == [IncidentOpened]
    assert opened[0].started_at == at[1].replace(tzinfo=None) and opened[0].error_kind == "timeout"
    latest = store.run_sync(lambda s: s.get(WatchLatestRow, sid))
    assert (latest.failures, latest.down_since, latest.status) == (3, at[1].replace(tzinfo=None), "offline")
    assert record(store, [result(sid, at[4], False)]) == []  # still the same incident
    closed = record(store, [result(sid, at[5], True)])
    assert [type(e) for e in closed] == [IncidentClosed] and closed[0].ended_at == at[5].replace(tzinfo=None)
    rows = store.run_sync(lambda s: s.scalars(select(WatchIncidentRow)).all())
    assert [(r.started_at, r.ended_at) for r in rows] == [(at[1].replace(tzinfo=None), at[5].replace(tzinfo=None))]
    assert store.run_sync(lambda s: s.get(WatchLatestRow, sid)).failures == 0


def test_fewer_failures_than_n_open_nothing_and_another_kind_is_another_incident(store) -> None:
    from jumpdeck.core.store.models import WatchIncidentRow

    sid = add_servers(store, ["db1"])["db1"]
    at = [T0 + timedelta(minutes=i) for i in range(6)]
    assert record(store, [result(sid, at[0], False), result(sid, at[1], False), result(sid, at[2], True)]) == []
    events = record(store, [result(sid, at[3], False), result(sid, at[4], False),
                            result(sid, at[5], False, kind=ErrorKind.AUTH_FAILED)], failures=2)
    assert [type(e) for e in events] == [IncidentOpened, IncidentClosed, IncidentOpened]
    kinds = store.run_sync(lambda s: [(r.error_kind, r.ended_at is None) for r in
                                      s.scalars(select(WatchIncidentRow).order_by(WatchIncidentRow.id))])
    assert kinds == [("timeout", False), ("auth_failed", True)]


def test_aggregates_equal_a_recount_of_the_results_in_every_grain(store) -> None:
    ids = list(add_servers(store, ["a", "b", "c"]).values())
    rng = random.Random(22)
    results = []
    for i in range(600):  # about 2 days, a few checks a minute, written in uneven batches
        at = T0 + timedelta(seconds=i * 290 + rng.randint(0, 60))
        sid = rng.choice(ids)
        results.append(result(sid, at, rng.random() < 0.8, latency=rng.uniform(0.5, 40.0)))
    start = 0
    while start < len(results):
        size = rng.randint(1, 80)
        record(store, results[start:start + size])
        start += size
    expected = defaultdict(lambda: [0, 0, 0.0, None, None])
    for r in results:
        for grain in ("minute", "hour", "day"):
            tally = expected[(r.server_id, grain, bucket_start(r.checked_at.replace(tzinfo=None), grain))]
            if r.online:
                tally[0] += 1
                tally[2] += r.latency_ms
                tally[3] = r.latency_ms if tally[3] is None else min(tally[3], r.latency_ms)
                tally[4] = r.latency_ms if tally[4] is None else max(tally[4], r.latency_ms)
            else:
                tally[1] += 1
    stored = {}
    for grain, a in _aggregates(store):
        stored[(a.server_id, grain, a.bucket)] = [a.up, a.down, a.latency_sum, a.latency_min, a.latency_max]
        for minute, t in unpack(getattr(a, "minutes", None)).items():  # the hour's minutes, packed in its row
            stored[(a.server_id, "minute", a.bucket + timedelta(minutes=minute))] = [
                t.up, t.down, t.latency_sum, t.latency_min, t.latency_max]
    assert stored.keys() == expected.keys()
    for key, (up, down, total, low, high) in expected.items():
        got = stored[key]
        assert got[:2] == [up, down], key
        # Minute slots hold 32-bit floats: seven digits are what they keep.
        assert got[2] == pytest.approx(total, rel=1e-5), key
        assert got[3] == pytest.approx(low, rel=1e-5) and got[4] == pytest.approx(high, rel=1e-5), key


def test_retention_drops_old_buckets_per_grain_and_old_closed_incidents(store) -> None:
    from jumpdeck.core.store.models import WatchIncidentRow

    sid = add_servers(store, ["db1"])["db1"]
    old = T0 - timedelta(days=2)
    record(store, [result(sid, old, False), result(sid, old + timedelta(seconds=1), True), result(sid, T0, True)],
           failures=1)
    now = T0.replace(tzinfo=None) + timedelta(minutes=5)
    removed = store.run_sync(lambda s: prune_in(s, now, Retention(timedelta(hours=24), timedelta(days=1),
                                                                  timedelta(days=1))))
    grains = sorted((grain, a.bucket < bucket_start(now - timedelta(days=1), grain),
                     getattr(a, "minutes", None) is not None) for grain, a in _aggregates(store))
    assert grains == [("day", False, False), ("hour", False, True)]
    assert removed == 3  # the old hour and day buckets and the incident that ended two days ago
    assert store.run_sync(lambda s: s.scalars(select(WatchIncidentRow)).all()) == []


def test_minutes_past_their_retention_leave_the_hour_row(store) -> None:
    sid = add_servers(store, ["db1"])["db1"]
    record(store, [result(sid, T0 - timedelta(hours=30), True), result(sid, T0, True)])
    now = T0.replace(tzinfo=None)
    assert store.run_sync(lambda s: prune_in(s, now, Retention())) == 1
    hours = sorted((a.bucket, a.up, a.minutes is None) for grain, a in _aggregates(store) if grain == "hour")
    assert hours == [(now - timedelta(hours=30), 1, True), (now, 1, False)]


def test_the_latest_row_carries_24h_and_30d_counts_equal_to_a_recount(store) -> None:
    from jumpdeck.core.store.models import WatchLatestRow

    sid = add_servers(store, ["db1"])["db1"]
    rng = random.Random(9)
    results = [result(sid, T0 + timedelta(minutes=37 * i), rng.random() < 0.7) for i in range(200)]  # ~5 days
    for start in range(0, len(results), 25):
        record(store, results[start:start + 25])
    last = results[-1].checked_at
    since_24h = bucket_start((last - timedelta(hours=24)).replace(tzinfo=None), "hour")
    recent = [r for r in results if r.checked_at.replace(tzinfo=None) >= since_24h]
    row = store.run_sync(lambda s: s.get(WatchLatestRow, sid))
    assert (row.up_24h, row.down_24h) == (sum(r.online for r in recent), sum(not r.online for r in recent))
    assert (row.up_30d, row.down_30d) == (sum(r.online for r in results), sum(not r.online for r in results))
