"""Four OS processes writing the same kinds of rows at the same instant, on a SQLite file
and on PostgreSQL: first logins (of one name, and of newcomers on a store without
users), users, servers with one shared and one own name, pool VMs, settings keys, and
provisioning runs against max_concurrent_runs, one SSH key given to one user by all four,
and four servers renamed to one name. Each one of them is a check before a
write (core/store/locks.py); no process may meet a driver error, a refusal is one
domain sentence, and every rule holds once they are done.

The writers are tests/core/concurrent_writer.py, in step through barrier files."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.core.concurrent_writer import RUNS_PER_WRITER, SETTING_KEYS, setting_value

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 4
ROUNDS = 4
RUN_LIMIT = 2
DRIVER_WORDS = ("Traceback", "IntegrityError", "OperationalError", "DBAPIError", "psycopg2", "sqlite3", "database is locked")


def _prepare(home: Path, store_url: str | None) -> None:
    """A migrated store that has adopted the key in `home`, with no users yet, and room
    for RUN_LIMIT runs."""
    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import _secrets_for
    from jumpdeck.core.identity import Actor, Role
    from jumpdeck.core.settings import SettingsService
    from jumpdeck.core.store.engine import open_store

    async def go() -> None:
        config = load_config(cli={"home": str(home)} | ({"store_url": store_url} if store_url else {}))
        config.ensure_dirs()
        store = await asyncio.to_thread(open_store, sqlite_path=config.store_path, store_url=config.store_url)
        try:
            assert store.kind == ("postgresql" if store_url else "sqlite"), store.degraded_reason
            await _secrets_for(store, config)
            await SettingsService(store).set(Actor("setup", Role.ADMIN), {"max_concurrent_runs": RUN_LIMIT})
        finally:
            store.close()

    asyncio.run(go())


def _read(home: Path, store_url: str | None) -> dict:
    from sqlalchemy import select

    from jumpdeck.core.config import load_config
    from jumpdeck.core.store.engine import open_store
    from jumpdeck.core.store.models import ProvisionRunRow, ServerRow, SettingsRow, UserKeyRow, UserRow, WorkloadVmRow

    config = load_config(cli={"home": str(home)} | ({"store_url": store_url} if store_url else {}))
    store = open_store(sqlite_path=config.store_path, store_url=config.store_url)
    try:
        def read(session) -> dict:  # noqa: ANN001
            return {
                "users": [(u.name, u.role, u.status) for u in session.scalars(select(UserRow))],
                "keys": [k.user.name for k in session.scalars(select(UserKeyRow))],
                "servers": [s.name for s in session.scalars(select(ServerRow))],
                "vms": [v.vm_name for v in session.scalars(select(WorkloadVmRow))],
                "extra": dict(session.get(SettingsRow, 1).extra or {}),
                "runs": [(r.service_name, r.status) for r in session.scalars(select(ProvisionRunRow))],
            }

        return store.run_sync(read)
    finally:
        store.close()


def _race(tmp_path: Path, store_url: str | None) -> tuple[list[dict], dict]:
    home = tmp_path / "home"
    _prepare(home, store_url)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMPDECK_")}
    env["JUMPDECK_CONFIG"] = os.devnull
    procs = [subprocess.Popen([sys.executable, "-m", "tests.core.concurrent_writer", str(home), store_url or "-",
                               str(i), str(WRITERS), str(ROUNDS), str(barrier)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(WRITERS)]
    outcomes: list[dict] = []
    try:
        for i, proc in enumerate(procs):
            out, err = proc.communicate(timeout=240)
            shown = f"writer {i} (exit {proc.returncode}):\n{out}\n{err}"
            assert proc.returncode == 0, shown
            for word in DRIVER_WORDS:
                assert word not in out and word not in err, shown
            lines = [json.loads(line) for line in out.splitlines()]
            assert lines and lines[-1] == {"done": True}, shown
            outcomes += [dict(line, writer=i) for line in lines[:-1]]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return outcomes, _read(home, store_url)


def _check(outcomes: list[dict], state: dict) -> None:
    def of(op: str, round_no: int) -> list[dict]:
        found = [o for o in outcomes if o["op"] == op and o["round"] == round_no]
        assert len(found) == WRITERS, (op, round_no, found)
        return found

    def oks(op: str, round_no: int) -> int:
        return sum(o["ok"] for o in of(op, round_no))

    # Every refusal is a Conflict in one sentence (and a remedy), never anything else.
    for refusal in (o for o in outcomes if not o["ok"]):
        assert refusal["kind"] == "Conflict" and "\n" not in refusal["error"], refusal

    users = Counter(name for name, _, _ in state["users"])
    assert all(n == 1 for n in users.values()), users
    # Four newcomers on a store without users: exactly one became its admin.
    firsts = [(name, role, status) for name, role, status in state["users"] if name.startswith("first")]
    assert len(firsts) == WRITERS and oks("first-login", 0) == WRITERS, firsts
    assert sorted((role, status) for _, role, status in firsts) == \
        [("admin", "active")] + [("viewer", "pending")] * (WRITERS - 1), firsts
    servers = Counter(state["servers"])
    assert all(n == 1 for n in servers.values()), servers
    for r in range(ROUNDS):
        assert oks("login", r) == WRITERS and users[f"ops{r}"] == 1  # every first login of one name goes in
        assert oks("user-add", r) == 1 and users[f"user{r}"] == 1
        assert oks("server-same", r) == 1 and servers[f"srv{r}"] == 1
        assert oks("server-own", r) == WRITERS
        # Four renames to one name: one took it, the other three kept their own.
        assert oks("server-rename", r) == 1 and servers[f"renamed{r}"] == 1
        assert sum(servers[f"srv{r}-w{i}"] for i in range(WRITERS)) == WRITERS - 1
        assert oks("key-add", r) == 1 and state["keys"].count(f"user{r}") == 1
        assert oks("pool-add", r) == 1
        assert oks("settings", r) == WRITERS
    assert sorted(state["vms"]) == [f"VM-{r:02d}" for r in range(ROUNDS)]
    # No writer's setting was written over by another's (the last round's value of each key).
    assert {k: state["extra"].get(k) for k in SETTING_KEYS} == {k: setting_value(ROUNDS - 1) for k in SETTING_KEYS}

    # Eight starts at once with room for RUN_LIMIT, each run held open: exactly that many began.
    runs = [o for o in outcomes if o["op"] == "run"]
    assert len(runs) == WRITERS * RUNS_PER_WRITER
    assert sum(o["ok"] for o in runs) == RUN_LIMIT, runs
    assert all(f"the limit is {RUN_LIMIT}" in o["error"] for o in runs if not o["ok"]), runs
    assert len(state["runs"]) == RUN_LIMIT, state["runs"]
    assert {status for _, status in state["runs"]} <= {"CANCELED", "COMPLETED"}, state["runs"]


def test_four_writers_at_once_on_sqlite(tmp_path):
    outcomes, state = _race(tmp_path, None)
    _check(outcomes, state)


def test_four_writers_at_once_on_postgresql(tmp_path, pg_temp_url):
    outcomes, state = _race(tmp_path, pg_temp_url)
    _check(outcomes, state)
