"""The watch's incidents reach the notification targets: an incident opened is one
"down" message, its close one "up" message, and a maintenance window on the server's tag
mutes them. A real local HTTP receiver; the servers are registered for real."""

from __future__ import annotations

from datetime import timedelta

from jumpdeck.core.notify.config import NotifyConfigService
from jumpdeck.core.notify.notifier import Notifier
from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec
from jumpdeck.core.store.models import utcnow
from jumpdeck.core.watch.alerts import IncidentAlerts
from jumpdeck.core.watch.events import IncidentClosed, IncidentOpened


async def test_incidents_are_notified_and_a_tag_window_mutes_them(ctx, receiver) -> None:
    registry = ServerRegistry(ctx.store, ctx.secrets)
    web = await registry.create(ctx.actor, ServerSpec(name="pg-web", db_type="postgresql", host="127.0.0.1",
                                                      port=1, username="postgres", no_password=True))
    quiet = await registry.create(ctx.actor, ServerSpec(name="pg-quiet", db_type="postgresql", host="127.0.0.1",
                                                        port=2, username="postgres", no_password=True,
                                                        tags=["patching"]))
    config = NotifyConfigService(ctx.store, ctx.secrets)
    await config.add_target(ctx.actor, receiver.url)
    await config.set_timing(ctx.actor, "quiet_seconds", 0)
    now = utcnow()
    await config.add_window(ctx.actor, starts=now - timedelta(minutes=5), ends=now + timedelta(hours=1), tag="patching")
    alerts = IncidentAlerts(Notifier(ctx.store, ctx.secrets, ctx.actor), registry, ctx.actor, failures=3)
    start = now - timedelta(minutes=3)
    alerts(IncidentOpened(1, web.id, "pg-web", start, "refused", "Connection refused"))
    alerts(IncidentOpened(2, quiet.id, "pg-quiet", start, "refused", "Connection refused"))
    await alerts.close()
    alerts(IncidentClosed(1, web.id, "pg-web", start, now, "refused"))
    await alerts.close()
    assert receiver.titles() == ["pg-web is down", "pg-web is up again"]
    assert "refused: Connection refused" in receiver.messages[0].get("message", receiver.messages[0].get("body", ""))
