"""Checks for serve-ssh sessions, run in the server.

Each session's Servers grid asks the server for its rounds over the control socket
(`core/serve/control.py`, which decides who asks from the peer's pid). The server
decrypts and checks with one engine for all sessions, and a server that is being
checked for one session is not checked again for another meanwhile: the second asker
gets the same result. So a session never holds a DB password, never loads a driver,
and twenty sessions opening at once cost the fleet one login per server.

Wire format, one JSON object per line:
  session -> server: {"op": "round", "ids": [N...] or null, "sequential": bool}
                     {"op": "check", "id": N}
  server -> session: {"ok": true, "ids": [N...]}, then {"done", "total", "result"} per
                     result, then {"end": true}; or {"ok": true, "result"} for "check";
                     or {"ok": false, "kind", "error", "remedy"} when refused.
A session that leaves mid-round closes its end; the server stops that round there.
This is the server's side; the session's is `RemoteFleetChecks` in session_client.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from jumpdeck.core.errors import JumpdeckError
from jumpdeck.core.servers.checks import CheckEngine, CheckResult, CheckTarget

if TYPE_CHECKING:
    from jumpdeck.core.context import Context
    from jumpdeck.core.identity import Actor

log = logging.getLogger("jumpdeck.serve")
CHECK_OPS = ("round", "check")


def error_reply(error: JumpdeckError) -> dict[str, Any]:
    return {"ok": False, "kind": type(error).__name__, "error": error.message, "remedy": error.remedy}


class SharedCheckEngine(CheckEngine):
    """A check engine that joins a check already running for the same server and
    credentials instead of starting a second one."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._running: dict[tuple, asyncio.Task[CheckResult]] = {}

    async def check(self, target: CheckTarget, *, timeout: float | None = None) -> CheckResult:  # type: ignore[override]
        if not isinstance(target, CheckTarget) or target.server_id is None:
            return await super().check(target, timeout=timeout)
        key = (target.server_id, target.credentials, timeout)
        task = self._running.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(super().check(target, timeout=timeout))
            self._running[key] = task
            task.add_done_callback(lambda _: self._running.pop(key, None))
        # One asker leaving (its session closed) must not cancel the check for the others.
        return await asyncio.shield(task)


class CheckRelay:
    def __init__(self, ctx: Context) -> None:
        from jumpdeck.core.servers.registry import ServerRegistry

        config = ctx.config
        self.engine = SharedCheckEngine(concurrency=config.check_concurrency, timeout=config.check_timeout)
        self.registry = ServerRegistry(ctx.store, ctx.secrets)

    def close(self) -> None:
        self.engine.close()

    async def serve(self, actor: Actor, request: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        """Answer one check request from `actor` on `writer` (the caller closes it)."""
        async def send(message: dict[str, Any]) -> None:
            writer.write(json.dumps(message).encode() + b"\n")
            await writer.drain()

        try:
            if request["op"] == "check":
                from jumpdeck.core.servers.checks import check_server

                result = await check_server(self.engine, self.registry, actor, int(request["id"]))
                await send({"ok": True, "result": result.as_json()})
                return
            ids = request.get("ids")
            targets = await self.registry.check_targets(actor, None if ids is None else [int(i) for i in ids])
        except JumpdeckError as error:
            await send(error_reply(error))
            return
        await send({"ok": True, "ids": [t.server_id for t in targets]})
        steps = self.engine.check_round(targets, sequential=bool(request.get("sequential")))
        try:
            async for step in steps:
                await send({"done": step.done, "total": step.total, "result": step.result.as_json()})
            await send({"end": True})
        except (ConnectionError, OSError):
            log.info("a session left during its round of checks; the round stops")
        finally:
            await steps.aclose()
