"""One jumpdeck process's open world: config, store, secrets, the acting identity and
the services over them. CLI commands, the TUI and tests all build it with `open_context`.
"""

from __future__ import annotations

import getpass
import logging
import logging.handlers
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jumpdeck.core.config import Config
from jumpdeck.core.identity import Actor

if TYPE_CHECKING:
    from jumpdeck.core.activity import ActivityService
    from jumpdeck.core.secrets import SecretBox
    from jumpdeck.core.settings import Settings, SettingsService
    from jumpdeck.core.store.engine import Store
    from jumpdeck.core.users import UserService

# serve-ssh sets these for each session's child so it acts as the mapped user.
ACTOR_ENV = "JUMPDECK_ACTOR"
ORIGIN_ENV = "JUMPDECK_ORIGIN"
# ...and this: the session's first screen and its checks come from the server.
SERVE_SESSION_ENV = "JUMPDECK_SERVE_SESSION"


def in_serve_session() -> bool:
    return os.environ.get(SERVE_SESSION_ENV) == "1"


@dataclass
class Context:
    config: Config
    store: Store
    secrets: SecretBox
    actor: Actor
    users: UserService
    settings: SettingsService
    activity: ActivityService
    # The settings as read when the context opened, where that came for free (a serve-ssh
    # session gets them with its identity); None elsewhere: ask `settings`.
    settings_at_open: Settings | None = None

    def close(self) -> None:
        self.store.close()


def local_user_name() -> str:
    if os.environ.get(ACTOR_ENV):
        return os.environ[ACTOR_ENV]
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return f"uid{os.getuid()}"


def setup_logging(config: Config) -> None:
    """jumpdeck.log in the data dir, rotated. Never the screen: Textual owns it."""
    root = logging.getLogger("jumpdeck")
    if any(getattr(h, "_jumpdeck", False) for h in root.handlers):
        return
    config.log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(config.log_dir / "jumpdeck.log", maxBytes=5_000_000, backupCount=3)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._jumpdeck = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(config.log_level.upper())


async def open_context(config: Config, *, user: str | None = None, origin: str | None = None) -> Context:
    """Open the store (migrating it), load the key and resolve the actor.

    A configured PostgreSQL that does not answer falls back to the local SQLite file;
    the fallback is audited here and shown by each face (banner / warning line)."""
    import asyncio

    from jumpdeck.core.activity import ActivityService
    from jumpdeck.core.secrets import load_secret_box
    from jumpdeck.core.settings import SettingsService
    from jumpdeck.core.store.engine import open_store
    from jumpdeck.core.users import UserService

    config.ensure_dirs()
    setup_logging(config)
    if in_serve_session():
        return await _open_session_context(config)
    store = await asyncio.to_thread(
        open_store, sqlite_path=config.store_path, store_url=config.store_url, connect_timeout=config.store_connect_timeout
    )
    secrets = load_secret_box(config.key_path)
    users = UserService(store)
    actor = await users.resolve_local(user or local_user_name(), origin or os.environ.get(ORIGIN_ENV, "local"))
    ctx = Context(config, store, secrets, actor, users, SettingsService(store), ActivityService(store))
    if store.degraded:
        await ctx.activity.record(actor, "STORE_FALLBACK", "STORE", store.url_display, store.degraded_reason or "")
    return ctx


async def _open_session_context(config: Config) -> Context:
    """A serve-ssh session's context: identity, settings and the store's state from the
    server (which resolved this user when it accepted the key); the store itself opens
    on first use. The server migrated it and audits a fallback, so neither happens here."""
    from jumpdeck.core.activity import ActivityService
    from jumpdeck.core.secrets import load_secret_box
    from jumpdeck.core.serve.session_boot import hello
    from jumpdeck.core.settings import Settings, SettingsService
    from jumpdeck.core.store.engine import deferred_store
    from jumpdeck.core.users import UserService

    facts = await hello(config, local_user_name())
    store = deferred_store(sqlite_path=config.store_path, store_url=config.store_url,
                           connect_timeout=config.store_connect_timeout, **facts.store)
    return Context(config, store, load_secret_box(config.key_path), facts.actor, UserService(store),
                   SettingsService(store), ActivityService(store), settings_at_open=Settings(facts.settings))
