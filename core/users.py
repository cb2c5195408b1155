"""Users, roles and SSH keys.

Locally the user is the OS user. The first user of a fresh store becomes an active
admin; anyone after that starts as a pending viewer until an admin activates them
(seed 004's approval). serve-ssh maps a public key to its user by fingerprint.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from jumpdeck.core import activity
from jumpdeck.core.errors import Conflict, NotFound, ValidationError
from jumpdeck.core.identity import Actor, Operation, Role, UserStatus, require
from jumpdeck.core.text_checks import storable_text

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from jumpdeck.core.store.engine import Store

USER_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,99}$")
# Every write whose rule reads the users first (a free name, a free key, the first or
# the last admin) takes this lock in its transaction (core/store/locks.py).
USERS_LOCK = "users"
KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
             "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")


@dataclass(frozen=True)
class UserKey:
    fingerprint: str
    comment: str
    added_at: datetime


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    status: UserStatus
    created_at: datetime
    keys: tuple[UserKey, ...]


@dataclass(frozen=True)
class PublicKey:
    """One parsed OpenSSH public key line."""

    key_type: str
    blob: str
    comment: str

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256(base64.b64decode(self.blob)).digest()
        return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")

    @property
    def line(self) -> str:
        return f"{self.key_type} {self.blob}"


def parse_public_key(text: str, *, source: str = "the key") -> PublicKey:
    """Parse `type base64 [comment]`, as in id_ed25519.pub or an authorized_keys line
    without options. Raises ValidationError with a sentence otherwise."""
    parts = storable_text(text, label="public key", field="key").strip().split(None, 2)
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise ValidationError(
            f"{source} is not an OpenSSH public key.",
            field="key",
            remedy="Give the .pub file (it starts with ssh-ed25519, ssh-rsa or ecdsa-sha2-…), not the private key.",
        )
    try:
        raw = base64.b64decode(parts[1], validate=True)
    except (ValueError, base64.binascii.Error):
        raise ValidationError(f"{source} has a damaged key body (not base64).", field="key") from None
    # The blob starts with its own type name; a mismatch means a pasted fragment.
    if len(raw) < 4 or raw[4 : 4 + int.from_bytes(raw[:4], "big")].decode("ascii", "replace") != parts[0]:
        raise ValidationError(f"{source} has a damaged key body (type does not match).", field="key")
    return PublicKey(parts[0], parts[1], parts[2].strip() if len(parts) > 2 else "")


def read_public_key_file(path_text: str) -> PublicKey:
    """The first line of a .pub file, parsed; ValidationError for a missing, unreadable,
    binary or foreign file. The users CLI and the user form both read keys this way."""
    from pathlib import Path

    if not path_text.strip():
        raise ValidationError("Give the path of a public key file (for example ~/.ssh/id_ed25519.pub).", field="key")
    path = Path(storable_text(path_text.strip(), label="key file's path", field="key")).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"Cannot read the key file {path}: {exc.strerror}.", field="key") from None
    except UnicodeDecodeError:
        raise ValidationError(f"The key file {path} is not text, so not a public key.", field="key",
                              remedy="Give the .pub file, not the private key or another binary.") from None
    return parse_public_key(text.strip().splitlines()[0] if text.strip() else "", source=f"The file {path}")


def validate_user_name(name: str) -> str:
    name = name.strip()
    if not USER_NAME_RE.match(name):
        raise ValidationError(
            f"'{name}' is not a valid user name.",
            field="name",
            remedy="Use letters, digits and . _ @ - (at most 100 characters), starting with a letter, digit or _.",
        )
    return name


def _to_user(row) -> User:  # noqa: ANN001
    keys = tuple(UserKey(k.fingerprint, k.comment, k.added_at) for k in row.keys)
    return User(row.id, row.name, Role(row.role), UserStatus(row.status), row.created_at, keys)


def _get_row(session: Session, name: str):  # noqa: ANN202
    from sqlalchemy import select

    from jumpdeck.core.store.models import UserRow

    row = session.scalar(select(UserRow).where(UserRow.name == name))
    if row is None:
        raise NotFound(f"There is no user named '{name}'.", remedy="`jumpdeck users ls` lists them.")
    return row


class UserService:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def resolve_local(self, name: str, origin: str = "local") -> Actor:
        """The actor for an OS (or mapped SSH) user, registering a newcomer.

        The first user of an empty store becomes admin: somebody has to be able to
        activate the others, and on a fresh install that is whoever set it up."""
        from sqlalchemy import func, select

        from jumpdeck.core.store.locks import write_lock
        from jumpdeck.core.store.models import UserRow

        def resolve(session: Session) -> Actor:
            row = session.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                # Two first logins of one name (two sessions, two hosts) at once: the lock
                # makes the second read the first's row instead of inserting it again, and
                # two newcomers on an empty store cannot both become its first admin.
                write_lock(session, USERS_LOCK)
                row = session.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                first = session.scalar(select(func.count()).select_from(UserRow)) == 0
                row = UserRow(
                    name=name,
                    role=(Role.ADMIN if first else Role.VIEWER).value,
                    status=(UserStatus.ACTIVE if first else UserStatus.PENDING).value,
                )
                session.add(row)
                session.flush()
                actor = Actor(name, Role(row.role), UserStatus(row.status), origin)
                activity.record(session, actor, "REGISTER", "USER", name,
                                "first user of this store: admin" if first else "pending approval as viewer")
                return actor
            return Actor(row.name, Role(row.role), UserStatus(row.status), origin)

        return await self.store.run(resolve)

    async def current(self, actor: Actor) -> Actor:
        """`actor` as the store has them now: a changed role, a disabled account. A user
        deleted meanwhile comes back disabled (they may do nothing)."""
        from sqlalchemy import select

        from jumpdeck.core.store.models import UserRow

        def read(session: Session) -> Actor:
            row = session.scalar(select(UserRow).where(UserRow.name == actor.user))
            if row is None:
                return Actor(actor.user, actor.role, UserStatus.DISABLED, actor.origin)
            return Actor(row.name, Role(row.role), UserStatus(row.status), actor.origin)

        return await self.store.run(read)

    async def list(self, actor: Actor) -> list[User]:
        require(actor, Operation.VIEW)
        from sqlalchemy import select
        from sqlalchemy.orm import selectinload

        from jumpdeck.core.store.models import UserRow

        def query(session: Session) -> list[User]:
            rows = session.scalars(select(UserRow).options(selectinload(UserRow.keys)).order_by(UserRow.name))
            return [_to_user(r) for r in rows]

        return await self.store.run(query)

    async def add(self, actor: Actor, name: str, role: Role, keys: list[PublicKey] = ()) -> User:
        """An admin adds a user: active at once, since an admin vouches for them."""
        require(actor, Operation.MANAGE_USERS)
        name = validate_user_name(name)
        from sqlalchemy import select

        from jumpdeck.core.store.locks import write_lock
        from jumpdeck.core.store.models import UserRow

        def add(session: Session) -> User:
            write_lock(session, USERS_LOCK)  # the name and the keys' fingerprints are checked, then written
            if session.scalar(select(UserRow).where(UserRow.name == name)) is not None:
                raise Conflict(f"A user named '{name}' already exists.", remedy="Choose another name, or use `users set-role`.")
            row = UserRow(name=name, role=role.value, status=UserStatus.ACTIVE.value)
            session.add(row)
            session.flush()
            for key in keys:
                self._add_key_row(session, row, key)
            activity.record(session, actor, "CREATE", "USER", name, f"role {role.value}, {len(keys)} key(s)")
            session.flush()
            session.refresh(row)
            return _to_user(row)

        return await self.store.run(add)

    @staticmethod
    def _add_key_row(session: Session, row, key: PublicKey) -> None:  # noqa: ANN001
        from sqlalchemy import select

        from jumpdeck.core.store.models import UserKeyRow

        existing = session.scalar(select(UserKeyRow).where(UserKeyRow.fingerprint == key.fingerprint))
        if existing is not None:
            owner = existing.user.name
            raise Conflict(f"The key {key.fingerprint} already belongs to '{owner}'.",
                           remedy="One key maps to one user; give each operator their own key.")
        session.add(UserKeyRow(user_id=row.id, fingerprint=key.fingerprint, public_key=key.line, comment=key.comment))

    async def add_key(self, actor: Actor, name: str, key: PublicKey) -> User:
        require(actor, Operation.MANAGE_USERS)

        from jumpdeck.core.store.locks import write_lock

        def add_key(session: Session) -> User:
            write_lock(session, USERS_LOCK)  # the fingerprint is checked, then written
            row = _get_row(session, name)
            self._add_key_row(session, row, key)
            activity.record(session, actor, "ADD_KEY", "USER", name, key.fingerprint)
            session.flush()
            session.refresh(row)
            return _to_user(row)

        return await self.store.run(add_key)

    async def remove_key(self, actor: Actor, name: str, fingerprint: str) -> User:
        require(actor, Operation.MANAGE_USERS)

        def remove_key(session: Session) -> User:
            row = _get_row(session, name)
            match = [k for k in row.keys if k.fingerprint == fingerprint]
            if not match:
                raise NotFound(f"'{name}' has no key {fingerprint}.")
            row.keys.remove(match[0])
            activity.record(session, actor, "REMOVE_KEY", "USER", name, fingerprint)
            session.flush()
            return _to_user(row)

        return await self.store.run(remove_key)

    async def _change(self, actor: Actor, name: str, *, role: Role | None = None, status: UserStatus | None = None) -> User:
        require(actor, Operation.MANAGE_USERS)
        from sqlalchemy import func, select

        from jumpdeck.core.store.locks import write_lock
        from jumpdeck.core.store.models import UserRow

        def change(session: Session) -> User:
            # Two admins demoting each other at once must not both see the other remain.
            write_lock(session, USERS_LOCK)
            row = _get_row(session, name)
            old_role, old_status = row.role, row.status
            new_role = role.value if role else row.role
            new_status = status.value if status else row.status
            # Never leave a store without an active admin: nobody could undo it.
            if old_role == Role.ADMIN.value and old_status == UserStatus.ACTIVE.value and (
                new_role != Role.ADMIN.value or new_status != UserStatus.ACTIVE.value
            ):
                admins = session.scalar(
                    select(func.count()).select_from(UserRow).where(
                        UserRow.role == Role.ADMIN.value, UserRow.status == UserStatus.ACTIVE.value
                    )
                )
                if admins <= 1:
                    raise Conflict(f"'{name}' is the last active admin.",
                                   remedy="Make another user an admin first, so someone can still manage jumpdeck.")
            row.role, row.status = new_role, new_status
            what = []
            if new_role != old_role:
                what.append(f"role {old_role} -> {new_role}")
            if new_status != old_status:
                what.append(f"status {old_status} -> {new_status}")
            activity.record(session, actor, "UPDATE", "USER", name, ", ".join(what) or "no change")
            session.flush()
            return _to_user(row)

        return await self.store.run(change)

    async def activate(self, actor: Actor, name: str) -> User:
        return await self._change(actor, name, status=UserStatus.ACTIVE)

    async def disable(self, actor: Actor, name: str) -> User:
        return await self._change(actor, name, status=UserStatus.DISABLED)

    async def set_role(self, actor: Actor, name: str, role: Role) -> User:
        return await self._change(actor, name, role=role)

    async def find_by_fingerprint(self, fingerprint: str) -> User | None:
        """For serve-ssh's key check: the user owning a key, whatever their status."""
        from sqlalchemy import select

        from jumpdeck.core.store.models import UserKeyRow

        def find(session: Session) -> User | None:
            key = session.scalar(select(UserKeyRow).where(UserKeyRow.fingerprint == fingerprint))
            return _to_user(key.user) if key else None

        return await self.store.run(find)
