"""`jumpdeck watch|history|incidents|uptime` and `jumpdeck check` recording what it finds,
as processes: on a SQLite home, and two watches on one real PostgreSQL store counting
the connections each server receives."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from jumpdeck.core.store.engine import open_store
from tests.core.servers.conftest import closed_port
from tests.core.watch.conftest import add_servers
from tests.tui.test_cli import ROOT, jd


def _env(home: Path, store_url: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMPDECK_")}
    env.update({"JUMPDECK_HOME": str(home), "USER": "root", "JUMPDECK_CONFIG": os.devnull})
    if store_url:
        env["JUMPDECK_STORE_URL"] = store_url
    return env


def _watch(home: Path, interval: float, log: Path, store_url: str | None = None, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "jumpdeck.tui.cli", "watch", "--interval", str(interval), *extra],
                            cwd=ROOT, env=_env(home, store_url), stdout=log.open("w"), stderr=subprocess.STDOUT)


def _until(condition, limit: float = 60.0) -> bool:  # noqa: ANN001
    """Poll `condition` until true or `limit` seconds passed (a bound, not a measurement)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _lines(result: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_check_records_and_history_incidents_uptime_read_it_back(tmp_path, pg_url) -> None:
    home = tmp_path / "home"
    assert jd("uptime", home=home).returncode == 0  # makes the home and its store
    store = open_store(sqlite_path=home / "store.db", store_url=None)
    add_servers(store, ["pg"], group="prod")
    add_servers(store, ["gone"], port=closed_port(), group="prod")
    store.close()
    for _ in range(3):  # watch_failures is 3: the third failed round opens an incident
        assert jd("check", "--json", home=home).returncode == 1
    uptime = {u["name"]: u for u in _lines(jd("uptime", "--json", "--group", "prod", home=home))}
    assert uptime["pg"]["uptime_24h"] == 100.0 and uptime["pg"]["checks_24h"] == 3
    assert uptime["gone"]["uptime_24h"] == 0.0 and uptime["gone"]["status"] == "offline"
    assert uptime["gone"]["down_since"] is not None
    [incident] = _lines(jd("incidents", "--open", "--json", home=home))
    assert incident["name"] == "gone" and incident["error_kind"] == "refused" and incident["open"]
    history = _lines(jd("history", "pg", "--since", "1h", "--json", home=home))
    buckets = [h["bucket"] for h in history if "bucket" in h]
    assert sum(b["up"] for b in buckets) == 3 and {b["grain"] for b in buckets} == {"minute"}
    table = jd("history", "gone", home=home)
    assert table.returncode == 0 and "refused" in table.stdout and "open" in table.stdout
    assert "gone" in jd("incidents", home=home).stdout
    assert "No active servers in group nope." in jd("uptime", "--group", "nope", home=home).stdout


@pytest.mark.parametrize("args, says", [
    (["history", "no-such-server"], "no-such-server"),
    (["history", "pg", "--since", "5y"], "is not a duration"),
    (["history", "pg", "--since", "500d"], "at most 400d"),
    (["watch", "--interval", "nan"], "seconds"),
    (["watch-pin", "no-such-server", "zone-b"], "no-such-server"),
])
def test_bad_input_is_one_sentence_and_exit_2(tmp_path, args, says) -> None:
    result = jd(*args, home=tmp_path / "home")
    assert result.returncode == 2, result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr


def test_watch_checks_until_sigterm_then_releases_its_servers(tmp_path) -> None:
    from sqlalchemy import text

    home = tmp_path / "home"
    assert jd("uptime", home=home).returncode == 0
    store = open_store(sqlite_path=home / "store.db", store_url=None)
    add_servers(store, ["a", "b"], port=closed_port())
    proc = _watch(home, 1, tmp_path / "watch.log", None, "--json")
    log = tmp_path / "watch.log"
    try:
        count = lambda sql: store.run_sync(lambda s: s.execute(text(sql)).scalar())  # noqa: E731
        assert _until(lambda: count("SELECT COUNT(*) FROM watch_latest") == 2), log.read_text()
        # Closed ports: the third failed check of each opens its incident (watch_failures 3).
        assert _until(lambda: log.read_text().count('"incident_opened"') == 2), log.read_text()
        assert count("SELECT COUNT(*) FROM watch_claims WHERE holder_pid = %d" % proc.pid) == 2
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        proc.kill()
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(e["name"] for e in events) == ["a", "b"] and {e["error_kind"] for e in events} == {"refused"}
    assert count("SELECT COUNT(*) FROM watch_claims WHERE holder_host IS NOT NULL") == 0
    assert count("SELECT COUNT(*) FROM watch_hosts") == 0
    store.close()


class Listeners:
    """Loopback ports that accept and hang up at once, noting when each was connected to:
    every check of a server is one connection (a login attempt) here."""

    def __init__(self, count: int) -> None:
        self.socks = []
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sock.listen(64)
            sock.setblocking(False)
            self.socks.append(sock)
        self.ports = [s.getsockname()[1] for s in self.socks]
        self.seen: dict[int, list[float]] = {p: [] for p in self.ports}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        for sock in self.socks:
            selector.register(sock, selectors.EVENT_READ)
        while not self._stop.is_set():
            for key, _ in selector.select(0.1):
                try:
                    conn, _addr = key.fileobj.accept()
                except BlockingIOError:
                    continue
                self.seen[key.fileobj.getsockname()[1]].append(time.monotonic())
                conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock in self.socks:
            sock.close()


INTERVAL = 3.0


def test_two_watches_on_one_postgresql_check_each_server_once_per_interval_and_take_over(
        tmp_path, pg_temp_url) -> None:
    from sqlalchemy import text

    home = tmp_path / "home"
    assert jd("uptime", home=home, env={"JUMPDECK_STORE_URL": pg_temp_url}).returncode == 0
    store = open_store(sqlite_path=tmp_path / "unused.db", store_url=pg_temp_url)
    listeners = Listeners(8)
    ids = {}
    for i, port in enumerate(listeners.ports):
        ids |= add_servers(store, [f"s{i}"], port=port)
    port_of = {ids[f"s{i}"]: port for i, port in enumerate(listeners.ports)}
    procs = [_watch(home, INTERVAL, tmp_path / f"watch{n}.log", pg_temp_url) for n in range(2)]

    def holders() -> dict[int, int | None]:
        return dict(store.run_sync(lambda s: s.execute(text("SELECT server_id, holder_pid FROM watch_claims")).all()))

    try:
        # Both watches up, the fleet split between them, every server checked.
        assert _until(lambda: sorted(set(holders().values()) - {None}) == sorted(p.pid for p in procs)
                      and all(listeners.seen.values())), [(tmp_path / f"watch{n}.log").read_text() for n in range(2)]
        begin = time.monotonic()
        time.sleep(4 * INTERVAL)
        for port, times in listeners.seen.items():
            window = [t for t in times if t >= begin]
            gaps = [b - a for a, b in zip(times, times[1:])]
            # Once per interval: 3 to 5 checks in 4 intervals, never two close together (two hosts).
            assert 3 <= len(window) <= 5, (port, window)
            assert min(gaps) >= 0.75 * INTERVAL, (port, gaps)
        victim, survivor = procs
        theirs = [sid for sid, pid in holders().items() if pid == victim.pid]
        assert theirs and len(theirs) < len(ids)
        victim.kill()  # no clean stop: its leases must expire
        victim.wait(10)
        killed = time.monotonic()
        assert _until(lambda: all(any(t > killed for t in listeners.seen[port_of[sid]]) for sid in theirs),
                      limit=2 * INTERVAL + 1.0), "the survivor did not take the stopped watch's servers in time"
        assert set(holders().values()) == {survivor.pid}
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(30) == 0
        assert set(holders().values()) == {None}
    finally:
        for proc in procs:
            proc.kill()
        listeners.close()
        store.close()


def test_watch_pin_pins_and_unpins_a_server_and_the_log_says_so(tmp_path) -> None:
    from sqlalchemy import text

    home = tmp_path / "home"
    assert jd("uptime", home=home).returncode == 0
    store = open_store(sqlite_path=home / "store.db", store_url=None)
    sid = add_servers(store, ["zb"], port=closed_port())["zb"]
    pinned = jd("watch-pin", "zb", "zone-b", home=home)
    assert pinned.returncode == 0 and "site zone-b" in pinned.stdout
    site = lambda: store.run_sync(  # noqa: E731
        lambda s: s.execute(text(f"SELECT pinned_site FROM watch_claims WHERE server_id = {sid}")).scalar())
    assert site() == "zone-b"
    assert jd("watch-pin", "zb", "--any", home=home).returncode == 0 and site() is None
    log = jd("activity", "ls", "--target", "SERVER", "--json", home=home).stdout
    assert "watch site: zone-b" in log and "watch site: any" in log
    store.close()
