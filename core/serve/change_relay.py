"""The store's change feed, relayed to serve-ssh sessions by their server.

A session child does not open the store to learn what changed (that would cost it
SQLAlchemy and, on PostgreSQL, a listening connection of its own: twenty sessions,
twenty connections). It asks its server once, and the server, which listens for the
whole process, writes each change down that connection as it comes. An idle session's
connection carries nothing.

The server also watches users and keys for its sessions: an account disabled or
deleted, or the key a session logged in with removed, ends that session at once
with a sentence; a changed role reaches the session as a "users" change, on which
the session reads its identity again (`hello`).

Wire format, one JSON line each way (`core/serve/control.py` decides who asks):
  session -> server: {"op": "changes"}
  server -> session: {"ok": true}, then {"topics": ["servers", ...]} per change,
                     with "sessions" when the server's session list changed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from jumpdeck.core.store.changes import ALL_TOPICS

if TYPE_CHECKING:
    from jumpdeck.core.serve.server import ServeServer

log = logging.getLogger("jumpdeck.serve")
CHANGE_OPS = ("changes",)
# Not a table: the server's own list of live sessions (the Sessions screen's).
SESSIONS_TOPIC = "sessions"


class ChangeRelay:
    def __init__(self, server: ServeServer) -> None:
        self.server = server
        self._streams: set[asyncio.Queue[frozenset[str]]] = set()
        self._cancel = None

    def start(self) -> None:
        """Listen for the whole server (on its loop)."""
        self._cancel = self.server.ctx.changes().subscribe(ALL_TOPICS, self._arrived)

    def close(self) -> None:
        if self._cancel is not None:
            self._cancel()
        for queue in self._streams:
            queue.put_nowait(frozenset())  # ends each stream

    def sessions_changed(self) -> None:
        self._publish(frozenset({SESSIONS_TOPIC}))

    def _arrived(self, topics: frozenset[str]) -> None:
        if topics & {"users", "user_keys"}:
            self.server.spawn(self._end_sessions_of_disabled_users())
        if "settings" in topics:
            self.server.spawn(self._check_store_key())
        self._publish(topics)

    def _publish(self, topics: frozenset[str]) -> None:
        for queue in self._streams:
            queue.put_nowait(topics)

    async def serve(self, writer: asyncio.StreamWriter) -> None:
        """Stream changes to one session until it closes its end."""
        queue: asyncio.Queue[frozenset[str]] = asyncio.Queue()
        self._streams.add(queue)
        try:
            await self._send(writer, {"ok": True})
            while True:
                topics = await queue.get()
                if not topics:
                    return
                while not queue.empty():  # a backlog goes as one line
                    more = queue.get_nowait()
                    if not more:
                        return
                    topics |= more
                await self._send(writer, {"topics": sorted(topics)})
        except (ConnectionError, OSError):
            pass  # the session left
        finally:
            self._streams.discard(queue)

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
        writer.write(json.dumps(message).encode() + b"\n")
        await writer.drain()

    async def _check_store_key(self) -> None:
        """A key rotated elsewhere: a session writing under the old one would strand what
        it writes, so every session ends with the reason (the server's log says more)."""
        from jumpdeck.core.errors import ConfigError

        try:
            await self.server.ctx.check_store_key()
        except ConfigError as error:
            log.error("%s", error)
            for entry in self.server.table.entries():
                entry.end("the store's encryption key was rotated on another host; the admin must bring "
                          "the new key here (jumpdeck key import) and restart serve-ssh")
        except Exception:  # the store is away: checked again on its next change
            log.exception("could not read the store's key record")

    async def _end_sessions_of_disabled_users(self) -> None:
        """Sessions whose user may no longer be here end now, each with its reason."""
        table = self.server.table
        live = table.entries()
        if not live:
            return
        names = {e.user for e in live}

        def read(session) -> tuple[dict[str, str], set[str]]:  # noqa: ANN001
            from sqlalchemy import select

            from jumpdeck.core.store.models import UserKeyRow, UserRow

            status = dict(session.execute(select(UserRow.name, UserRow.status).where(UserRow.name.in_(names))).all())
            keys = set(session.scalars(select(UserKeyRow.fingerprint).join(UserRow).where(UserRow.name.in_(names))))
            return status, keys

        try:
            status, keys = await self.server.ctx.store.run(read)
        except Exception:  # the store is away: the sessions stay as they are until it is back
            log.exception("could not read the users of live sessions")
            return
        for entry in live:
            if status.get(entry.user) != "active":
                reason = ("your jumpdeck account was disabled by an admin" if entry.user in status
                          else "your jumpdeck account was removed by an admin")
            elif entry.fingerprint and entry.fingerprint not in keys:
                reason = "the SSH key this session logged in with was removed by an admin"
            else:
                continue
            entry.end(reason)
            await self.server.audit(self.server.ctx.actor, "SSH_SESSION_END", entry.address,
                                    f"session {entry.id} of {entry.user}: {reason}")
