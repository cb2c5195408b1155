"""One jumpdeck process's open world: config, store, secrets, the acting identity and
the services over them, built by `open_context`. The faces ask for theirs through
core/serve/face_context.py, which inside a serve-ssh session builds it from the server's
answer instead and hands it the server's checks: this module knows nothing of serve-ssh
but the environment names the server sets.
"""

from __future__ import annotations

import getpass
import logging
import logging.handlers
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from jumpdeck.core.config import Config
from jumpdeck.core.identity import Actor

if TYPE_CHECKING:
    from jumpdeck.core.activity import ActivityService
    from jumpdeck.core.secrets import SecretBox
    # Only for the annotation below: core/servers sits above this module.
    from jumpdeck.core.servers.fleet_checks import FleetChecks
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
    # Where the faces' fleet and rounds of checks come from when not from this process's
    # own engine: set by whoever builds the context (a serve-ssh session's opener hands
    # it the server's). None: `open_fleet_checks` checks here.
    fleet_checks: Callable[[], FleetChecks] | None = None

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


async def _secrets_for(store: Store, config: Config) -> SecretBox:
    """This host's key, once it is known to be the store's (a fresh store adopts it).
    A key that is not the store's stops here, before anything is written."""
    from jumpdeck.core.secrets import load_secret_box
    from jumpdeck.core.store_key import adopt_or_verify, key_mismatch, opens, read_store_key, store_needs_a_key_here

    record = await store.run(read_store_key)
    has_key_file = config.key_path.exists() or config.key_path.with_name(config.key_path.name + ".new").exists()
    if store_needs_a_key_here(record, has_key_file, dict(os.environ)):
        raise key_mismatch(store.url_display, record, None)
    secrets = load_secret_box(config.key_path)
    secrets.check_usable()
    if record.key_id is None:
        # Only a fresh store needs a second transaction (the adoption, which one host wins).
        await store.run(lambda session: adopt_or_verify(session, secrets, store.url_display))
    elif not opens(secrets, record):
        raise key_mismatch(store.url_display, record, secrets)
    return secrets


async def open_context(config: Config, *, user: str | None = None, origin: str | None = None) -> Context:
    """Open the store (migrating it), load the key and resolve the actor.

    A configured PostgreSQL that does not answer opens read-only on this host's
    snapshot of it (core/store/snapshot.py); each face shows it (banner / warning line)
    and the store records the outage in the activity log once it is back."""
    import asyncio

    from jumpdeck.core.activity import ActivityService
    from jumpdeck.core.settings import SettingsService
    from jumpdeck.core.store.engine import open_store
    from jumpdeck.core.users import UserService

    config.ensure_dirs()
    setup_logging(config)
    store = await asyncio.to_thread(
        open_store, sqlite_path=config.store_path, store_url=config.store_url, connect_timeout=config.store_connect_timeout
    )
    try:
        secrets = await _secrets_for(store, config)
    except BaseException:
        store.close()
        raise
    users = UserService(store)
    actor = await users.resolve_local(user or local_user_name(), origin or os.environ.get(ORIGIN_ENV, "local"))
    ctx = Context(config, store, secrets, actor, users, SettingsService(store), ActivityService(store))
    return ctx
