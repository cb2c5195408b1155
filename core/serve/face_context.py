"""The context a face (the app, a CLI command) opens: inside a serve-ssh session, from
its server; anywhere else, this process's own (`core/context.py` `open_context`).

This is where a session's `Context` is built and handed the server's checks, so that
core/context.py and core/servers/ need not know serve-ssh exists. The session's side of
the wire (session_client.py) is imported only inside a session: the local app and the
CLI do not pay for it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from jumpdeck.core.context import Context, in_serve_session, local_user_name, open_context, setup_logging

if TYPE_CHECKING:
    from jumpdeck.core.config import Config


async def open_face_context(config: Config, *, user: str | None = None) -> Context:
    if in_serve_session():
        return await open_session_context(config)
    return await open_context(config, user=user)


async def open_session_context(config: Config) -> Context:
    """A serve-ssh session's context: identity, settings and the store's state from the
    server (which resolved this user when it accepted the key); the store itself opens
    on first use. The server migrated it and audits a fallback, so neither happens here.
    Its fleet and rounds of checks come from the server too."""
    from jumpdeck.core.activity import ActivityService
    from jumpdeck.core.secrets import SecretBox, load_secret_box
    from jumpdeck.core.serve.session_client import RemoteChanges, RemoteFleetChecks, hello, reread_facts
    from jumpdeck.core.settings import Settings, SettingsService
    from jumpdeck.core.store.engine import deferred_store
    from jumpdeck.core.users import UserService

    config.ensure_dirs()
    setup_logging(config)
    facts = await hello(config, local_user_name())
    # The store URL and (when the server had it from its environment) the key come from
    # the server, so the session's environment holds neither (core/child_env.py).
    config = replace(config, store_url=facts.store_url)
    secrets = SecretBox(facts.keys, source="the serve-ssh server") if facts.keys else load_secret_box(config.key_path)
    store = deferred_store(sqlite_path=config.store_path, store_url=config.store_url,
                           connect_timeout=config.store_connect_timeout, **facts.store)
    ctx = Context(config, store, secrets, facts.actor, UserService(store),
                  SettingsService(store), ActivityService(store), settings_at_open=Settings(facts.settings),
                  fleet_checks=lambda: RemoteFleetChecks(config), change_source=lambda: RemoteChanges(config))
    ctx.facts_source = lambda: reread_facts(config, ctx.actor)
    return ctx
