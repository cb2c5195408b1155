"""The control socket: how a jumpdeck process reaches the serve-ssh server's sessions.

The sessions live in the server process, while the admin looking at them is a child
jumpdeck (or a local one) on the same data dir. The server listens on a unix socket
`<data dir>/serve.sock` (0600, so only the OS account running jumpdeck can connect)
speaking one JSON line each way: {"op": "list"} or {"op": "end", "id": N};
the sessions' rounds of checks, one line per result (`core/serve/check_relay.py`); and
what a session's first screen needs (`core/serve/session_boot.py`).

Who asks is decided by the server, not by the request: the peer's pid (SO_PEERCRED)
is looked up among the session children, or the session's one-time token a child's
requests carry (it may ask before the server has filed its pid), so a child can only
speak as the user its session belongs to; any other process (a local jumpdeck of the
same OS account, which has the store anyway) is the OS account of its uid, whatever
name it gives. Either way
the user's current role is read from the store, and `MANAGE_SESSIONS` required (for
checks, `TEST_CONNECTION`, which the registry asks for; for a session's first screen, the
user's own facts and the fleet `VIEW` lets them see).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import struct
from pathlib import Path
from typing import TYPE_CHECKING

from jumpdeck.core.context import SESSION_TOKEN_ENV, os_account_name
from jumpdeck.core.errors import ConfigError, JumpdeckError, NotFound, PermissionDenied, StoreError
from jumpdeck.core.identity import Actor, Operation, Role, UserStatus, local_origin, require, ssh_origin
from jumpdeck.core.serve import session_boot
from jumpdeck.core.serve.change_relay import CHANGE_OPS
from jumpdeck.core.serve.check_relay import CHECK_OPS, error_reply
from jumpdeck.core.serve.session_boot import BOOT_OPS
from jumpdeck.core.serve.sessions import LiveSession

if TYPE_CHECKING:
    from jumpdeck.core.config import Config
    from jumpdeck.core.serve.server import ServeServer

log = logging.getLogger("jumpdeck.serve")
SOCKET_NAME = "serve.sock"
# For the request line, which a client sends as soon as it connects: only a stuck peer
# takes long, but a server whose loop was busy for a moment must not drop a session's.
REQUEST_TIMEOUT = 10.0
TIMEOUT = 3.0
# sockaddr_un holds 108 bytes with the terminating NUL.
MAX_SOCKET_PATH = 107


def socket_path(config: Config) -> Path:
    return config.home / SOCKET_NAME


def with_session_token(request: dict) -> dict:
    """The request as a session child sends it: with its session's token, so the server
    knows whose it is (other processes have none and are their OS account)."""
    token = os.environ.get(SESSION_TOKEN_ENV)
    return {**request, "token": token} if token else request


def request_op(line: bytes) -> str:
    """The op of a request line, for the log (never its other fields)."""
    try:
        return str(json.loads(line).get("op"))
    except (ValueError, AttributeError):
        return "?"


def is_store_failure(exc: BaseException) -> bool:
    """Whether `exc` is the store's driver failing (SQLAlchemy's errors), without importing
    SQLAlchemy: a process that never loaded it cannot have met one."""
    import sys

    sa_exc = sys.modules.get("sqlalchemy.exc")
    return sa_exc is not None and isinstance(exc, sa_exc.SQLAlchemyError)


def _peer_credentials(sock: socket.socket) -> tuple[int, int]:
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", raw)
    return pid, uid


# ----------------------------------------------------------------- server side
class ControlServer:
    def __init__(self, server: ServeServer) -> None:
        self.server = server
        self.path = socket_path(server.ctx.config)
        self._unix: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        if len(os.fsencode(self.path)) > MAX_SOCKET_PATH:
            raise ConfigError(f"The data dir {self.path.parent} is too long a path for the control socket.",
                              remedy="Use a shorter --home (at most about 95 characters).")
        if self.path.exists():
            if await _answers(self.path):
                raise JumpdeckError(f"Another serve-ssh server already runs on the data dir {self.path.parent}.",
                                    remedy="Stop it first, or give this one another --home.")
            self.path.unlink()  # left over from a server that died
        old_umask = os.umask(0o177)  # born 0600: no window where others may connect
        try:
            self._unix = await asyncio.start_unix_server(self._handle, path=str(self.path))
        finally:
            os.umask(old_umask)

    async def close(self) -> None:
        if self._unix is not None:
            self._unix.close()
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), REQUEST_TIMEOUT)
            pid, uid = _peer_credentials(writer.get_extra_info("socket"))
            try:
                if uid != os.getuid():
                    raise PermissionDenied("Only the account that runs serve-ssh may manage its sessions.")
                request = json.loads(line or b"{}")
                if request.get("op") in CHECK_OPS:
                    # A session's round of checks: answered line by line as results land.
                    await self.server.checks.serve(await self._actor(request, pid, uid), request, writer)
                    return
                if request.get("op") in CHANGE_OPS:
                    # A session's news of the store, streamed until it closes its end.
                    await self._actor(request, pid, uid)
                    await self.server.changes.serve(writer)
                    return
                if request.get("op") in BOOT_OPS:
                    # A session's first screen (core/serve/session_boot.py); any user's own.
                    reply = await self._boot(request, pid, uid)
                else:
                    reply = await self._answer(request, pid, uid)
            except JumpdeckError as error:
                reply = error_reply(error)
            except (ValueError, KeyError, TypeError, AttributeError):
                reply = {"ok": False, "kind": "ValidationError", "error": "The control request was not understood.", "remedy": None}
            except Exception as exc:  # noqa: BLE001 - a sentence for the asker, the details in the log
                log.exception("control request %r failed", request_op(line))
                if is_store_failure(exc):
                    # A StoreError reply: the session asks once more (session_client.py).
                    reply = {"ok": False, "kind": "StoreError",
                             "error": "The store did not answer the serve-ssh server for this session.",
                             "remedy": "Try again; if it keeps failing, the serve-ssh server's jumpdeck.log says why."}
                else:
                    reply = {"ok": False, "kind": "JumpdeckError",
                             "error": "The serve-ssh server failed to answer this session's request.",
                             "remedy": "Try again; the serve-ssh server's jumpdeck.log has the details."}
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        except (asyncio.TimeoutError, OSError) as exc:
            log.info("control connection dropped: %r", exc)
        finally:
            writer.close()

    async def _boot(self, request: dict, pid: int, uid: int) -> dict:
        """A boot request only reads, so a store hiccup (a dropped connection, a busy
        SQLite file) is asked again once here before the session hears of it."""
        try:
            return await session_boot.answer(self.server.ctx, await self._actor(request, pid, uid), request)
        except Exception as exc:
            if not is_store_failure(exc):
                raise
            log.warning("control request %r: the store failed (%r), asking once more", request.get("op"), exc)
            await asyncio.sleep(0.1)
            return await session_boot.answer(self.server.ctx, await self._actor(request, pid, uid), request)

    async def _actor(self, request: dict, pid: int, uid: int) -> Actor:
        """Who asks: a session child's user (by its pid, or its session's token), else the
        peer's own OS account. Never a name the request gives."""
        entry = self.server.table.by_pid(pid) or self.server.table.by_token(request.get("token"))
        name = entry.user if entry is not None else os_account_name(uid)
        origin = ssh_origin(entry.address) if entry is not None else local_origin()

        def lookup(session) -> Actor:  # noqa: ANN001
            from sqlalchemy import select

            from jumpdeck.core.store.models import UserRow

            row = session.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                raise PermissionDenied(f"'{name}' is not a jumpdeck user.")
            return Actor(row.name, Role(row.role), UserStatus(row.status), origin)

        return await self.server.ctx.store.run(lookup)

    async def _answer(self, request: dict, pid: int, uid: int) -> dict:
        actor = await self._actor(request, pid, uid)
        require(actor, Operation.MANAGE_SESSIONS)
        op = request["op"]
        if op == "list":
            return {"ok": True, "sessions": [s.to_json() for s in self.server.table.list()]}
        if op == "end":
            entry = self.server.table.get(int(request["id"]))
            ended = next(s for s in self.server.table.list() if s.id == entry.id)
            entry.end(f"ended by the admin {actor.user}")
            await self.server.audit(actor, "SSH_SESSION_END", entry.address,
                                    f"session {entry.id} of {entry.user}, key {entry.fingerprint}")
            return {"ok": True, "session": ended.to_json()}
        raise ValueError(op)


async def _answers(path: Path) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), 1.0)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    return True


# ----------------------------------------------------------------- client side
_ERRORS = {cls.__name__: cls for cls in (PermissionDenied, NotFound, StoreError)}


async def _request(config: Config, request: dict) -> dict | None:
    """The server's reply, or None when no serve-ssh server runs on this data dir."""
    path = socket_path(config)
    if not path.exists():
        return None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), TIMEOUT)
    except (ConnectionRefusedError, FileNotFoundError):
        return None  # a stale socket file: the server is gone
    except (OSError, asyncio.TimeoutError) as exc:
        raise StoreError(f"The serve-ssh control socket {path} does not answer ({exc}).") from None
    try:
        writer.write(json.dumps(with_session_token(request)).encode() + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), TIMEOUT)
    except (OSError, asyncio.TimeoutError) as exc:
        raise StoreError(f"The serve-ssh server did not answer ({exc}).") from None
    finally:
        writer.close()
    reply = json.loads(line)
    if not reply.get("ok"):
        raise _ERRORS.get(reply.get("kind"), JumpdeckError)(reply.get("error") or "The serve-ssh server refused.",
                                                            remedy=reply.get("remedy"))
    return reply


async def list_sessions(config: Config, actor: Actor) -> list[LiveSession] | None:
    """The live sessions, oldest first; None when no serve-ssh server is running here."""
    require(actor, Operation.MANAGE_SESSIONS)
    reply = await _request(config, {"op": "list", "by": actor.user})
    return None if reply is None else [LiveSession.from_json(s) for s in reply["sessions"]]


async def end_session(config: Config, actor: Actor, session_id: int) -> LiveSession:
    """Close one session (the operator reads why on their terminal); audited."""
    require(actor, Operation.MANAGE_SESSIONS)
    reply = await _request(config, {"op": "end", "id": session_id, "by": actor.user})
    if reply is None:
        raise NotFound("No serve-ssh server is running on this data dir.", remedy="Start one with `jumpdeck serve-ssh`.")
    return LiveSession.from_json(reply["session"])
