"""A serve-ssh session's first screen, from the server.

Every session starts on the Servers grid. What that needs from the store (who the
operator is, the settings, the fleet) the server already has open, so a session asks
it over the control socket instead of opening the store itself: a session that stays
on the grid never imports SQLAlchemy, about 20 MB of its memory. Its store opens on
the first call that needs more (another screen, a form, a delete), in a store thread
(`core/store/engine.py` `deferred_store`).

Wire format, one JSON line each way (`core/serve/control.py` decides who asks):
  session -> server: {"op": "hello", "by": NAME}  or  {"op": "servers", "by": NAME}
  server -> session: {"ok": true, "actor": {...}, "settings": {...}, "store": {...}, "secrets": {...}}
                     {"ok": true, "servers": [ServerInfo.as_json(), ...]}
                     or {"ok": false, "kind", "error", "remedy"} when refused.
This is the server's side; the session's (`hello`, `list_servers`) is session_client.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jumpdeck.core.context import Context
    from jumpdeck.core.identity import Actor

BOOT_OPS = ("hello", "servers")


async def answer(ctx: Context, actor: Actor, request: dict[str, Any]) -> dict[str, Any]:
    """The reply to one boot request from `actor`, read from the server's open store."""
    if request["op"] == "hello":
        settings = await ctx.settings.get()
        store = ctx.store
        # The store URL (it may hold a password) and a key the server was given in its
        # environment reach a session here, on its own control socket, never in the
        # session's environment (core/child_env.py).
        secrets = {"store_url": None if ctx.config.demo else ctx.config.store_url,
                   "keys": [key.decode("ascii") for key in ctx.secrets.keys] if ctx.secrets.from_environment else None}
        return {"ok": True, "secrets": secrets,
                "actor": {"user": actor.user, "role": actor.role.value, "status": actor.status.value,
                          "origin": actor.origin},
                "settings": settings.values,
                "store": {"url_display": store.url_display, "kind": store.kind,
                          "degraded_reason": store.degraded_reason}}
    from jumpdeck.core.servers.registry import ServerRegistry

    servers = await ServerRegistry(ctx.store, ctx.secrets).list(actor)
    return {"ok": True, "servers": [s.as_json() for s in servers]}
