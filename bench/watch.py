"""Benchmark: what the fleet watch's history costs in a real PostgreSQL store.

Fills a throw-away database with a full retention's worth of aggregates for `--servers`
servers (720 hour and 400 day rows each, the last 24 hours carrying their minutes, as
`watch_interval` 60 leaves them after a year) with generate_series, then prints the bytes per server and per row
(tables and indexes, the latest results included) with the projection for 10,000 servers, and how long
`WatchHistory.uptime` takes for the whole fleet (median of `--runs`).

    .venv/bin/python bench/watch.py [--servers 500] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
GRAIN_ROWS = {"watch_hours": (720, "1 hour"), "watch_days": (400, "1 day")}


def _fill(store, servers: int) -> None:  # noqa: ANN001
    from sqlalchemy import text

    from jumpdeck.core.store.models import ServerRow

    def write(session) -> None:  # noqa: ANN001
        session.add_all(ServerRow(name=f"s{i}", name_key=f"s{i}", db_type="postgresql", host="127.0.0.1", port=5432,
                                  username="u", no_password=True) for i in range(servers))
        session.flush()
        for table, (rows, step) in GRAIN_ROWS.items():
            # The last 24 hours keep their sixty minute slots (960 bytes, stored inline).
            minutes = (", CASE WHEN g < 24 THEN decode(repeat('0102030405060708', 120), 'hex') END"
                       if table == "watch_hours" else "")
            session.execute(text(
                f"INSERT INTO {table} (server_id, bucket, up, down, latency_sum, latency_min, latency_max"
                f"{', minutes' if minutes else ''}) SELECT s.id, "
                "date_trunc(:unit, now() at time zone 'utc') - (g * CAST(:step AS interval)), 59, 1, 177.0, 1.5, 9.5"
                f"{minutes} FROM servers s CROSS JOIN generate_series(0, :rows - 1) g"),
                {"unit": step.split()[1], "step": step, "rows": rows})

        # What the recorder keeps beside them: the latest result with its 24 h and 30 d sums.
        session.execute(text(
            "INSERT INTO watch_latest (server_id, checked_at, checked_by, status, error_kind, message, latency_ms, "
            "version, failures, down_since, up_24h, down_24h, up_30d, down_30d) SELECT id, now() at time zone 'utc', "
            "'bench:1', 'online', NULL, '', 3.0, 'PostgreSQL 16', 0, NULL, 1416, 24, 42480, 720 FROM servers"))

    store.run_sync(write)
    store.run_sync(lambda s: s.execute(text("ANALYZE watch_hours; ANALYZE watch_days")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    import psycopg2
    from sqlalchemy import text

    from jumpdeck.core.identity import Actor, Role
    from jumpdeck.core.store.engine import open_store
    from jumpdeck.core.watch.history import WatchHistory

    name = f"jumpdeck_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(PG_ADMIN)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(sqlite_path=Path(tmp) / "unused.db",
                               store_url=f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}")
            _fill(store, args.servers)
            size = store.run_sync(lambda s: s.execute(text(
                "SELECT pg_total_relation_size('watch_hours') + pg_total_relation_size('watch_days') "
                "+ pg_total_relation_size('watch_latest')")).scalar())
            rows = store.run_sync(lambda s: s.execute(text(
                "SELECT (SELECT COUNT(*) FROM watch_hours) + (SELECT COUNT(*) FROM watch_days)")).scalar())
            parts = store.run_sync(lambda s: s.execute(text(
                "SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relname ~ 'watch_(hours|days|latest)' AND relkind IN ('r', 'i') "
                "ORDER BY relname")).all())
            history = WatchHistory(store)
            actor = Actor("bench", Role.ADMIN)
            times = []
            for _ in range(args.runs):
                begin = time.perf_counter()
                asyncio.run(history.uptime(actor))
                times.append((time.perf_counter() - begin) * 1000)
            store.close()
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    per_server = size / args.servers
    print(f"{args.servers} servers, {rows:,} aggregate rows: {size / 2**20:.1f} MiB "
          f"({size / rows:.0f} B a row, {per_server / 1024:.0f} KiB a server with indexes)")
    print("  " + ", ".join(f"{part} {bytes_ / 2**20:.1f} MiB" for part, bytes_ in parts))
    print(f"projected for 10,000 servers: {per_server * 10000 / 2**30:.2f} GiB")
    print(f"uptime of all {args.servers}: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms "
          f"over {args.runs} runs")


if __name__ == "__main__":
    main()
