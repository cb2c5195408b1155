"""Notifications delivered to a real local HTTP receiver through apprise: one message per
event, none inside a maintenance window or the quiet period, failures recorded, and the
target's token nowhere but in the request the receiver got."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from jumpdeck.core.activity import ActivityFilter
from jumpdeck.core.errors import PermissionDenied
from jumpdeck.core.notify import report
from jumpdeck.core.notify.config import NotifyConfigService
from jumpdeck.core.notify.events import Event, EventKind
from jumpdeck.core.notify.notifier import Notifier
from jumpdeck.core.store.models import utcnow
from tests.notify.conftest import TOKEN


@pytest.fixture
def notify_config(ctx):
    return NotifyConfigService(ctx.store, ctx.secrets)


@pytest.fixture
def notifier(ctx):
    return Notifier(ctx.store, ctx.secrets, ctx.actor)


def down(server: str = "pg-1", tags: tuple[str, ...] = ()) -> Event:
    return Event(EventKind.SERVER_DOWN, f"server:{server}", f"{server} is down", "connection refused",
                 server=server, tags=tags)


async def notify_rows(ctx) -> list:
    page = await ctx.activity.page(ctx.actor, ActivityFilter(target_type="NOTIFY"), limit=1000)
    return page.entries


async def test_one_message_per_event_and_audited_without_the_token(ctx, notify_config, notifier, receiver):
    target = await notify_config.add_target(ctx.actor, receiver.url)
    assert TOKEN not in target.shown and target.shown == f"json://127.0.0.1:{receiver.port}/…"

    first = await notifier.notify(down("pg-1"))
    other = await notifier.notify(Event(EventKind.RUN_FAILED, "run:7", "Provisioning run 7 FAILED", "boom"))
    assert first.sent and other.sent
    assert receiver.titles() == ["pg-1 is down", "Provisioning run 7 FAILED"]
    # The real URL, path and query, reached the receiver.
    assert receiver.paths[0] == f"/hook/{TOKEN}" and receiver.tokens[0] == TOKEN
    rows = await notify_rows(ctx)
    sent = [r for r in rows if r.action == "NOTIFY_SENT"]
    assert {r.target_id for r in sent} == {"server:pg-1", "run:7"}
    assert all(TOKEN not in r.detail and TOKEN not in r.target_id for r in rows)
    stored = await ctx.store.run(lambda s: str(s.execute(__import__("sqlalchemy").text("SELECT extra FROM settings")).scalar()))
    assert TOKEN not in stored  # encrypted at rest


async def test_quiet_period_and_repeat_interval(ctx, notify_config, notifier, receiver):
    await notify_config.add_target(ctx.actor, receiver.url)
    await notify_config.set_timing(ctx.actor, "quiet_seconds", 300)
    await notify_config.set_timing(ctx.actor, "repeat_seconds", 3600)
    assert (await notifier.notify(down())).sent
    again = await notifier.notify(down())
    flap = await notifier.notify(Event(EventKind.SERVER_UP, "server:pg-1", "pg-1 is up again", "", server="pg-1"))
    assert not again.sent and "quiet period" in again.skipped
    assert not flap.sent and "quiet period" in flap.skipped
    assert receiver.titles() == ["pg-1 is down"]

    # Past the quiet period but within the repeat interval: a different kind goes, the same does not.
    later = Notifier(ctx.store, ctx.secrets, ctx.actor, clock=lambda: utcnow() + timedelta(seconds=600))
    assert not (await later.notify(down())).sent
    assert (await later.notify(Event(EventKind.SERVER_UP, "server:pg-1", "pg-1 is up again", "", server="pg-1"))).sent
    much_later = Notifier(ctx.store, ctx.secrets, ctx.actor, clock=lambda: utcnow() + timedelta(hours=3))
    assert (await much_later.notify(down())).sent
    assert receiver.titles() == ["pg-1 is down", "pg-1 is up again", "pg-1 is down"]


async def test_maintenance_window_mutes_its_server_and_tag_only(ctx, notify_config, notifier, receiver):
    await notify_config.add_target(ctx.actor, receiver.url)
    now = utcnow()
    await notify_config.add_window(ctx.actor, starts=now - timedelta(hours=1), ends=now + timedelta(hours=1), server="pg-1")
    await notify_config.add_window(ctx.actor, starts=now - timedelta(hours=1), ends=now + timedelta(hours=1), tag="batch")
    muted = await notifier.notify(down("pg-1"))
    tagged = await notifier.notify(down("etl-3", tags=("batch",)))
    assert "maintenance window 1" in muted.skipped and "maintenance window 2" in tagged.skipped
    assert (await notifier.notify(down("pg-2", tags=("prod",)))).sent
    assert receiver.titles() == ["pg-2 is down"]
    # After the window, the same server is news again.
    after = Notifier(ctx.store, ctx.secrets, ctx.actor, clock=lambda: now + timedelta(hours=2))
    assert (await after.notify(down("pg-1"))).sent


async def test_a_rule_turned_off_and_down_after_n_failures(ctx, notify_config, notifier, receiver):
    await notify_config.add_target(ctx.actor, receiver.url)
    await notify_config.set_rule(ctx.actor, EventKind.SERVER_DOWN, after_failures=3)
    assert not (await report.server_down(notifier, "pg-1", failures=2, error="refused")).sent
    assert (await report.server_down(notifier, "pg-1", failures=3, error="refused")).sent
    await notify_config.set_rule(ctx.actor, EventKind.RUN_FAILED, enabled=False)
    off = await notifier.notify(report.run_failed(9, "etl", "boom"))
    assert "rule" in off.skipped
    assert receiver.titles() == ["pg-1 is down"]


async def test_a_silent_receiver_is_a_recorded_failure_not_a_hang(ctx, notify_config, notifier, receiver, silent_url, config):
    await notify_config.add_target(ctx.actor, silent_url)
    await notify_config.add_target(ctx.actor, receiver.url)
    await notify_config.set_timing(ctx.actor, "timeout_seconds", 3)
    # The guard only keeps a broken build from hanging the suite; the notifier's own deadline is 3 s.
    outcome = await asyncio.wait_for(notifier.notify(down()), 60)
    by_target = {r.target_id: r for r in outcome.results}
    assert not by_target[1].ok and "no answer within 3 s" in by_target[1].reason
    assert by_target[2].ok and receiver.titles() == ["pg-1 is down"]
    rows = await notify_rows(ctx)
    failed = [r for r in rows if r.action == "NOTIFY_FAILED"]
    assert len(failed) == 1 and "target 1" in failed[0].detail and "no answer" in failed[0].detail
    logs = "".join(p.read_text(errors="replace") for p in config.log_dir.glob("*.log*"))
    assert all(TOKEN not in text for text in [logs, *(r.detail for r in rows), *(r.reason for r in outcome.results)])


async def test_test_message_reaches_every_target(ctx, notify_config, notifier, receiver):
    await notify_config.add_target(ctx.actor, receiver.url)
    await notify_config.add_target(ctx.actor, receiver.url)
    results = await notifier.test()
    assert [r.ok for r in results] == [True, True] and len(receiver.messages) == 2
    one = await notifier.test(2)
    assert [r.target_id for r in one] == [2]


async def test_only_an_admin_changes_targets(ctx, notify_config, operator, receiver):
    with pytest.raises(PermissionDenied):
        await notify_config.add_target(operator, receiver.url)
    with pytest.raises(PermissionDenied):
        await notify_config.add_window(replace(operator), starts=utcnow(), ends=utcnow() + timedelta(hours=1), tag="x")


async def test_targets_survive_key_rotation(ctx, notify_config, receiver):
    from jumpdeck.core.keys import rotate_key

    await notify_config.add_target(ctx.actor, receiver.url)
    await rotate_key(ctx, ctx.actor)
    results = await Notifier(ctx.store, ctx.secrets, ctx.actor).test()
    assert [r.ok for r in results] == [True]


def test_rollover_reminder_only_in_december_before_the_rollover():
    from datetime import date

    assert report.rollover_needed(date(2026, 11, 30), 2026) is None
    assert report.rollover_needed(date(2026, 12, 1), 2026).key == "rollover:2027"
    assert report.rollover_needed(date(2026, 12, 1), None) is not None
    assert report.rollover_needed(date(2026, 12, 20), 2027) is None
