"""One of the writers of tests/core/test_concurrent_writers.py: a separate OS process on
the shared store, acting in step with the others (barrier files), one JSON line per
operation on stdout. A refusal is an outcome; anything else escaping is a failure
(a traceback on stderr, exit 1).

    python -m tests.core.concurrent_writer HOME STORE_URL|- INDEX WRITERS ROUNDS BARRIER_DIR
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

# The keys each writer owns in settings (all in the row's `extra` JSON).
SETTING_KEYS = ("cache_size", "cache_ttl", "slow_query_ms", "monitor_refresh")
RUNS_PER_WRITER = 2


def setting_value(round_no: int) -> int:
    return 100 + round_no


def round_key(round_no: int) -> str:
    """The same OpenSSH public key line in every writer for one round."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public = Ed25519PrivateKey.from_private_bytes(bytes([round_no + 1]) * 32).public_key()
    return public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


class Barrier:
    """All writers reach step `name` before any goes on (files in a shared directory)."""

    def __init__(self, directory: Path, index: int, writers: int) -> None:
        self.directory, self.index, self.writers = directory, index, writers

    def wait(self, name: str, timeout: float = 60.0) -> None:
        (self.directory / f"{name}.{self.index}").touch()
        deadline = time.monotonic() + timeout
        while len(list(self.directory.glob(f"{name}.*"))) < self.writers:
            if time.monotonic() > deadline:
                raise TimeoutError(f"barrier {name}: the other writers never came")
            time.sleep(0.005)


async def main(home: str, store_url: str, index: int, writers: int, rounds: int, barrier_dir: str) -> None:
    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import _secrets_for
    from jumpdeck.core.errors import JumpdeckError
    from jumpdeck.core.identity import Actor, Role, UserStatus
    from jumpdeck.core.provision.pool import Pool
    from jumpdeck.core.provision.service import ProvisionService
    from jumpdeck.core.secrets import Secret
    from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec
    from jumpdeck.core.settings import SettingsService
    from jumpdeck.core.store.engine import open_store
    from jumpdeck.core.users import UserService, parse_public_key

    cli = {"home": home} | ({"store_url": store_url} if store_url != "-" else {})
    config = load_config(cli=cli)
    store = await asyncio.to_thread(open_store, sqlite_path=config.store_path, store_url=config.store_url)
    secrets = await _secrets_for(store, config)
    users, settings = UserService(store), SettingsService(store)
    registry, pool = ServerRegistry(store, secrets), Pool(store, secrets)
    provision = ProvisionService(store, config, settings)
    # The services judge the actor they are given; the store's own users are raced below.
    actor = Actor(f"writer{index}", Role.ADMIN, UserStatus.ACTIVE, f"writer{index}")
    barrier = Barrier(Path(barrier_dir), index, writers)

    async def attempt(op: str, round_no: int, call) -> object:  # noqa: ANN001
        barrier.wait(f"{op}-{round_no}")
        try:
            value = await call()
        except JumpdeckError as error:  # a refusal: its kind and its sentence
            print(json.dumps({"op": op, "round": round_no, "ok": False, "kind": type(error).__name__,
                              "error": str(error)}), flush=True)
            return None
        print(json.dumps({"op": op, "round": round_no, "ok": True}), flush=True)
        return value

    try:
        # First logins: every writer a newcomer of its own on a store without users (one
        # of them becomes its admin), then all four the same OS user at once.
        await attempt("first-login", 0, lambda: users.resolve_local(f"first{index}"))
        for r in range(rounds):
            await attempt("login", r, lambda: users.resolve_local(f"ops{r}"))
            await attempt("user-add", r, lambda: users.add(actor, f"user{r}", Role.VIEWER))
            key_line = parse_public_key(round_key(r))
            await attempt("key-add", r, lambda: users.add_key(actor, f"user{r}", key_line))
            spec = ServerSpec(f"srv{r}", "postgresql", "127.0.0.1", "postgres", Secret("pw"), 5432, "postgres")
            await attempt("server-same", r, lambda: registry.create(actor, spec))
            own = ServerSpec(f"srv{r}-w{index}", "postgresql", "127.0.0.1", "postgres", Secret("pw"), 5432, "postgres")
            mine = await attempt("server-own", r, lambda: registry.create(actor, own))
            renamed = replace(own, name=f"renamed{r}")
            await attempt("server-rename", r, lambda: registry.update(actor, mine.id, renamed))
            await attempt("pool-add", r, lambda: pool.add(actor, f"VM-{r:02d}", f"10.0.{r}.1"))
            key = SETTING_KEYS[index % len(SETTING_KEYS)]
            await attempt("settings", r, lambda: settings.set(actor, {key: setting_value(r)}))
        # Runs against max_concurrent_runs (set to 2 before the writers started): each
        # writer starts two at once, held open by slow steps so none ends meanwhile.
        barrier.wait("runs")
        started = []
        for n in range(RUNS_PER_WRITER):
            run = await attempt("run", n, lambda: provision.start(actor, "single", f"race-w{index}-{n}", runner="mock",
                                                                  target="none", options={"step_delay": 8}))
            if run is not None:
                started.append(run)
        barrier.wait("runs-started")  # every start is over before any run is stopped
        for run in started:
            await provision.cancel(actor, run.id, wait=20)
        print(json.dumps({"done": True}), flush=True)
    finally:
        store.close()


if __name__ == "__main__":
    home_, url_, index_, writers_, rounds_, barrier_ = sys.argv[1:7]
    asyncio.run(main(home_, url_, int(index_), int(writers_), int(rounds_), barrier_))
