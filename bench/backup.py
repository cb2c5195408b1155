"""Backup benchmark (issue 8): a verified backup beside the sqlite3 CLI's `.backup`.

    .venv/bin/python bench/backup.py [--rows 5000000] [--db PATH] [--cache DIR] [--integrity]

Builds (once, cached under --cache, default /tmp/jumpdeck-bench) a live production DB with --rows rows
over a full 2025 and the first days of 2026 (a year-end DB), unless --db names one (e.g. from `jumpdeck demo-data`). Prints:
the copy alone and the verified backup (copy + quick_check + rename) against
`sqlite3 SRC ".backup DST"` measured in the same run; the API in one step vs steps,
VACUUM INTO and cp for reference; the longest time a writer waits for one insert
while a backup runs (WAL and rollback-journal sources); the watcher's one-shot when
nothing changed; the rollover of all rows against one backup's time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jumpdeck.core.maintenance.backup import Source, copy_verified  # noqa: E402
from jumpdeck.core.maintenance.sqlite_files import check  # noqa: E402
from jumpdeck.core.production import schema  # noqa: E402

CACHE = Path("/tmp/jumpdeck-bench")


def build(path: Path, rows: int) -> None:
    if path.exists():
        conn = sqlite3.connect(path)
        try:
            if conn.execute(f"SELECT MAX(id) FROM {schema.TABLE}").fetchone()[0] == rows:
                return
        except sqlite3.Error:
            pass
        finally:
            conn.close()
        path.unlink()
    print(f"building {rows:,} rows in {path} ...", flush=True)
    t0 = time.perf_counter()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    schema.create_schema(conn, indexes=False)
    rng = random.Random(8)
    items = [(f"BW{i:04d}", f"Lens model {i:04d} daily clear") for i in range(400)]

    def gen():
        for i in range(1, rows + 1):
            # Year-end shape: a full 2025 and the first days of 2026 (2 %).
            year = 2025 if i <= rows * 98 // 100 else 2026
            month = rng.randint(1, 12) if year == 2025 else 1
            code, name = items[rng.randrange(400)]
            yield (i, f"{year}-{month:02d}-{rng.randint(1, 28):02d}", f"L{year}{i:09d}", code, name, rng.randint(0, 5000))

    conn.executemany(f"INSERT INTO {schema.TABLE} VALUES (?,?,?,?,?,?)", gen())
    conn.commit()
    for ddl in schema.INDEXES.values():
        conn.execute(ddl)
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    print(f"built in {time.perf_counter() - t0:.1f} s, {path.stat().st_size / 1e6:.0f} MB", flush=True)


def timed(fn) -> float:  # noqa: ANN001
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def fresh(path: Path) -> Path:
    for p in (path, path.with_name(path.name + "-journal")):
        p.unlink(missing_ok=True)
    return path


def api_copy(src: Path, dst: Path, pages: int) -> None:
    s = sqlite3.connect(src)
    d = sqlite3.connect(fresh(dst))
    s.backup(d, pages=pages, sleep=0)
    d.close()
    s.close()


def writer_waits(db: Path, work) -> tuple[float, int]:  # noqa: ANN001
    """Run `work()` while a writer inserts and commits rows; the writer's longest wait."""
    stop = threading.Event()
    waits: list[float] = []

    def writer() -> None:
        conn = sqlite3.connect(db, timeout=30)
        # NORMAL, as jumpdeck's own store runs: in WAL a commit then waits for no fsync, so
        # what is measured is waiting for the backup's locks, not for the disk.
        conn.execute("PRAGMA synchronous=NORMAL")
        while not stop.is_set():
            t0 = time.perf_counter()
            conn.execute(f"INSERT INTO {schema.TABLE}(production_date, lot_number, item_code, item_name, good_quantity) "
                         "VALUES ('2026-12-31', 'BENCH', 'BW0000', 'bench', 1)")
            conn.commit()
            waits.append(time.perf_counter() - t0)
            time.sleep(0.002)
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.1)
    try:
        work()
    finally:
        stop.set()
        thread.join()
    return max(waits), len(waits)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the generated DB and scratch files live")
    parser.add_argument("--integrity", action="store_true", help="also time PRAGMA integrity_check (slow)")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    src = args.db or args.cache / f"yearend_{args.rows}.db"
    if not args.db:
        build(src, args.rows)
    out = Path(tempfile.mkdtemp(dir=args.cache))
    size_mb = src.stat().st_size / 1e6
    print(f"\nsource: {src} ({size_mb:.0f} MB); sqlite3 {sqlite3.sqlite_version}; {os.cpu_count()} CPUs")
    # Warm the page cache so the first contender does not pay for disk reads.
    with open(src, "rb") as fh:
        while fh.read(1 << 24):
            pass

    cli = shutil.which("sqlite3")
    figures: dict[str, float] = {}
    # jumpdeck's copy ends with an fsync (a backup must survive a power cut before it
    # gets its name); the CLI's `.backup` does not. So the CLI is timed both ways: as it
    # is (the baseline) and followed by the same fsync (the same durability).
    import jumpdeck.core.maintenance.backup as backup_module

    fsyncs: list[float] = []
    real_fsync = backup_module.fsync_path

    def timed_fsync(path: Path) -> None:
        t0 = time.perf_counter()
        real_fsync(path)
        fsyncs.append(time.perf_counter() - t0)

    backup_module.fsync_path = timed_fsync
    runs = 5

    def run_cli() -> None:
        target = fresh(out / "cli.db")
        seconds = timed(lambda: subprocess.run([cli, str(src), f".backup '{target}'"], check=True))
        figures["cli"] = min(figures.get("cli", 1e9), seconds)
        seconds += timed(lambda: real_fsync(target))
        figures["cli_fsync"] = min(figures.get("cli_fsync", 1e9), seconds)
        target.unlink()

    def run_ours() -> None:
        info, copy_s, check_s = copy_verified(Source("live", "live", src, "production"), out)
        figures["copy"] = min(figures.get("copy", 1e9), copy_s)
        figures["copy_no_fsync"] = min(figures.get("copy_no_fsync", 1e9), copy_s - fsyncs[-1])
        figures["verified"] = min(figures.get("verified", 1e9), copy_s + check_s)
        figures["quick_check"] = min(figures.get("quick_check", 1e9), check_s)
        info.path.unlink()

    # Alternate who goes first, so neither always finds the page cache as the other left it.
    for index in range(runs):
        order = (run_cli, run_ours) if index % 2 == 0 or not cli else (run_ours, run_cli)
        for step in order:
            if step is run_cli and not cli:
                continue
            step()
    backup_module.fsync_path = real_fsync
    figures["api_one_step"] = timed(lambda: api_copy(src, out / "one.db", -1))
    figures["api_1024"] = timed(lambda: api_copy(src, out / "steps.db", 1024))
    figures["vacuum_into"] = timed(lambda: sqlite3.connect(src).execute(f"VACUUM INTO '{fresh(out / 'vac.db')}'"))
    figures["cp"] = timed(lambda: shutil.copyfile(src, fresh(out / "cp.db")))
    if args.integrity:
        figures["integrity_check"] = timed(lambda: check(src, "integrity_check"))

    print(f"\n{'what':42} {'seconds':>8} {'x CLI':>7}")
    base = figures.get("cli")
    labels = [("cli", "sqlite3 CLI .backup (baseline)"), ("cli_fsync", "sqlite3 CLI .backup + fsync"),
              ("copy", "jumpdeck copy (API, 1024-page steps, fsync)"), ("copy_no_fsync", "  of which before the fsync"),
              ("verified", "jumpdeck verified backup (copy+quick_check+rename)"), ("quick_check", "  of which quick_check"),
              ("api_one_step", "backup API, all pages in one step"), ("api_1024", "backup API, 1024-page steps"),
              ("vacuum_into", "VACUUM INTO"), ("cp", "cp (not consistent under writers)"),
              ("integrity_check", "PRAGMA integrity_check")]
    for key, label in labels:
        if key in figures:
            ratio = f"{figures[key] / base:6.2f}x" if base else "   n/a"
            print(f"{label:42.42} {figures[key]:8.2f} {ratio:>7}")
    if base:
        print(f"goals: copy <= 1.1x CLI: {figures['copy'] / base:.2f}x "
              f"({figures['copy'] / figures['cli_fsync']:.2f}x the CLI + the same fsync; "
              f"{figures['copy_no_fsync'] / base:.2f}x without the fsync); "
              f"verified <= 2.0x CLI: {figures['verified'] / base:.2f}x "
              f"({figures['verified'] / figures['cli_fsync']:.2f}x the CLI + fsync)")
        print(f"best of {runs} runs each, alternating which goes first")

    # Writers during a backup: a copy of the source so the inserts do not change it.
    for mode in ("wal", "delete"):
        db = out / f"writer_{mode}.db"
        shutil.copyfile(src, db)
        conn = sqlite3.connect(db)
        conn.execute(f"PRAGMA journal_mode={mode}")
        conn.close()
        _, baseline_n = None, None
        idle_max, _ = writer_waits(db, lambda: time.sleep(1.0))
        result: list = []
        longest, inserts = writer_waits(db, lambda: result.append(copy_verified(Source("w", "live", db, "production"), out)))
        result[0][0].path.unlink()
        print(f"writer during a backup ({mode:6} source): longest insert wait {longest * 1000:6.1f} ms "
              f"({inserts} inserts; idle writer's longest {idle_max * 1000:.1f} ms); goal <= 100 ms")
        db.unlink()
        for p in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            p.unlink(missing_ok=True)

    # Watcher one-shot on an unchanged DB, and the rollover of all rows.
    asyncio.run(watcher_and_rollover(src, out, figures))
    shutil.rmtree(out, ignore_errors=True)


async def watcher_and_rollover(src: Path, out: Path, figures: dict[str, float]) -> None:
    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import open_context
    from jumpdeck.core.maintenance import rollover, watcher

    config = load_config(cli={"home": str(out / "home")}, env={"JUMPDECK_CONFIG": os.devnull})
    config.ensure_dirs()
    live = schema.live_db_path(config)
    shutil.copyfile(src, live)
    watcher.run_once_sync(config)
    t = timed(lambda: watcher.run_once_sync(config))
    print(f"watcher one-shot, nothing changed: {t * 1000:.0f} ms (goal <= 200 ms)")
    ctx = await open_context(config, user="bench")
    try:
        t0 = time.perf_counter()
        moved = 0
        async for event in rollover.rollover(ctx, 2026):
            if isinstance(event, rollover.RolloverResult):
                moved = event.plan.moving
                assert event.total_after == event.total_before
        t = time.perf_counter() - t0
    finally:
        ctx.close()
    one = figures["verified"]
    print(f"rollover moving {moved:,} rows (incl. its final backup): {t:.2f} s = {t / one:.2f}x one verified backup "
          f"({one:.2f} s); goal <= 3x")


if __name__ == "__main__":
    main()
