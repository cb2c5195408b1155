"""Benchmark: jumpdeck's `check_many` against the floor of bare drivers in a thread pool.

    .venv/bin/python bench/checks.py [--n 1000] [--timeout 2] [--concurrency 64 200]

N targets over the local PostgreSQL (127.0.0.1:5432) and MariaDB (127.0.0.1:3306), plus
10 % silent listeners (accept TCP, never speak). For each concurrency it measures, in the
same run: jumpdeck's wall time, the floor (the same connects and `SELECT version()` with
psycopg2 / PyMySQL called directly in a ThreadPoolExecutor of the same size), their
ratio (goal <= 1.25), and the event loop's worst lag during jumpdeck's run, read by a
10 ms ticker (goal <= 50 ms). TLS rows run only where the server offers TLS.
Only loopback is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jumpdeck.core.secrets import Secret  # noqa: E402
from jumpdeck.core.servers.checks import CheckEngine, CheckTarget  # noqa: E402
from jumpdeck.core.servers.registry import Credentials, DbType  # noqa: E402

HOST = "127.0.0.1"


def answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


def tls_offered() -> dict[str, bool]:
    offered = {"postgresql": False, "mysql": False}
    try:
        import psycopg2

        conn = psycopg2.connect(host=HOST, user="postgres", dbname="postgres", connect_timeout=2)
        with conn.cursor() as cur:
            cur.execute("SHOW ssl")
            offered["postgresql"] = cur.fetchone()[0] == "on"
        conn.close()
    except Exception:
        pass
    try:
        import pymysql

        conn = pymysql.connect(host=HOST, user="root", connect_timeout=2)
        with conn.cursor() as cur:
            cur.execute("SELECT @@have_ssl")
            offered["mysql"] = cur.fetchone()[0] == "YES"
        conn.close()
    except Exception:
        pass
    return offered


def silent_listeners(count: int) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind((HOST, 0))
        sock.listen(16)
        socks.append(sock)
    return socks


def build_targets(n: int, silent_ports: list[int], use_pg: bool, use_mysql: bool) -> list[CheckTarget]:
    targets = []
    real = n - len(silent_ports)
    kinds = [k for k, on in (("postgresql", use_pg), ("mysql", use_mysql)) if on]
    for i in range(real):
        kind = kinds[i % len(kinds)]
        if kind == "postgresql":
            creds = Credentials(DbType.POSTGRESQL, HOST, 5432, "postgres", Secret(""), "postgres")
        else:
            creds = Credentials(DbType.MYSQL, HOST, 3306, "root", Secret(""), "")
        targets.append(CheckTarget(creds, i, f"{kind}-{i}"))
    for j, port in enumerate(silent_ports):
        kind = kinds[j % len(kinds)]
        creds = Credentials(DbType(kind), HOST, port, "u", Secret("p"), "postgres" if kind == "postgresql" else "")
        targets.append(CheckTarget(creds, real + j, f"silent-{j}"))
    # Interleave silent ones through the fleet, as they would be in a real one.
    total = len(targets)
    targets.sort(key=lambda t: (t.server_id * 7919) % total)
    return targets


def bare_check(creds: Credentials, timeout: float) -> str:
    """The floor: what a hand-written script would do, with the drivers' own timeouts."""
    try:
        if creds.db_type is DbType.POSTGRESQL:
            import psycopg2

            conn = psycopg2.connect(host=creds.host, port=creds.port, user=creds.username, dbname=creds.database,
                                    password=creds.password.reveal(), connect_timeout=max(2, int(timeout)))
            cur = conn.cursor()
        else:
            import pymysql

            # Plain, as the servers here offer no TLS. PyMySQL's default ("preferred" TLS)
            # would build a fresh SSLContext per connection, ~24 ms of CPU each: that
            # would make the floor slow, not fair.
            conn = pymysql.connect(host=creds.host, port=creds.port, user=creds.username,
                                   password=creds.password.reveal(), connect_timeout=timeout, read_timeout=timeout,
                                   ssl_disabled=True)
            cur = conn.cursor()
        cur.execute("SELECT version()")
        cur.fetchone()
        conn.close()
        return "online"
    except Exception as exc:  # noqa: BLE001
        return type(exc).__name__


def run_floor(targets: list[CheckTarget], concurrency: int, timeout: float) -> tuple[float, Counter]:
    begin = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        outcomes = list(pool.map(lambda t: bare_check(t.credentials, timeout), targets))
    return time.perf_counter() - begin, Counter("online" if o == "online" else "offline" for o in outcomes)


async def run_jumpdeck(targets: list[CheckTarget], concurrency: int, timeout: float) -> tuple[float, Counter, float]:
    engine = CheckEngine(concurrency=concurrency, timeout=timeout)
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            expected = loop.time() + 0.01
            await asyncio.sleep(0.01)
            lags.append(max(0.0, loop.time() - expected))

    tick = asyncio.create_task(ticker())
    begin = time.perf_counter()
    kinds: Counter = Counter()
    async for result in engine.check_many(targets, concurrency=concurrency, timeout=timeout):
        kinds[result.status.value if result.online else f"offline:{result.error_kind.value}"] += 1
    elapsed = time.perf_counter() - begin
    stop.set()
    await tick
    engine.close()
    return elapsed, kinds, max(lags) * 1000 if lags else 0.0


def settle(timeout: float) -> None:
    """Let abandoned driver threads and server backends of the previous run go."""
    time.sleep(timeout + 0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 200])
    parser.add_argument("--silent", type=float, default=0.10, help="share of silent listeners")
    args = parser.parse_args()

    use_pg, use_mysql = answers(5432), answers(3306)
    if not (use_pg or use_mysql):
        print("bench: neither PostgreSQL (5432) nor MariaDB (3306) answers on 127.0.0.1", file=sys.stderr)
        return 2
    tls = tls_offered()
    socks = silent_listeners(int(args.n * args.silent))
    targets = build_targets(args.n, [s.getsockname()[1] for s in socks], use_pg, use_mysql)
    print(f"checks bench: N={args.n} ({sum(t.name.startswith('postgresql') for t in targets)} PostgreSQL, "
          f"{sum(t.name.startswith('mysql') for t in targets)} MariaDB, {len(socks)} silent), "
          f"timeout {args.timeout:g} s, plain connections")
    print("TLS: " + ", ".join(f"{k} {'offered' if v else 'not offered (TLS rows skipped)'}" for k, v in tls.items()))
    import ssl

    begin = time.perf_counter()
    for _ in range(20):
        ssl.create_default_context()
    per_context = (time.perf_counter() - begin) / 20 * 1000
    print(f"PyMySQL's default TLS context, built per connection: {per_context:.1f} ms each "
          "(jumpdeck shares one per process)")
    rows = []
    # Warm the drivers' imports so neither side pays them.
    bare_check(targets[0].credentials, args.timeout)
    for concurrency in args.concurrency:
        floors, ours, lag_worst = [], [], 0.0
        for _ in range(2):  # alternate to even out the servers' warm-up
            floor_time, floor_kinds = run_floor(targets, concurrency, args.timeout)
            settle(args.timeout)
            our_time, our_kinds, lag = asyncio.run(run_jumpdeck(targets, concurrency, args.timeout))
            settle(args.timeout)
            floors.append(floor_time)
            ours.append(our_time)
            lag_worst = max(lag_worst, lag)
        floor_time, our_time = statistics.median(floors), statistics.median(ours)
        ratio = our_time / floor_time
        rows.append((concurrency, our_time, floor_time, ratio, lag_worst))
        print(f"  concurrency {concurrency:>3}: jumpdeck {our_time:6.2f} s   floor {floor_time:6.2f} s   "
              f"ratio {ratio:4.2f} (goal <= 1.25)   loop lag max {lag_worst:5.1f} ms (goal <= 50)")
        print(f"                    jumpdeck results: {dict(sorted(our_kinds.items()))}; "
              f"floor: {dict(sorted(floor_kinds.items()))}")
    for sock in socks:
        sock.close()
    import os

    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (figures mean little above ~1)")
    ok = all(r[3] <= 1.25 and r[4] <= 50 for r in rows)
    print("goals met" if ok else "goals NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
