"""A serve-ssh session's first screen, from the server.

Every session starts on the Servers grid. What that needs from the store (who the
operator is, the settings, the fleet) the server already has open, so a session asks
it over the control socket instead of opening the store itself: a session that stays
on the grid never imports SQLAlchemy, about 20 MB of its memory. Its store opens on
the first call that needs more (another screen, a form, a delete), in a store thread
(`core/store/engine.py` `deferred_store`).

Wire format, one JSON line each way (`core/serve/control.py` decides who asks):
  session -> server: {"op": "hello", "by": NAME}  or  {"op": "servers", "by": NAME}
  server -> session: {"ok": true, "actor": {...}, "settings": {...}, "store": {...}}
                     {"ok": true, "servers": [ServerInfo.as_json(), ...]}
                     or {"ok": false, "kind", "error", "remedy"} when refused.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jumpdeck.core.context import ORIGIN_ENV
from jumpdeck.core.errors import JumpdeckError, StoreError
from jumpdeck.core.identity import Actor, Role, UserStatus

if TYPE_CHECKING:
    from jumpdeck.core.config import Config
    from jumpdeck.core.context import Context
    from jumpdeck.core.servers.registry import ServerInfo

BOOT_OPS = ("hello", "servers")
TIMEOUT = 10.0


# ----------------------------------------------------------------- server side
async def answer(ctx: Context, actor: Actor, request: dict[str, Any]) -> dict[str, Any]:
    """The reply to one boot request from `actor`, read from the server's open store."""
    if request["op"] == "hello":
        settings = await ctx.settings.get()
        store = ctx.store
        return {"ok": True,
                "actor": {"user": actor.user, "role": actor.role.value, "status": actor.status.value,
                          "origin": actor.origin},
                "settings": settings.values,
                "store": {"url_display": store.url_display, "kind": store.kind,
                          "degraded_reason": store.degraded_reason}}
    from jumpdeck.core.servers.registry import ServerRegistry

    servers = await ServerRegistry(ctx.store, ctx.secrets).list(actor)
    return {"ok": True, "servers": [s.as_json() for s in servers]}


# ----------------------------------------------------------------- client side
@dataclass(frozen=True)
class Hello:
    actor: Actor
    settings: dict[str, Any]
    store: dict[str, Any]  # url_display, kind, degraded_reason: as `deferred_store` takes them


async def _ask(config: Config, request: dict[str, Any]) -> dict[str, Any]:
    """One boot request, asked again once if the server dropped it (they only read)."""
    try:
        return await _ask_once(config, request)
    except StoreError:
        await asyncio.sleep(0.2)
        return await _ask_once(config, request)


async def _ask_once(config: Config, request: dict[str, Any]) -> dict[str, Any]:
    from jumpdeck.core.serve.check_relay import RECONNECT, open_request

    _, writer, reply = await open_request(
        config, request, TIMEOUT, unreachable="The serve-ssh server, which this session starts from, does not answer.",
        stopped=("The serve-ssh server stopped answering while this session started.", RECONNECT))
    writer.close()
    return reply


async def hello(config: Config, user: str) -> Hello:
    """Who this session's operator is, the settings and the store's state. (`user` is
    heard only from a process that is not a session child: a session is who it is.)"""
    reply = await _ask(config, {"op": "hello", "by": user})
    try:
        who = reply["actor"]
        # The origin the server gave this session's environment: the server may answer
        # before it has filed this pid under the session (then it says "local").
        origin = os.environ.get(ORIGIN_ENV) or str(who["origin"])
        actor = Actor(str(who["user"]), Role(who["role"]), UserStatus(who["status"]), origin)
        return Hello(actor, dict(reply["settings"]), dict(reply["store"]))
    except (KeyError, TypeError, ValueError):
        raise JumpdeckError("The serve-ssh server's answer to this session was not understood.",
                            remedy="The server and the session may be different jumpdeck versions: restart serve-ssh.") from None


async def list_servers(config: Config, actor: Actor) -> list[ServerInfo]:
    """The fleet as `ServerRegistry.list` gives it, listed by the server for `actor`."""
    from jumpdeck.core.servers.registry import ServerInfo

    reply = await _ask(config, {"op": "servers", "by": actor.user})
    return [ServerInfo.from_json(s) for s in reply["servers"]]
