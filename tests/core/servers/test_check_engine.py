"""The engine's promises, with stand-in drivers: a hung driver never stalls a round,
the thread pool stays bounded, results stream as they land, sequential means one at
a time, and closing a round early cancels the rest."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from jumpdeck.core.servers import drivers
from jumpdeck.core.servers.checks import CheckEngine, CheckTarget, Status, summarize
from jumpdeck.core.servers.drivers import Driver, DriverError, ErrorKind
from tests.core.servers.conftest import creds


class FakeDriver(Driver):
    """Behaves by port: 1 hangs (ignoring its timeout) until released, 2 fails auth,
    anything else answers after `port` milliseconds."""

    db_type = "postgresql"
    library = "fake"
    install_hint = ""

    def lib(self) -> None:  # nothing to import
        return None

    def __init__(self) -> None:
        self.release = threading.Event()
        self.active = 0
        self.peak = 0
        self._lock = threading.Lock()

    def version(self, creds, timeout):  # noqa: ANN001, ANN201
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            if creds.port == 1:
                self.release.wait(30)
                return "late"
            if creds.port == 2:
                raise DriverError(ErrorKind.AUTH_FAILED, "Login failed for user 'u'.")
            time.sleep(creds.port / 1000)
            return f"Fake {creds.port}"
        finally:
            with self._lock:
                self.active -= 1


@pytest.fixture
def fake(monkeypatch):
    driver = FakeDriver()
    monkeypatch.setitem(drivers._loaded, "postgresql", driver)
    yield driver
    driver.release.set()


def target(port: int, name: str = "") -> CheckTarget:
    return CheckTarget(creds("postgresql", port), server_id=port, name=name or f"s{port}")


async def test_a_hung_driver_is_cut_off_at_the_deadline(fake) -> None:
    engine = CheckEngine(timeout=0.3)
    begin = time.perf_counter()
    result = await engine.check(target(1))
    assert time.perf_counter() - begin < 0.3 + 0.5
    assert result.status is Status.OFFLINE and result.error_kind is ErrorKind.TIMEOUT
    assert "within 0.3 s" in result.message
    assert engine.threads_busy == 1  # the abandoned thread is still in the driver
    fake.release.set()
    for _ in range(100):
        if engine.threads_busy == 0:
            break
        await asyncio.sleep(0.01)
    assert engine.threads_busy == 0
    engine.close()


async def test_hung_servers_do_not_delay_the_others(fake) -> None:
    engine = CheckEngine(timeout=0.5)
    order = []
    begin = time.perf_counter()
    async for result in engine.check_many([target(1), target(1), target(10), target(20), target(2)], concurrency=5):
        order.append((result.server_id, round(time.perf_counter() - begin, 2)))
    ids = [sid for sid, _ in order]
    assert set(ids[:3]) == {10, 20, 2}  # the fast ones land first
    assert ids[3:] == [1, 1]
    assert all(at < 0.2 for sid, at in order if sid != 1)
    assert time.perf_counter() - begin < 0.5 + 0.5
    engine.close()


async def test_the_thread_pool_is_bounded_even_with_abandoned_threads(fake) -> None:
    engine = CheckEngine(timeout=0.2, max_threads=2)
    results = [r async for r in engine.check_many([target(1), target(1), target(5)], concurrency=3)]
    stuck = [r for r in results if r.server_id == 5][0]
    # Both threads are held by hung drivers, so the third check could not start.
    assert stuck.error_kind is ErrorKind.TIMEOUT and "No free check thread" in stuck.message
    assert fake.peak <= 2
    fake.release.set()
    await asyncio.sleep(0.1)
    assert (await engine.check(target(5))).online
    engine.close()


async def test_concurrency_limits_checks_in_flight(fake) -> None:
    engine = CheckEngine(timeout=2)
    results = [r async for r in engine.check_many([target(30 + i) for i in range(12)], concurrency=4)]
    assert len(results) == 12 and all(r.online for r in results)
    assert fake.peak <= 4
    engine.close()


async def test_sequential_round_checks_one_at_a_time_with_progress(fake) -> None:
    engine = CheckEngine(timeout=2)
    steps = [p async for p in engine.check_round([target(5), target(2), target(6)], sequential=True)]
    assert [(p.done, p.total) for p in steps] == [(1, 3), (2, 3), (3, 3)]
    assert [p.result.server_id for p in steps] == [5, 2, 6]  # in order: one at a time
    assert fake.peak == 1
    summary = summarize(p.result for p in steps)
    assert (summary.online, summary.offline, summary.text()) == (2, 1, "2 online / 1 offline")
    engine.close()


async def test_closing_a_round_early_cancels_the_rest(fake) -> None:
    engine = CheckEngine(timeout=5)
    seen = []
    round_ = engine.check_many([target(5)] + [target(300) for _ in range(20)], concurrency=2)
    async for result in round_:
        seen.append(result)
        break
    await round_.aclose()
    await asyncio.sleep(0.35)
    assert len(seen) == 1 and fake.active == 0
    engine.close()


async def test_an_unexpected_driver_exception_becomes_other(monkeypatch) -> None:
    class Broken(FakeDriver):
        def version(self, creds, timeout):  # noqa: ANN001, ANN201
            raise ZeroDivisionError("division by zero")

    monkeypatch.setitem(drivers._loaded, "postgresql", Broken())
    result = await CheckEngine(timeout=1).check(target(5))
    assert result.error_kind is ErrorKind.OTHER and "ZeroDivisionError" in result.message


def test_summary_text_when_all_online() -> None:
    from jumpdeck.core.servers.checks import RoundSummary

    assert RoundSummary(3, 0).text() == "All 3 servers online"
    assert RoundSummary(1, 0).text() == "All 1 server online"


def test_result_json_has_the_cli_fields(fake) -> None:
    result = asyncio.run(CheckEngine(timeout=1).check(target(5, "alpha")))
    data = result.as_json()
    for key in ("name", "db_type", "status", "error_kind", "latency_ms", "version", "message"):
        assert key in data
    assert data["name"] == "alpha" and data["status"] == "online" and data["version"] == "Fake 5"
