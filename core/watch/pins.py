"""Pinning a server to a site: only a watch started with that `--site` checks it (a
server in zone B answers only from zone B's jump host). Admin, audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jumpdeck.core import activity
from jumpdeck.core.identity import Actor, Operation, require
from jumpdeck.core.text_checks import storable_text
from jumpdeck.core.watch import claims
from jumpdeck.core.watch.store_clock import store_clock

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from jumpdeck.core.store.engine import Store


async def pin_server(store: Store, actor: Actor, server_id: int, site: str | None) -> None:
    """Pin the server to `site`, or unpin it (None: any watch may check it)."""
    require(actor, Operation.MANAGE_SERVERS)
    if site is not None:
        site = storable_text(site.strip(), label="site", field="site")

    def write(session: Session) -> None:
        claims.pin(session, server_id, site or None, store_clock(session))
        activity.record(session, actor, "UPDATE", "SERVER", str(server_id),
                        f"watch site: {site}" if site else "watch site: any")

    await store.run(write)
