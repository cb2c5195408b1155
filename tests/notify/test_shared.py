"""Notifications where more than one process is involved: two jump hosts on one real
PostgreSQL store seeing the same event, and a run's worker whose starter's key came from
JUMPDECK_KEY (the worker's environment never has it)."""

from __future__ import annotations

import asyncio

import pytest

from jumpdeck.core.config import load_config
from jumpdeck.core.context import open_context
from jumpdeck.core.notify.config import NotifyConfigService
from jumpdeck.core.notify.events import Event, EventKind
from jumpdeck.core.notify.notifier import Notifier
from jumpdeck.core.secrets import generate_key
from tests.notify.test_hooks import until


@pytest.mark.services
async def test_two_hosts_on_one_store_send_one_message(tmp_path, monkeypatch, pg_temp_url, receiver):
    monkeypatch.setenv("JUMPDECK_KEY", generate_key().decode())
    host_a = await open_context(load_config(cli={"home": str(tmp_path / "a"), "store_url": pg_temp_url}), user="admin")
    host_b = await open_context(load_config(cli={"home": str(tmp_path / "b"), "store_url": pg_temp_url}), user="admin")
    try:
        await NotifyConfigService(host_a.store, host_a.secrets).add_target(host_a.actor, receiver.url)
        event = Event(EventKind.SERVER_DOWN, "server:pg-1", "pg-1 is down", "refused", server="pg-1")
        outcomes = await asyncio.gather(*(Notifier(c.store, c.secrets, c.actor).notify(event) for c in (host_a, host_b)))
        assert sorted(o.sent for o in outcomes) == [False, True]
        assert any("another process" in o.skipped or "quiet period" in o.skipped for o in outcomes)
        assert receiver.titles() == ["pg-1 is down"]
        # Later, from either host, the quiet period holds for both.
        assert not (await Notifier(host_b.store, host_b.secrets, host_b.actor).notify(event)).sent
    finally:
        host_a.close()
        host_b.close()


async def test_a_worker_gets_the_key_from_its_starter_when_it_came_from_the_environment(tmp_path, monkeypatch, receiver):
    from jumpdeck.core.provision.service import ProvisionService
    from tests.provision.test_service_mock import wait_status

    monkeypatch.setenv("JUMPDECK_KEY", generate_key().decode())
    config = load_config(cli={"home": str(tmp_path / "home")})
    ctx = await open_context(config, user="admin")
    try:
        await NotifyConfigService(ctx.store, ctx.secrets).add_target(ctx.actor, receiver.url)
        svc = ProvisionService(ctx.store, ctx.config, ctx.settings, ctx.secrets)
        info = await svc.start(ctx.actor, "single", "env-key", runner="mock", options={"step_delay": 0.01, "fail_step": 2})
        assert (await wait_status(svc, ctx.actor, info.id)).status == "FAILED"
        await until(lambda: receiver.messages)
        assert receiver.titles() == [f"Provisioning run {info.id} (env-key) FAILED"]
        assert not config.key_path.exists()  # the worker made no key file of its own
    finally:
        ctx.close()
