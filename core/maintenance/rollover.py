"""The year-end archive rollover (seed 003 §8) as one verified, resumable operation.

`rollover(ctx, year=Y)`: every row dated before Y-01-01 moves out of the live DB into
`archive_<its year>.db`; the live DB keeps Y onward. Steps, each ticking the seed's
checklist:

1. backup    a final verified backup of the live DB and every archive
2. archive   each archive is built beside its target (old rows + moved rows + indexes),
             quick_checked and counted, then swapped in by rename; the previous archive
             stays as `archive_YYYY.db.rollover-prev` until the end. A year that is most
             of the live DB and has no archive yet (the usual year end) is not copied: the
             old live file becomes its archive after the trim (`split_year`)
3. trim      after checking under the write lock that the rows counted are still exactly
             the rows planned, either a new live file with the kept rows replaces the old
             one by rename (the old one kept as the split year's scratch archive, which
             then loses the other years' rows, is quick_checked and renamed in), or one
             transaction deletes the moved rows in place
4. indexes   the three indexes on every file
5. verify    quick_check on every file and the row-count reconciliation (rows before =
             rows after, over all files), and each moved year answers from its archive
6. settings  `archive_cutoff_year` = Y (no source edits, unlike the seed)
7. cleanup   previous archives dropped (the final backup keeps them), journal removed

A journal (`database/.rollover.json`) records the plan. If anything fails before the
trim commits, the archives are put back as they were (rolled back); after it, the data
is already in its final shape and running the rollover again finishes the remaining
steps (resumed). A process killed at any point leaves the journal, and the next run
does the same: roll back if the live DB still holds the old rows, else roll forward.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, AsyncIterator

from jumpdeck.core.config import Config
from jumpdeck.core.errors import Conflict, JumpdeckError, ValidationError
from jumpdeck.core.identity import Operation, require
from jumpdeck.core.maintenance import locks
from jumpdeck.core.maintenance.backup import Source, copy_verified
from jumpdeck.core.maintenance.sqlite_files import (
    check, checkpoint, connect, count_rows, fsync_dir, fsync_path, production_files, side_files, unreadable,
    wal_size,
)
from jumpdeck.core.maintenance.streaming import Emitter, stream
from jumpdeck.core.private_files import touch_private, write_private_text
from jumpdeck.core.production import schema

if TYPE_CHECKING:
    from jumpdeck.core.context import Context

JOURNAL = ".rollover.json"
CACHE_KIB = 256 * 1024
STEPS = ("backup", "archive", "trim", "indexes", "verify", "settings", "cleanup")
CHECKLIST = {
    "backup": "Final backup of the live and archive DBs, verified",
    "archive": "archive_YYYY.db built, quick_check ok, counts match",
    "trim": "Live DB keeps only the new year",
    "indexes": "The 3 indexes on every file",
    "verify": "Integrity and row counts reconciled; both years answer",
    "settings": "archive_cutoff_year updated in settings",
    "cleanup": "Previous archives and the journal removed",
}


class RolloverFailed(JumpdeckError):
    title = "Rollover failed"


class InjectedFailure(Exception):
    """Tests raise this between steps to prove an interruption loses nothing."""


class InjectedCrash(BaseException):
    """Like a SIGKILL: no clean-up handler runs (tests only)."""


@dataclass(frozen=True)
class RolloverPlan:
    year: int
    live_rows: int
    moves: dict[int, int]  # archive year -> rows moving out of live
    archive_rows: dict[int, int]  # existing archive year -> rows it holds now
    keep_rows: int  # rows the live DB keeps (>= year)

    @property
    def total_before(self) -> int:
        return self.live_rows + sum(self.archive_rows.values())

    @property
    def moving(self) -> int:
        return sum(self.moves.values())

    def lines(self) -> list[str]:
        out = [f"Rollover to {self.year}: the live DB holds {self.live_rows:,} rows; "
               f"{self.moving:,} dated before {self.year}-01-01 move out, {self.keep_rows:,} stay."]
        for yr, n in sorted(self.moves.items()):
            now = self.archive_rows.get(yr)
            where = f"archive_{yr}.db ({now:,} rows now)" if now is not None else f"a new archive_{yr}.db"
            out.append(f"  {n:,} rows of {yr} -> {where}")
        if not self.moves:
            out.append("  nothing to move")
        out.append(f"  rows over all files before: {self.total_before:,}; after must be the same")
        return out


@dataclass(frozen=True)
class RolloverStep:
    name: str
    status: str  # running, done, skipped, failed, rolled back
    detail: str = ""


@dataclass(frozen=True)
class RolloverResult:
    plan: RolloverPlan
    total_before: int
    total_after: int
    resumed: bool
    files: dict[str, int] = field(default_factory=dict)  # file name -> rows after


def journal_path(config: Config) -> Path:
    return config.database_dir / JOURNAL


JOURNAL_KEYS = ("year", "live_rows", "moves", "archive_rows", "keep_rows", "done")


def pending_rollover(config: Config) -> int | None:
    """The year of an interrupted rollover, or None (also for a damaged journal, which
    `read_journal` and health report)."""
    try:
        return int(json.loads(journal_path(config).read_text())["year"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def damaged_journal(config: Config) -> RolloverFailed:
    path = journal_path(config)
    return RolloverFailed(
        f"The rollover journal {path} is damaged, so jumpdeck cannot tell how far an interrupted rollover got; "
        "nothing was changed.",
        remedy="Run `jumpdeck integrity`; if every file is ok, move the journal away and run the rollover again "
               "(this rollover's final backup is in database/backups).")


def read_journal(config: Config) -> dict | None:
    """The interrupted rollover's journal, None when there is none; `RolloverFailed` with
    one sentence when it is there but not a journal jumpdeck wrote."""
    path = journal_path(config)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or any(key not in data for key in JOURNAL_KEYS):
            raise ValueError
        _plan_from(data)
        if not isinstance(data["done"], list):
            raise ValueError
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        raise damaged_journal(config) from None
    return data


def _write_journal(config: Config, data: dict) -> None:
    path = journal_path(config)
    tmp = path.with_name(path.name + ".tmp")
    write_private_text(tmp, json.dumps(data, indent=1))
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _year_range(year: int) -> tuple[str, str]:
    return f"{year:04d}-01-01", f"{year + 1:04d}-01-01"


def _count(conn, where: str = "", params: tuple = ()) -> int:  # noqa: ANN001
    return conn.execute(f"SELECT COUNT(*) FROM {schema.TABLE} {where}", params).fetchone()[0]


def rows_of_year(conn, year: int, total: int) -> int:  # noqa: ANN001
    """Rows dated in `year`, out of `total` (the file's COUNT(*)): everything but the rows
    before and after it. A range count decodes every index entry it covers (0.4 s for the
    5M rows of a year); COUNT(*) walks b-tree pages without decoding a row, and the ranges
    outside the year are small, so this costs milliseconds."""
    lo, hi = _year_range(year)
    return (total - _count(conn, "WHERE production_date < ?", (lo,)) - _count(conn, "WHERE production_date >= ?", (hi,))
            - _count(conn, "WHERE production_date IS NULL"))


def year_counts(conn, before: int) -> dict[int, int]:  # noqa: ANN001
    """Rows per year dated before `before`-01-01, counted over idx_production_date. The
    year just before the cutoff, usually most of the file, is counted from the outside
    (`rows_of_year`); earlier years (late entries, a skipped rollover) row by row."""
    first = conn.execute(f"SELECT MIN(production_date) FROM {schema.TABLE}").fetchone()[0]
    cutoff = f"{before:04d}-01-01"
    total = _count(conn)
    older = total - _count(conn, "WHERE production_date >= ?", (cutoff,)) - _count(conn, "WHERE production_date IS NULL")
    counts: dict[int, int] = {}
    if older and isinstance(first, str) and first[:4].isdigit() and int(first[:4]) < before:
        for yr in range(int(first[:4]), before - 1):
            lo, hi = _year_range(yr)
            if n := _count(conn, "WHERE production_date >= ? AND production_date < ?", (lo, hi)):
                counts[yr] = n
        if n := rows_of_year(conn, before - 1, total):
            counts[before - 1] = n
    if sum(counts.values()) != older:
        raise ValidationError(f"{older - sum(counts.values()):,} rows of the live DB have a production_date that is not "
                              "YYYY-MM-DD; the rollover cannot tell which archive they belong to.",
                              field="year", remedy="Correct those rows first (the Charts screen lists them by date).")
    return counts


def check_year(year: int) -> int:
    """The year the live DB is to keep from: a four-digit year no later than next year
    (a rollover runs at a year's end, into the next). Anything else is a typo, and a
    five-digit year would compare wrongly with the YYYY-MM-DD dates of the data."""
    latest = datetime.now().year + 1
    if isinstance(year, bool) or not isinstance(year, int) or not 1970 <= year <= latest:
        raise ValidationError(f"The rollover year must be from 1970 to {latest}; got {year}.", field="year",
                              remedy=f"Type the year the live DB keeps from, such as {latest - 1} or {latest}.")
    return year


def make_plan(config: Config, year: int, conn=None) -> RolloverPlan:  # noqa: ANN001
    check_year(year)
    live = schema.live_db_path(config)
    if not live.exists():
        raise ValidationError(f"There is no live DB at {live}.", field="year")
    own = conn is None
    try:
        conn = conn or connect(live, readonly=True)
        try:
            live_rows = conn.execute(f"SELECT COUNT(*) FROM {schema.TABLE}").fetchone()[0]
            moves = year_counts(conn, year)
        finally:
            if own:
                conn.close()
    except sqlite3.Error as exc:
        raise not_a_production_file(live, exc) from None
    archive_rows = {}
    for yr in schema.archive_years(config):
        path = schema.archive_db_path(config, yr)
        try:
            archive_rows[yr] = count_rows(path)
        except sqlite3.Error as exc:
            raise not_a_production_file(path, exc) from None
    return RolloverPlan(year, live_rows, moves, archive_rows, live_rows - sum(moves.values()))


def not_a_production_file(path: Path, exc: sqlite3.Error) -> RolloverFailed:
    return RolloverFailed(f"{path.name} is {unreadable(exc)}, so the rollover cannot plan; nothing was changed.",
                          remedy="Restore the file from a backup (`jumpdeck backup --list`, `jumpdeck restore`) "
                                 "and run `jumpdeck integrity`.")


def _plan_from(data: dict) -> RolloverPlan:
    return RolloverPlan(int(data["year"]), int(data["live_rows"]), {int(k): v for k, v in data["moves"].items()},
                        {int(k): v for k, v in data["archive_rows"].items()}, int(data["keep_rows"]))


def _prev_path(config: Config, yr: int) -> Path:
    archive = schema.archive_db_path(config, yr)
    return archive.with_name(archive.name + ".rollover-prev")


def _tmp_path(config: Config, yr: int) -> Path:
    archive = schema.archive_db_path(config, yr)
    return archive.with_name(f".{archive.name}.rollover-tmp")


def _new_live_path(live: Path) -> Path:
    return live.with_name(f".{live.name}.rollover-new")


def _roll_back(config: Config, data: dict) -> None:
    """Put every archive back as it was before this rollover. Only valid before the trim."""
    existed = {int(k) for k in data["archive_rows"]}
    new = _new_live_path(schema.live_db_path(config))
    for p in [new, *side_files(new)]:  # a new live file the trim was building
        p.unlink(missing_ok=True)
    for yr in (int(k) for k in data["moves"]):
        archive, prev, tmp = schema.archive_db_path(config, yr), _prev_path(config, yr), _tmp_path(config, yr)
        for p in [tmp, *side_files(tmp)]:
            p.unlink(missing_ok=True)
        if prev.exists():
            os.replace(prev, archive)  # the archive as it was (a hard link to its old inode)
        elif yr not in existed:
            for p in [archive, *side_files(archive)]:  # it did not exist: the one there is ours
                p.unlink(missing_ok=True)
    journal_path(config).unlink(missing_ok=True)
    fsync_dir(config.database_dir)


def _trimmed(config: Config, data: dict) -> bool:
    """Whether the live DB has lost its old rows, so the rollover can only go forward. The
    journal may not know yet (an interruption just after the swap); the live DB tells."""
    if "trim" in data["done"]:
        return True
    if not any(data["moves"].values()):
        return False
    try:
        return not count_rows(schema.live_db_path(config), "WHERE production_date < ?", (f"{int(data['year']):04d}-01-01",))
    except sqlite3.Error:
        return True  # cannot tell: going forward never deletes the old live file, rolling back may


def _scratch(conn) -> None:  # noqa: ANN001
    """A file being built beside its target is thrown away if anything fails, so it needs
    no rollback journal and no syncs while it is built (deletes run 5x faster); it is
    fsynced once, whole, before the rename that makes it real."""
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    _big_cache(conn)


def _big_cache(conn) -> None:  # noqa: ANN001
    """Deleting rows touches four b-trees a row; with SQLite's default 2 MB cache their
    pages are evicted and read again (100k deletes: 4.7 s, with 256 MB: 1.8 s)."""
    conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")


def _build_archive(config: Config, yr: int, n_moving: int, existing: int | None, base: Path | None = None,
                   live_rows: int = 0) -> str:
    """Build archive_<yr> beside its target, check it and swap it in; returns how.

    A new archive whose year is most of the live DB starts as a page copy of this run's
    final backup (`base`, a file nobody writes) minus the other years' rows: copying pages
    costs a fraction of inserting rows and rebuilding three indexes. Otherwise (an existing
    archive to append to, or a small year) the rows are inserted from the live DB."""
    archive, tmp = schema.archive_db_path(config, yr), _tmp_path(config, yr)
    for p in [tmp, *side_files(tmp)]:
        p.unlink(missing_ok=True)
    touch_private(tmp)  # an archive jumpdeck makes is 0600; SQLite gives its journal the same
    lo, hi = _year_range(yr)
    by_copy = existing is None and base is not None and base.exists() and n_moving * 2 >= live_rows
    if by_copy:
        src, dst = connect(base, readonly=True), connect(tmp)
        try:
            src.backup(dst)  # one step: nobody writes the backup file
        finally:
            src.close()
            dst.close()
    elif existing is not None:
        src = connect(archive)
        dst = connect(tmp)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
    conn = connect(tmp)
    try:
        _scratch(conn)
        if by_copy:
            conn.execute("BEGIN")
            conn.execute(f"DELETE FROM {schema.TABLE} WHERE production_date < ? OR production_date >= ?", (lo, hi))
            conn.execute("COMMIT")
            copied = conn.execute(f"SELECT COUNT(*) FROM {schema.TABLE}").fetchone()[0]
        else:
            schema.create_schema(conn, indexes=False)
            conn.execute("ATTACH DATABASE ? AS live", (f"file:{schema.live_db_path(config)}?mode=ro",))
            conn.execute("BEGIN")
            copied = conn.execute(f"INSERT INTO main.{schema.TABLE} SELECT * FROM live.{schema.TABLE} "
                                  "WHERE production_date >= ? AND production_date < ? ORDER BY +id", (lo, hi)).rowcount
            conn.execute("COMMIT")
            conn.execute("DETACH DATABASE live")
        for ddl in schema.INDEXES.values():
            conn.execute(ddl)
        total = conn.execute(f"SELECT COUNT(*) FROM {schema.TABLE}").fetchone()[0]
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
    fsync_path(tmp)
    expected = (existing or 0) + n_moving
    if copied != n_moving or total != expected:
        raise RolloverFailed(f"archive_{yr}.db would hold {total:,} rows, expected {expected:,} "
                             f"({copied:,} copied of {n_moving:,}); nothing was swapped.")
    verdict = check(tmp, "quick_check")
    if verdict != "ok":
        raise RolloverFailed(f"The new archive_{yr}.db failed quick_check ({verdict}).")
    if archive.exists():
        os.link(archive, _prev_path(config, yr))
    os.replace(tmp, archive)
    fsync_dir(archive.parent)
    return "copied pages from the final backup" if by_copy else "inserted rows"


def other_openers(path: Path) -> list[int]:
    """Pids (this one included) with `path` open, from /proc. A file swapped under an open
    connection would take that connection's later writes with it, so the fast trim
    requires none."""
    target = os.stat(path)
    pids = []
    proc = Path("/proc")
    if not proc.is_dir():
        return [-1]  # cannot tell: assume someone
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                try:
                    st = os.stat(fd)
                except OSError:
                    continue
                if st.st_ino == target.st_ino and st.st_dev == target.st_dev:
                    pids.append(int(entry.name))
                    break
        except OSError:  # gone, or not ours to read
            continue
    return pids


def _check_unchanged(conn, plan: RolloverPlan) -> None:  # noqa: ANN001
    if year_counts(conn, plan.year) != plan.moves:
        conn.execute("ROLLBACK")
        raise Conflict("Rows dated before the new year changed while the rollover ran; nothing was deleted.",
                       remedy="Stop the writers (seed §8 step 1) and run the rollover again.")


def split_year(config: Config, plan: RolloverPlan) -> int | None:
    """The year whose archive is made from the old live file itself, or None.

    When one year is most of the live DB, has no archive yet and no process has the live
    DB open (seed §8 step 1 stops the services), copying it is wasted work: a new live file
    takes the kept rows, the old file is renamed to become archive_<year> and loses the
    other rows. Its big part is then written once, by the final backup."""
    live = schema.live_db_path(config)
    year = next((yr for yr, n in plan.moves.items() if yr not in plan.archive_rows and n * 2 >= plan.live_rows), None)
    return year if year is not None and not other_openers(live) else None


def _trim(config: Config, plan: RolloverPlan, split: int | None = None, after_swap=lambda: None) -> str:  # noqa: ANN001
    """Leave only rows of the new year on in the live DB; returns how.

    When most rows leave and no process has the live DB open, a new live file holding only
    the kept rows replaces the old one by rename: its cost follows the rows kept, not the
    rows moved. With `split`, the old file is kept under the split year's scratch archive
    name (`_finish_split` makes it the archive). Otherwise one DELETE in place."""
    live = schema.live_db_path(config)
    cutoff = f"{plan.year:04d}-01-01"
    if split is not None and other_openers(live):
        raise Conflict("A process opened the live DB while the rollover ran; nothing was changed.",
                       remedy="Stop the services that use it (seed §8 step 1) and run the rollover again.")
    if split is not None or (plan.keep_rows <= plan.moving and not other_openers(live)):
        checkpoint(live, "TRUNCATE")
        new = _new_live_path(live)
        for p in [new, *side_files(new)]:
            p.unlink(missing_ok=True)
        touch_private(new)
        # The new live file takes the old one's mode: it may be the ERP's, shared with its account.
        os.chmod(new, stat.S_IMODE(live.stat().st_mode))
        conn = connect(live)
        try:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            conn.execute("BEGIN IMMEDIATE")  # no writer until the swap
            _check_unchanged(conn, plan)
            out = connect(new)
            try:
                _scratch(out)
                schema.create_schema(out, indexes=False)
                out.execute("ATTACH DATABASE ? AS live", (f"file:{live}?mode=ro",))
                out.execute("BEGIN")
                # In rowid order (the `+` keeps the date index for the WHERE): appending to
                # the table's b-tree instead of inserting all over it.
                kept = out.execute(f"INSERT INTO main.{schema.TABLE} SELECT * FROM live.{schema.TABLE} "
                                   "WHERE production_date >= ? ORDER BY +id", (cutoff,)).rowcount
                out.execute("COMMIT")
                out.execute("DETACH DATABASE live")
                for ddl in schema.INDEXES.values():
                    out.execute(ddl)
                out.execute(f"PRAGMA journal_mode={mode}")
            finally:
                out.close()
            fsync_path(new)
            if kept != plan.keep_rows or check(new, "quick_check") != "ok":
                conn.execute("ROLLBACK")
                raise RolloverFailed(f"The new live DB would hold {kept:,} rows, expected {plan.keep_rows:,}; nothing was changed.")
            conn.execute("ROLLBACK")
        finally:
            conn.close()
        for p in side_files(new):
            p.unlink(missing_ok=True)
        if split is not None:
            # The old file becomes the archive: every committed page must be in it, not in
            # a -wal named after the live DB (the last connection's close checkpoints it).
            if wal_size(live):
                raise Conflict("Another connection still has the live DB open; nothing was changed.",
                               remedy="Stop the services that use it (seed §8 step 1) and run the rollover again.")
            tmp = _tmp_path(config, split)
            for p in [tmp, *side_files(tmp)]:
                p.unlink(missing_ok=True)
            os.link(live, tmp)
        os.replace(new, live)
        fsync_dir(live.parent)
        after_swap()
        if split is not None:
            return (f"{plan.moving:,} rows moved out; a new live DB with the {kept:,} kept rows replaced the old one, "
                    f"which becomes archive_{split}.db")
        return f"{plan.moving:,} rows moved out; a new live DB with the {kept:,} kept rows replaced the old one"
    conn = connect(live)
    try:
        conn.execute("BEGIN IMMEDIATE")
        _check_unchanged(conn, plan)
        deleted = conn.execute(f"DELETE FROM {schema.TABLE} WHERE production_date < ?", (cutoff,)).rowcount
        conn.execute("COMMIT")
    finally:
        conn.close()
    return f"{deleted:,} rows moved out of the live DB (deleted in place)"


def _finish_split(config: Config, year: int, n_moving: int) -> str:
    """Make the old live file (kept under the scratch name by `_trim`) archive_<year>: delete
    the rows of other years (already in their archives and the new live DB), count, fsync,
    quick_check, rename. Runs again after any interruption: the delete is one transaction
    with a rollback journal (this file is the only copy outside the final backup)."""
    archive, tmp = schema.archive_db_path(config, year), _tmp_path(config, year)
    if not tmp.exists():
        if archive.exists():
            return f"archive_{year}.db is in place"  # renamed in just before an interruption
        raise RolloverFailed(f"{tmp.name}, the old live DB, is missing; its rows are in this rollover's final backup.",
                             remedy="Restore the final backup (jumpdeck restore) and run the rollover again.")
    lo, hi = _year_range(year)
    conn = connect(tmp)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")  # an archive is one self-contained file
        conn.execute("PRAGMA synchronous=NORMAL")
        _big_cache(conn)
        conn.execute("BEGIN")
        conn.execute(f"DELETE FROM {schema.TABLE} WHERE production_date < ? OR production_date >= ?", (lo, hi))
        conn.execute("COMMIT")
        for ddl in schema.INDEXES.values():
            conn.execute(ddl)
        total = _count(conn)
    finally:
        conn.close()
    fsync_path(tmp)
    if total != n_moving:
        raise RolloverFailed(f"The old live DB holds {total:,} rows of {year}, expected {n_moving:,}; it stays as {tmp.name}.",
                             remedy="Nothing was lost: the final backup holds every row. Run `jumpdeck integrity`.")
    verdict = check(tmp, "quick_check")
    if verdict != "ok":
        raise RolloverFailed(f"The new archive_{year}.db failed quick_check ({verdict}); it stays as {tmp.name}.",
                             remedy="Nothing was lost: the final backup holds every row. Run `jumpdeck integrity`.")
    os.replace(tmp, archive)
    fsync_dir(archive.parent)
    return f"archive_{year}.db: the old live DB minus the other years' rows"


def _verify(config: Config, plan: RolloverPlan, checked: set[str] = frozenset()) -> tuple[int, dict[str, int]]:
    """quick_check every file not already checked after its last write in this run, then
    reconcile the counts."""
    files: dict[str, int] = {}
    for f in production_files(config):
        verdict = "ok" if f.path.name in checked else check(f.path, "quick_check")
        if verdict != "ok":
            raise RolloverFailed(f"{f.path.name} failed quick_check after the rollover ({verdict}).")
        conn = connect(f.path, readonly=True)
        try:
            names = {r[1] for r in conn.execute(f"PRAGMA index_list('{schema.TABLE}')")}
            files[f.path.name] = _count(conn)
            if f.year is not None and f.year in plan.moves:
                # The year's rows, found by date over idx_production_date as the reports find them.
                n = rows_of_year(conn, f.year, files[f.path.name])
                if n < plan.moves[f.year]:
                    raise RolloverFailed(f"archive_{f.year}.db answers {n:,} rows of {f.year}, expected at least {plan.moves[f.year]:,}.")
        finally:
            conn.close()
        if set(schema.INDEXES) - names:
            raise RolloverFailed(f"{f.path.name} lacks indexes {', '.join(sorted(set(schema.INDEXES) - names))}.")
    live_name = schema.LIVE_DB_NAME
    old_left = count_rows(schema.live_db_path(config), "WHERE production_date < ?", (f"{plan.year:04d}-01-01",))
    if old_left:
        raise RolloverFailed(f"The live DB still holds {old_left:,} rows dated before {plan.year}.")
    for yr, n in plan.moves.items():
        expected = plan.archive_rows.get(yr, 0) + n
        got = files.get(f"archive_{yr}.db")
        if got != expected:
            raise RolloverFailed(f"archive_{yr}.db holds {got} rows, expected {expected:,}.")
    total_after = sum(files.values())
    # Writers may add new-year rows after the trim; nothing may be lost.
    if total_after < plan.total_before or files.get(live_name, 0) < plan.keep_rows:
        raise RolloverFailed(f"Row counts do not reconcile: {plan.total_before:,} before, {total_after:,} after.")
    return total_after, files


async def dry_run(ctx: Context, year: int) -> RolloverPlan:
    require(ctx.actor, Operation.VIEW)
    import asyncio

    return await asyncio.to_thread(make_plan, ctx.config, year)


async def rollover(ctx: Context, year: int, *, fail_after: str | None = None,
                   crash: bool = False) -> AsyncIterator[RolloverStep | RolloverResult]:
    """Run (or resume) the rollover, yielding each step. `fail_after` names a step after
    which a failure is injected (tests), or "swap": right after the old live file left its
    name, before the journal records the trim; with `crash`, no clean-up runs, as after SIGKILL."""
    require(ctx.actor, Operation.ARCHIVE_ROLLOVER)
    check_year(year)
    config = ctx.config
    if fail_after is not None and fail_after not in (*STEPS, "swap"):
        raise ValidationError(f"Unknown step {fail_after}.", field="fail_after")
    held = locks.acquire_all(config, "run the archive rollover")
    data: dict = {}
    try:
        journal = read_journal(config)
        pending = int(journal["year"]) if journal is not None else None
        if pending is not None and pending != year:
            raise Conflict(f"An archive rollover to {pending} was interrupted.",
                           remedy=f"Finish it first: jumpdeck archive rollover --year {pending}.")
        resumed = False
        if journal is None:
            # Nothing is pending: scratch files here are a killed run's, not anyone's data.
            from jumpdeck.core.maintenance import leftovers

            leftovers.sweep(config, ("rollover",))
        # The final backup's copies of a killed run (this run holds the backup lock too).
        from jumpdeck.core.maintenance.backup import sweep_partials

        sweep_partials(config.backups_dir)
        if journal is not None:
            data = journal
            plan = _plan_from(data)
            if not _trimmed(config, data):
                _roll_back(config, data)
                yield RolloverStep("archive", "rolled back", "an interrupted rollover was rolled back; starting again")
                data = {}
            else:
                resumed = True
                data["done"] = sorted(set(data["done"]) | {"backup", "archive", "trim"}, key=STEPS.index)
                yield RolloverStep("trim", "done", "resuming an interrupted rollover after its trim")
        if not data:
            plan = make_plan(config, year)
            data = {"year": year, "live_rows": plan.live_rows, "moves": {str(k): v for k, v in plan.moves.items()},
                    "archive_rows": {str(k): v for k, v in plan.archive_rows.items()}, "keep_rows": plan.keep_rows,
                    "done": [], "started": time.time()}
            _write_journal(config, data)

        def inject(step: str) -> None:
            if fail_after == step:
                raise (InjectedCrash if crash else InjectedFailure)(f"injected failure after {step}")

        def mark(step: str) -> None:
            data["done"].append(step)
            _write_journal(config, data)

        def work(emitter: Emitter) -> None:
            done = set(data["done"])
            split = data.get("split")
            archives_done = ", ".join(f"archive_{yr}.db" for yr in sorted(plan.moves)) or "nothing to move"
            if "backup" not in done:
                emitter.emit(RolloverStep("backup", "running"))
                names = []
                for f in production_files(config):
                    kind = "archive" if f.year is not None else "live"
                    prefix = f"archive_{f.year}" if f.year is not None else "production"
                    info, _, _ = copy_verified(Source(f.label, kind, f.path, prefix, f.year), config.backups_dir)
                    names.append(info.name)
                    if f.year is None:
                        data["live_backup"] = str(info.path)
                mark("backup")
                emitter.emit(RolloverStep("backup", "done", ", ".join(names)))
                inject("backup")
            if "archive" not in done:
                if "split" not in data:
                    data["split"] = split = split_year(config, plan)
                    _write_journal(config, data)
                for yr, n in sorted(plan.moves.items()):
                    if yr == split:
                        emitter.emit(RolloverStep("archive", "running", f"archive_{yr}.db: {n:,} rows, "
                                                  "made of the old live DB once the trim has replaced it"))
                        continue
                    emitter.emit(RolloverStep("archive", "running", f"archive_{yr}.db: {n:,} rows"))
                    base = Path(data["live_backup"]) if data.get("live_backup") else None
                    how = _build_archive(config, yr, n, plan.archive_rows.get(yr), base, plan.live_rows)
                    data.setdefault("swapped", []).append(yr)
                    data.setdefault("checked", []).append(f"archive_{yr}.db")
                    _write_journal(config, data)
                    emitter.emit(RolloverStep("archive", "running", f"archive_{yr}.db: {n:,} rows ({how})"))
                mark("archive")
                if split is None:
                    emitter.emit(RolloverStep("archive", "done", archives_done))
                inject("archive")
            trimmed = None
            if "trim" not in done:
                emitter.emit(RolloverStep("trim", "running"))
                trimmed = _trim(config, plan, split, after_swap=lambda: inject("swap"))
                if "replaced" in trimmed:
                    data.setdefault("checked", []).append(schema.LIVE_DB_NAME)
                mark("trim")
            if split is not None and not data.get("split_done"):
                emitter.emit(RolloverStep("archive", "running", f"archive_{split}.db: deleting the other years' rows "
                                          "from the old live DB, quick_check"))
                how = _finish_split(config, split, plan.moves[split])
                data["split_done"] = True
                data.setdefault("checked", []).append(f"archive_{split}.db")
                _write_journal(config, data)
                emitter.emit(RolloverStep("archive", "done", f"{archives_done} ({how})"))
            if trimmed is not None:
                emitter.emit(RolloverStep("trim", "done", trimmed))
                inject("trim")
            if "indexes" not in done:
                conn = connect(schema.live_db_path(config))
                try:
                    for ddl in schema.INDEXES.values():
                        conn.execute(ddl)
                finally:
                    conn.close()
                mark("indexes")
                emitter.emit(RolloverStep("indexes", "done", "idx_production_date, idx_item_code, idx_item_date"))
                inject("indexes")
            if "verify" not in done:
                emitter.emit(RolloverStep("verify", "running"))
                total_after, files = _verify(config, plan, set(data.get("checked", [])))
                data["total_after"], data["files"] = total_after, files
                mark("verify")
                emitter.emit(RolloverStep("verify", "done", f"{plan.total_before:,} rows before, {total_after:,} after"))
                inject("verify")

        try:
            async for event in stream(work):
                yield event
        except Exception as exc:
            trimmed = _trimmed(config, data)
            if not trimmed:
                _roll_back(config, data)
                yield RolloverStep("archive", "rolled back", "the archives are as they were before; the live DB was not changed")
            else:
                yield RolloverStep("verify", "failed", "the live DB holds only the new year; run the rollover again to finish")
            raise RolloverFailed(f"The rollover to {year} stopped: {exc}",
                                 remedy="Nothing was lost." if not trimmed else
                                 f"Nothing was lost; run `jumpdeck archive rollover --year {year}` again to finish.") from None
        if "total_after" not in data:  # resumed past verify
            import asyncio

            data["total_after"], data["files"] = await asyncio.to_thread(_verify, config, plan)
        if "settings" not in data["done"]:
            await ctx.settings.set(ctx.actor, {"archive_cutoff_year": year})
            mark("settings")
            yield RolloverStep("settings", "done", f"archive_cutoff_year = {year}")
            inject("settings")
        for yr in plan.moves:
            for p in [_prev_path(config, yr), *side_files(_prev_path(config, yr))]:
                p.unlink(missing_ok=True)
        journal_path(config).unlink(missing_ok=True)
        from jumpdeck.core.maintenance import leftovers

        leftovers.sweep(config, ("rollover",))  # done: no scratch file holds anything now
        yield RolloverStep("cleanup", "done")
        await ctx.activity.record(ctx.actor, "ARCHIVE_ROLLOVER", "DATABASE", str(year),
                                  f"moved {plan.moving:,} rows ({', '.join(f'{y}: {n:,}' for y, n in sorted(plan.moves.items()))}); "
                                  f"rows {plan.total_before:,} before, {data['total_after']:,} after" + ("; resumed" if resumed else ""))
        yield RolloverResult(plan, plan.total_before, data["total_after"], resumed, data["files"])
    finally:
        for lock in held:
            lock.release()
