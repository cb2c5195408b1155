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
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any, AsyncIterator, Iterable

from jumpdeck.core.errors import JumpdeckError, NotFound, PermissionDenied, StoreError, ValidationError
from jumpdeck.core.servers.checks import CheckEngine, CheckProgress, CheckResult, CheckTarget
from jumpdeck.core.servers.fleet_checks import CheckRound

if TYPE_CHECKING:
    from jumpdeck.core.config import Config
    from jumpdeck.core.context import Context
    from jumpdeck.core.identity import Actor
    from jumpdeck.core.servers.registry import ServerInfo

log = logging.getLogger("jumpdeck.serve")
CHECK_OPS = ("round", "check")
CONNECT_TIMEOUT = 3.0
_ERRORS = {cls.__name__: cls for cls in (PermissionDenied, NotFound, ValidationError)}


def error_reply(error: JumpdeckError) -> dict[str, Any]:
    return {"ok": False, "kind": type(error).__name__, "error": error.message, "remedy": error.remedy}


def raise_refusal(reply: dict[str, Any]) -> None:
    if not reply.get("ok"):
        raise _ERRORS.get(reply.get("kind"), JumpdeckError)(reply.get("error") or "The serve-ssh server refused.",
                                                            remedy=reply.get("remedy"))


# ----------------------------------------------------------------- server side
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


# ----------------------------------------------------------------- client side
RECONNECT = "Reconnect; if it keeps failing, ask the admin to look at the serve-ssh server."


async def open_request(config: Config, request: dict[str, Any], timeout: float, *, unreachable: str,
                       stopped: tuple[str, str]) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, dict]:
    """Send a session's request to its server; the open connection and the first reply.
    A refusal raises its own error; a server that is gone or silent, a StoreError with
    the caller's sentence (`unreachable`, or `stopped` as sentence and remedy)."""
    from jumpdeck.core.serve.control import socket_path

    try:
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(socket_path(config))),
                                                CONNECT_TIMEOUT)
    except (OSError, asyncio.TimeoutError):
        raise StoreError(unreachable, remedy=RECONNECT) from None
    try:
        writer.write(json.dumps(request).encode() + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
        if not line:
            raise ConnectionResetError  # closed without a word: not a refusal
        reply = json.loads(line)
        raise_refusal(reply)
    except (OSError, ValueError, asyncio.TimeoutError):
        writer.close()
        raise StoreError(stopped[0], remedy=stopped[1]) from None
    except JumpdeckError:
        writer.close()
        raise
    return reader, writer, reply

async def _no_steps() -> AsyncIterator[CheckProgress]:
    return
    yield  # an async generator that yields nothing


class RemoteFleetChecks:
    """A session's `FleetChecks`: the rounds run in the serve-ssh server."""

    def __init__(self, config: Config) -> None:
        self.config = config
        # Between two results of a round: a check's own deadline, and then some.
        self.step_timeout = config.check_timeout * 2 + 10

    async def _open(self, request: dict[str, Any]) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, dict]:
        return await open_request(
            self.config, request, self.step_timeout,
            unreachable="The serve-ssh server, which runs this session's checks, does not answer.",
            stopped=("The serve-ssh server stopped answering before the checks began.", "Press r to try again."))

    async def start(self, actor: Actor, server_ids: Iterable[int] | None = None, *,
                    sequential: bool = False) -> CheckRound:
        ids = None if server_ids is None else [int(i) for i in server_ids]
        reader, writer, reply = await self._open({"op": "round", "ids": ids, "sequential": sequential,
                                                  "by": actor.user})
        if not reply["ids"]:
            writer.close()
            return CheckRound([], _no_steps())
        return CheckRound([int(i) for i in reply["ids"]], self._steps(reader, writer))

    async def _steps(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> AsyncIterator[CheckProgress]:
        try:
            while True:
                try:
                    line = await asyncio.wait_for(reader.readline(), self.step_timeout)
                    message = json.loads(line) if line else None
                except (OSError, ValueError, asyncio.TimeoutError):
                    message = None
                if message is None:
                    raise StoreError("The serve-ssh server stopped answering in the middle of a round of checks.",
                                     remedy="Press r to run the round again.")
                if message.get("end"):
                    return
                yield CheckProgress(int(message["done"]), int(message["total"]), CheckResult.from_json(message["result"]))
        finally:
            writer.close()  # a round left early stops in the server too

    async def check_one(self, actor: Actor, server_id: int) -> CheckResult:
        _, writer, reply = await self._open({"op": "check", "id": int(server_id), "by": actor.user})
        writer.close()
        return CheckResult.from_json(reply["result"])

    async def servers(self, actor: Actor) -> list[ServerInfo]:
        from jumpdeck.core.serve.session_boot import list_servers

        return await list_servers(self.config, actor)

    def close(self) -> None:
        pass
