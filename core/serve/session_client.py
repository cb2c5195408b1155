"""The session side of the serve-ssh wire: what a session child asks its server.

A session opens its context from the server's answer to "hello" (who its operator is,
the settings, the store's state: face_context.py), lists the fleet through it, and runs
its rounds of checks there (`RemoteFleetChecks`). The server's answers are in
check_relay.py and session_boot.py; control.py routes each request to them.

Wire format: see check_relay.py (rounds and single checks) and session_boot.py
("hello" and "servers").
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator, Iterable

from jumpdeck.core.errors import JumpdeckError, NotFound, PermissionDenied, StoreError, ValidationError
from jumpdeck.core.identity import Actor, Role, UserStatus
from jumpdeck.core.servers.checks import CheckProgress, CheckResult
from jumpdeck.core.servers.fleet_checks import CheckRound
from jumpdeck.core.servers.values import ServerInfo

if TYPE_CHECKING:
    from jumpdeck.core.config import Config

CONNECT_TIMEOUT = 3.0
# A boot request reads from the server's open store: only a busy server takes long.
BOOT_TIMEOUT = 10.0
RECONNECT = "Reconnect; if it keeps failing, ask the admin to look at the serve-ssh server."
# A StoreError reply is the server's store failing for a moment: `_ask` asks once more.
_ERRORS = {cls.__name__: cls for cls in (PermissionDenied, NotFound, ValidationError, StoreError)}


def raise_refusal(reply: dict[str, Any]) -> None:
    if not reply.get("ok"):
        raise _ERRORS.get(reply.get("kind"), JumpdeckError)(reply.get("error") or "The serve-ssh server refused.",
                                                            remedy=reply.get("remedy"))


async def open_request(config: Config, request: dict[str, Any], timeout: float, *, unreachable: str,
                       stopped: tuple[str, str]) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, dict]:
    """Send a session's request to its server; the open connection and the first reply.
    A refusal raises its own error; a server that is gone or silent, a StoreError with
    the caller's sentence (`unreachable`, or `stopped` as sentence and remedy)."""
    from jumpdeck.core.serve.control import socket_path, with_session_token

    try:
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(socket_path(config))),
                                                CONNECT_TIMEOUT)
    except (OSError, asyncio.TimeoutError):
        raise StoreError(unreachable, remedy=RECONNECT) from None
    try:
        writer.write(json.dumps(with_session_token(request)).encode() + b"\n")
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


# ----------------------------------------------------------------- first screen
@dataclass(frozen=True)
class Hello:
    actor: Actor
    settings: dict[str, Any]
    store: dict[str, Any]  # url_display, kind, degraded_reason: as `deferred_store` takes them
    store_url: str | None = None  # as the server opened it; never in the session's environment
    keys: list[bytes] | None = None  # the server's key, when it came from its environment


async def _ask(config: Config, request: dict[str, Any]) -> dict[str, Any]:
    """One boot request, asked again once if the server dropped it (they only read)."""
    try:
        return await _ask_once(config, request)
    except StoreError:
        await asyncio.sleep(0.2)
        return await _ask_once(config, request)


async def _ask_once(config: Config, request: dict[str, Any]) -> dict[str, Any]:
    _, writer, reply = await open_request(
        config, request, BOOT_TIMEOUT,
        unreachable="The serve-ssh server, which this session starts from, does not answer.",
        stopped=("The serve-ssh server stopped answering while this session started.", RECONNECT))
    writer.close()
    return reply


async def hello(config: Config, user: str) -> Hello:
    """Who this session's operator is, the settings and the store's state. (`user` is
    heard only from a process that is not a session child: a session is who it is.)"""
    reply = await _ask(config, {"op": "hello", "by": user})
    try:
        who = reply["actor"]
        # The server recorded who and from where (by pid or the session's token).
        actor = Actor(str(who["user"]), Role(who["role"]), UserStatus(who["status"]), str(who["origin"]))
        secrets = reply.get("secrets") or {}
        keys = [str(key).encode("ascii") for key in secrets["keys"]] if secrets.get("keys") else None
        return Hello(actor, dict(reply["settings"]), dict(reply["store"]), secrets.get("store_url"), keys)
    except (KeyError, TypeError, ValueError):
        raise JumpdeckError("The serve-ssh server's answer to this session was not understood.",
                            remedy="The server and the session may be different jumpdeck versions: restart serve-ssh.") from None


async def list_servers(config: Config, actor: Actor) -> list[ServerInfo]:
    """The fleet as `ServerRegistry.list` gives it, listed by the server for `actor`."""
    reply = await _ask(config, {"op": "servers", "by": actor.user})
    return [ServerInfo.from_json(s) for s in reply["servers"]]


# ----------------------------------------------------------------- checks
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
        return await list_servers(self.config, actor)

    def close(self) -> None:
        pass


# ----------------------------------------------------------------- changes
class RemoteChanges:
    """A session's change source: the server's feed, relayed (change_relay.py). One
    connection, opened by the first subscriber; an idle one carries nothing."""

    def __init__(self, config: Config) -> None:
        from jumpdeck.core.store.changes import Subscribers

        self.config = config
        self.subscribers = Subscribers()
        self._task: asyncio.Task | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._closed = False
        self.connected = asyncio.Event()

    def subscribe(self, topics: Iterable[str], callback) -> Any:  # noqa: ANN001
        cancel = self.subscribers.add(topics, callback)
        if self._task is None and not self._closed:
            self._task = asyncio.get_running_loop().create_task(self._listen(), name="session-changes")
        return cancel

    async def _listen(self) -> None:
        from jumpdeck.core.store.changes import ALL_TOPICS

        first = True
        while not self._closed:
            try:
                reader, self._writer, _ = await open_request(
                    self.config, {"op": "changes"}, BOOT_TIMEOUT,
                    unreachable="The serve-ssh server does not answer.", stopped=("The serve-ssh server stopped.", RECONNECT))
            except JumpdeckError:
                await asyncio.sleep(1.0)
                continue
            self.connected.set()
            if not first:
                self.subscribers.arrived(ALL_TOPICS | {"sessions"})
            first = False
            while True:
                line = await reader.readline()
                if not line:
                    break
                try:
                    topics = json.loads(line).get("topics") or []
                except ValueError:
                    continue
                self.subscribers.arrived(topics)
            self.connected.clear()
            self._writer.close()
            await asyncio.sleep(0.5)

    def close(self) -> None:
        self._closed = True
        self.subscribers.close()
        if self._writer is not None:
            self._writer.close()
        if self._task is not None:
            self._task.cancel()


async def reread_facts(config: Config, actor: Actor) -> tuple[Actor, Any]:
    """A session's identity and settings as its server reads them now."""
    from jumpdeck.core.settings import Settings

    facts = await hello(config, actor.user)
    return facts.actor, Settings(facts.settings)
