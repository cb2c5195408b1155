"""Many serve-ssh sessions opened at the same instant, over the real OpenSSH client, on a
fresh store: round after round of ten at once, each session reaching its first screen
and quitting, with no error anywhere (issue #19: "concurrency without errors").

A session's start reads and writes the server's store (its first screen, the audit of
its login) while nine others do the same: a store race shows as a session that says
"could not answer", one that never reaches its screen, a non-zero exit, or a traceback
in the data dir's jumpdeck.log (the server's and every session's)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.serve.conftest import prepare_home, start_serve, stop_serve, wait_until

AT_ONCE = 10
ROUNDS = int(os.environ.get("JUMPDECK_STRESS_ROUNDS", "20"))
USERS = ("admin", "kim", "park")  # an admin, an operator and a viewer
ERROR_WORDS = ("could not answer", "failed to answer", "did not answer", "stopped answering", "Traceback",
               "IntegrityError", "OperationalError", "Error:")
ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-B]|\x1b[=>78DEHMc]")


def _plain(data: bytes) -> str:
    return ANSI.sub(b"", data).decode("utf-8", "replace")


async def _session(argv: list[str]) -> tuple[str, int | None, str]:
    """One session: connect, wait for the first screen, quit. (outcome, exit, output)"""
    client = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    received = bytearray()
    outcome = "ok"
    try:
        async def until(predicate, timeout: float) -> bool:  # noqa: ANN001
            deadline = time.monotonic() + timeout
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                try:
                    chunk = await asyncio.wait_for(client.stdout.read(65536), remaining)
                except asyncio.TimeoutError:
                    return False
                if not chunk:
                    return predicate()
                received.extend(chunk)
            return True

        def shown() -> bool:
            text = _plain(bytes(received))
            return "Palette" in text or any(word in text for word in ERROR_WORDS)

        if not await until(shown, 90):
            outcome = "no first screen"
        elif "Palette" in _plain(bytes(received)):
            await asyncio.sleep(0.3)  # the grid's first round of checks is under way
        # q quits the grid, and an error screen too ("Press q to quit").
        client.stdin.write(b"q")
        await client.stdin.drain()
        while chunk := await asyncio.wait_for(client.stdout.read(65536), 30):
            received.extend(chunk)
        code = await asyncio.wait_for(client.wait(), 30)
    except (asyncio.TimeoutError, OSError) as exc:
        outcome, code = f"stuck ({exc!r})", None
    finally:
        if client.returncode is None:
            client.kill()
            await client.wait()
    text = _plain(bytes(received))
    if outcome == "ok" and code != 0:
        outcome = f"exit {code}"
    if outcome == "ok" and any(word in text for word in ERROR_WORDS):
        outcome = "an error on screen"
    return outcome, code, text


async def _round(serve, n: int) -> list[tuple[str, int | None, str]]:  # noqa: ANN001
    argvs = [serve.ssh(USERS[i % len(USERS)], "-o", "ConnectTimeout=30") for i in range(n)]
    return await asyncio.gather(*[_session(argv) for argv in argvs])


def _live_sessions(serve) -> int:  # noqa: ANN001
    from jumpdeck.core.identity import Actor, Role
    from jumpdeck.core.serve import control

    return len(asyncio.run(control.list_sessions(serve.config, Actor("admin", Role.ADMIN))) or [])


def _stress(store_url: str | None, rounds: int) -> None:
    base = Path(tempfile.mkdtemp(prefix="jds", dir="/tmp"))
    try:
        home, keys = prepare_home(base, store_url)
        serve = start_serve(home, keys, "--max-sessions", str(AT_ONCE), "--max-per-user", str(AT_ONCE),
                            "--idle-timeout", "0", store_url=store_url)
        failures: list[str] = []
        timings = []
        try:
            for r in range(rounds):
                started = time.monotonic()
                results = asyncio.run(_round(serve, AT_ONCE))
                timings.append(time.monotonic() - started)
                failures += [f"round {r}, session {i}: {outcome}\n{text[-1500:]}"
                             for i, (outcome, _, text) in enumerate(results) if outcome != "ok"]
                # The next ten start only when these are gone, or the server is rightly full.
                assert wait_until(lambda: _live_sessions(serve) == 0, timeout=30), f"round {r}: sessions left over"
        finally:
            stop_serve(serve)
        log = "\n".join(p.read_text(errors="replace") for p in home.rglob("jumpdeck.log*"))
        problems = [line for line in log.splitlines() if " ERROR " in line or "Traceback" in line
                    or "IntegrityError" in line or "OperationalError" in line]
        print(f"{rounds} rounds of {AT_ONCE} sessions on {'PostgreSQL' if store_url else 'SQLite'}: "
              f"{sum(timings):.1f} s, slowest round {max(timings):.1f} s")
        assert not failures, f"{len(failures)} of {rounds * AT_ONCE} sessions failed:\n" + "\n\n".join(failures[:5])
        assert not problems, "jumpdeck.log:\n" + "\n".join(problems[:20])
        assert "control request" not in log, log[-3000:]
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_ten_sessions_at_once_round_after_round_on_postgresql(pg_temp_url):
    _stress(pg_temp_url, ROUNDS)


@pytest.mark.slow
def test_ten_sessions_at_once_on_sqlite():
    _stress(None, max(1, ROUNDS // 5))
