"""One key per store: the store records which key encrypts its secrets.

Several jump hosts share one PostgreSQL store, and each has its own key file. A host that
made its own key would encrypt new passwords under it, and every other host would then fail
to open them. So the store keeps the id of its key (a SHA-256 fingerprint: it identifies
the key and reveals nothing of it) and a check token made with it. The first process to
open a fresh store adopts its key; every later process must hold a key that opens the
check token, or it stops with one sentence before it writes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from jumpdeck.core.errors import ConfigError
from jumpdeck.core.secrets import KEY_ENV, SecretBox

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

CHECK_PLAINTEXT = "jumpdeck: this store's key"
KEY_HOWTO = ("On a host that has the store's key run `jumpdeck key export -o FILE`, copy FILE here "
             "(scp; it is a secret) and run `jumpdeck key import FILE`, or set JUMPDECK_KEY to that key.")


@dataclass(frozen=True)
class StoreKey:
    key_id: str | None  # None: a fresh store that has not adopted a key yet
    check: str | None


def read_store_key(session: Session) -> StoreKey:
    from jumpdeck.core.settings import _load_row

    row = _load_row(session)
    return StoreKey(row.key_id, row.key_check)


def opens(box: SecretBox, record: StoreKey) -> bool:
    """Whether `box` holds the key the store's check token was made with."""
    if not record.check:
        return False
    try:
        return box.decrypt(record.check).reveal() == CHECK_PLAINTEXT
    except Exception:  # noqa: BLE001 - any failure to open it means "not this key"
        return False


def adopt_or_verify(session: Session, box: SecretBox, store_shown: str) -> StoreKey:
    """Adopt `box`'s key for a fresh store, or make sure it is the store's key."""
    from sqlalchemy import update

    from jumpdeck.core.store.models import SettingsRow

    record = read_store_key(session)
    if record.key_id is None:
        adopted = StoreKey(box.key_id, box.encrypt(CHECK_PLAINTEXT))
        # Only where no key was adopted yet: of two hosts adopting at once, one wins and
        # the other verifies against the winner's key (PostgreSQL re-reads the row after
        # waiting for the winner's lock).
        won = session.execute(update(SettingsRow).where(SettingsRow.id == 1, SettingsRow.key_id.is_(None))
                              .values(key_id=adopted.key_id, key_check=adopted.check)).rowcount
        if won:
            return adopted
        session.expire_all()
        record = read_store_key(session)
    if not opens(box, record):
        raise key_mismatch(store_shown, record, box)
    return record


def key_mismatch(store_shown: str, record: StoreKey, box: SecretBox | None) -> ConfigError:
    mine = f"this host's key ({box.source}) is {box.key_id}" if box else "this host has no key for it yet"
    return ConfigError(f"The store {store_shown} is encrypted with the key {record.key_id}, and {mine}; "
                       "jumpdeck stopped before writing anything.", remedy=KEY_HOWTO)


def store_needs_a_key_here(record: StoreKey, key_file_exists: bool, env: dict[str, str]) -> bool:
    """A store that has a key, on a host with neither a key file nor JUMPDECK_KEY: making a
    new key here would only produce a key that opens nothing."""
    return record.key_id is not None and not key_file_exists and not env.get(KEY_ENV)


@dataclass(frozen=True)
class KeyStatus:
    store_shown: str
    store_key_id: str | None  # None: the store has not adopted a key yet
    host_key_id: str | None  # None: this host has no key yet
    host_source: str | None
    matches: bool


def _host_box(config) -> SecretBox | None:  # noqa: ANN001 - Config
    import os

    from jumpdeck.core.secrets import load_secret_box

    pending = config.key_path.with_name(config.key_path.name + ".new")
    if not os.environ.get(KEY_ENV) and not config.key_path.exists() and not pending.exists():
        return None
    box = load_secret_box(config.key_path)
    box.check_usable()
    return box


async def key_status(config) -> KeyStatus:  # noqa: ANN001 - Config
    """The store's key and this host's, without adopting or writing anything."""
    import asyncio

    from jumpdeck.core.store.engine import open_store

    store = await asyncio.to_thread(open_store, sqlite_path=config.store_path, store_url=config.store_url,
                                    connect_timeout=config.store_connect_timeout)
    try:
        record = await store.run(read_store_key)
        box = _host_box(config)
        matches = box is not None and (record.key_id is None or opens(box, record))
        return KeyStatus(store.url_display, record.key_id, box.key_id if box else None,
                         box.source if box else None, matches)
    finally:
        store.close()


async def import_key(config, text: str) -> str:  # noqa: ANN001 - Config
    """Make `text` this host's key file (0600), once it is known to open the store's
    check token. Returns the key's fingerprint. Nothing is written on a refusal."""
    import asyncio
    import os

    from jumpdeck.core.secrets import _write_private
    from jumpdeck.core.store.engine import open_store

    if os.environ.get(KEY_ENV):
        raise ConfigError(f"{KEY_ENV} is set, so this host does not read its key file.",
                          remedy=f"Unset {KEY_ENV} to use the imported key, or set {KEY_ENV} to it instead.")
    key = text.strip().encode("ascii", errors="replace")
    box = SecretBox([key], source="the key given to import")
    box.check_usable()
    store = await asyncio.to_thread(open_store, sqlite_path=config.store_path, store_url=config.store_url,
                                    connect_timeout=config.store_connect_timeout)
    try:
        record = await store.run(read_store_key)
        if record.key_id is not None and not opens(box, record):
            raise ConfigError(f"That key ({box.key_id}) is not the key of the store {store.url_display} "
                              f"({record.key_id}); nothing was changed.",
                              remedy="Export the key on a host whose `jumpdeck key show` says it matches.")
    finally:
        store.close()
    path = config.key_path
    if path.exists() and path.read_bytes().strip() != key:
        # The key it replaces may still open something (a local store, an old backup).
        from datetime import datetime, timezone

        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        _write_private(path.with_name(f"{path.name}.replaced-{stamp}"), path.read_bytes())
    _write_private(path, key + b"\n")
    return box.key_id


def export_key(box: SecretBox, destination) -> None:  # noqa: ANN001 - Path
    """Write this host's key (already verified as the store's) to a new 0600 file."""
    from jumpdeck.core.secrets import _write_private

    if destination.exists():
        raise ConfigError(f"{destination} exists; jumpdeck does not overwrite it with a key.",
                          remedy="Name a new file.")
    _write_private(destination, box.keys[0] + b"\n")
