"""One jumpdeck process's open world: config, store, secrets, the acting identity and
the services over them, built by `open_context`. The faces ask for theirs through
core/serve/face_context.py, which inside a serve-ssh session builds it from the server's
answer instead and hands it the server's checks: this module knows nothing of serve-ssh
but the environment names the server sets.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Awaitable, Callable

from jumpdeck.core.config import Config
from jumpdeck.core.identity import Actor, local_origin

if TYPE_CHECKING:
    from jumpdeck.core.activity import ActivityService
    from jumpdeck.core.secrets import SecretBox
    # Only for the annotation below: core/servers sits above this module.
    from jumpdeck.core.servers.fleet_checks import FleetChecks
    from jumpdeck.core.settings import Settings, SettingsService
    from jumpdeck.core.store.changes import ChangeSource
    from jumpdeck.core.store.engine import Store
    from jumpdeck.core.users import UserService

# serve-ssh sets these for each session's child: its first screen, its checks and its
# identity come from the server. Neither names anyone: the server decides who a child is
# from the child's pid (SO_PEERCRED) or the session's one-time token, which only the
# child was given; a process that sets them by hand is, to the server, its OS account.
SERVE_SESSION_ENV = "JUMPDECK_SERVE_SESSION"
SESSION_TOKEN_ENV = "JUMPDECK_SESSION_TOKEN"


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
    # Where news of other processes' commits comes from, likewise: a serve-ssh session
    # hears the server's feed; None: this process listens to the store itself.
    change_source: Callable[[], ChangeSource] | None = None
    # How to read this operator's identity and the settings again after a change
    # elsewhere; None: from this process's store (a session asks its server).
    facts_source: Callable[[], Awaitable[tuple[Actor, Settings]]] | None = None
    # Why this process keeps no jumpdeck.log (its file cannot be opened), for the faces to
    # say once; None when it logs.
    log_problem: str | None = None
    _changes: ChangeSource | None = field(default=None, init=False, repr=False)

    async def reread(self) -> tuple[Actor, Settings]:
        """This operator as the store says now (a role changed, an account disabled) and
        the settings; `actor` is replaced, so every later call acts with the new role."""
        if self.facts_source is not None:
            actor, settings = await self.facts_source()
        else:
            actor = await self.users.current(self.actor)
            settings = await self.settings.get()
        self.actor = actor
        if self.store.opened:
            await self.check_store_key()
        return actor, settings

    async def check_store_key(self) -> None:
        """The store's key may have been rotated by another process. On this host that
        process rewrote the key file: take the new key, in place, so every service holding
        this box encrypts with it. On another host the key must be brought here first: a
        ConfigError says how, and the face stops writing under a key the store no longer has."""
        from jumpdeck.core.secrets import load_secret_box
        from jumpdeck.core.store_key import key_mismatch, opens, read_store_key

        record = await self.store.run(read_store_key)
        if record.key_id is None or opens(self.secrets, record):
            return
        fresh = load_secret_box(self.config.key_path)
        if opens(fresh, record):
            self.secrets.keys[:] = fresh.keys
            return
        raise key_mismatch(self.store.url_display, record, self.secrets)

    def changes(self) -> ChangeSource:
        """The process's one change feed, started by its first subscriber."""
        if self._changes is None:
            if self.change_source is not None:
                self._changes = self.change_source()
            else:
                from jumpdeck.core.store.changes import ChangeFeed
                from jumpdeck.core.store.snapshot import keep_current

                self._changes = ChangeFeed(self.store)
                # The process that listens keeps this host's snapshot of a shared store
                # current, so an outage opens on what the store held a moment before.
                keep_current(self.store, self._changes)
        return self._changes

    def close(self) -> None:
        if self._changes is not None:
            self._changes.close()
        self.store.close()


def local_user_name() -> str:
    """The OS account this process runs as: its uid's passwd entry. Never USER, LOGNAME
    or any other variable the user can set (getpass reads those first)."""
    return os_account_name(os.getuid())


def os_account_name(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # no passwd entry (some containers)
        return f"uid{uid}"


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotated log whose every file is created 0600: a log names servers and operators."""

    def _open(self):  # noqa: ANN202 - logging's own hook
        from jumpdeck.core.private_files import open_private

        return open_private(Path(self.baseFilename), self.mode, encoding=self.encoding or "utf-8")


def setup_logging(config: Config) -> str | None:
    """jumpdeck.log in the data dir, rotated. Never the screen: Textual owns it. Returns
    why there is no log (a home that cannot be written), or None: a log that cannot be
    opened costs the log, never the command."""
    from jumpdeck.core.private_files import private_dir

    root = logging.getLogger("jumpdeck")
    if any(getattr(h, "_jumpdeck", False) for h in root.handlers):
        return None
    path = config.log_dir / "jumpdeck.log"
    try:
        private_dir(config.log_dir)
        handler = PrivateRotatingFileHandler(path, maxBytes=5_000_000, backupCount=3)
    except OSError as exc:
        # Without any handler, logging would print warnings on stderr: the TUI's screen.
        root.addHandler(logging.NullHandler())
        return f"{path} cannot be opened for writing ({exc.strerror}); this run keeps no log"
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._jumpdeck = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(config.log_level.upper())
    return None


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
    log_problem = setup_logging(config)
    store = await asyncio.to_thread(
        open_store, sqlite_path=config.store_path, store_url=config.store_url, connect_timeout=config.store_connect_timeout
    )
    try:
        secrets = await _secrets_for(store, config)
    except BaseException:
        store.close()
        raise
    users = UserService(store)
    # `user` and `origin` are for code that builds a context in-process (serve-ssh for its
    # own identity, tests); from the command line the actor is always the OS account.
    actor = await users.resolve_local(user or local_user_name(), origin or local_origin())
    ctx = Context(config, store, secrets, actor, users, SettingsService(store), ActivityService(store))
    ctx.log_problem = log_problem
    return ctx
