"""Who is acting, and what they may do.

An actor is (user, role, status, origin). Services call `require(actor, Operation.X)`
before any effect; the faces only mirror the answer (a disabled key with its reason).
The matrix is seed 000 §1.3, extended for provisioning, backups and administration.
"""

from __future__ import annotations

import enum
import socket
from dataclasses import dataclass

from jumpdeck.core.errors import PermissionDenied


def this_host() -> str:
    """The jump host's name, as the activity log and run leases name it."""
    return socket.gethostname()


def local_origin() -> str:
    """Where a local action comes from: `local@<host>`, so a log shared by several jump
    hosts tells them apart."""
    return f"local@{this_host()}"


def ssh_origin(address: str) -> str:
    """A serve-ssh session's: `ssh:<client address>@<host serving it>`."""
    return f"ssh:{address}@{this_host()}"


def is_local_origin(origin: str) -> bool:
    return origin == "local" or origin.startswith("local@")


class Role(str, enum.Enum):
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


class UserStatus(str, enum.Enum):
    PENDING = "pending"
    ACTIVE = "active"
    DISABLED = "disabled"


class Operation(str, enum.Enum):
    VIEW = "view"  # every screen's read-only data
    TEST_CONNECTION = "test_connection"
    MANAGE_SERVERS = "manage_servers"  # server create / edit / delete
    CREATE_DATABASE = "create_database"
    PROVISION = "provision"  # start, cancel, tear down runs
    RUN_BACKUP = "run_backup"  # backups, watcher, integrity, checkpoint
    RESTORE = "restore"
    ARCHIVE_ROLLOVER = "archive_rollover"
    MANAGE_POOL = "manage_pool"
    MANAGE_USERS = "manage_users"
    EDIT_SETTINGS = "edit_settings"
    ROTATE_KEY = "rotate_key"
    VIEW_ALL_RESOURCES = "view_all_resources"
    MANAGE_SESSIONS = "manage_sessions"


_ALL = frozenset(Role)
_STAFF = frozenset({Role.ADMIN, Role.OPERATOR})
_ADMIN = frozenset({Role.ADMIN})

PERMISSIONS: dict[Operation, frozenset[Role]] = {
    Operation.VIEW: _ALL,
    Operation.TEST_CONNECTION: _ALL,
    Operation.MANAGE_SERVERS: _ADMIN,
    Operation.CREATE_DATABASE: _STAFF,
    Operation.PROVISION: _STAFF,
    Operation.RUN_BACKUP: _STAFF,
    Operation.RESTORE: _ADMIN,
    Operation.ARCHIVE_ROLLOVER: _ADMIN,
    Operation.MANAGE_POOL: _ADMIN,
    Operation.MANAGE_USERS: _ADMIN,
    Operation.EDIT_SETTINGS: _ADMIN,
    Operation.ROTATE_KEY: _ADMIN,
    Operation.VIEW_ALL_RESOURCES: _ADMIN,
    Operation.MANAGE_SESSIONS: _ADMIN,
}

# Words for the refusal sentence: "Only an admin can <phrase>."
_PHRASES: dict[Operation, str] = {
    Operation.VIEW: "view jumpdeck",
    Operation.TEST_CONNECTION: "test connections",
    Operation.MANAGE_SERVERS: "add, edit or delete servers",
    Operation.CREATE_DATABASE: "create databases",
    Operation.PROVISION: "start, cancel or tear down provisioning runs",
    Operation.RUN_BACKUP: "run backups and maintenance",
    Operation.RESTORE: "restore a backup",
    Operation.ARCHIVE_ROLLOVER: "run the archive rollover",
    Operation.MANAGE_POOL: "change the VM pool",
    Operation.MANAGE_USERS: "manage users",
    Operation.EDIT_SETTINGS: "change settings",
    Operation.ROTATE_KEY: "rotate the encryption key",
    Operation.VIEW_ALL_RESOURCES: "see every operator's resources",
    Operation.MANAGE_SESSIONS: "manage SSH sessions",
}


@dataclass(frozen=True)
class Actor:
    """The identity behind an action. `origin` is "local@<host>" or "ssh:<address>@<host>"
    (just "local" for an actor made up in code, as tests do)."""

    user: str
    role: Role
    status: UserStatus = UserStatus.ACTIVE
    origin: str = "local"

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN and self.status is UserStatus.ACTIVE

    def label(self) -> str:
        return f"{self.user} ({self.role.value})"


def denial(actor: Actor, operation: Operation) -> str | None:
    """The sentence explaining why `actor` may not do `operation`, or None if allowed."""
    if actor.status is UserStatus.PENDING:
        return (
            f"The account '{actor.user}' is waiting for an administrator's approval. "
            f"Ask an admin to run: jumpdeck users activate {actor.user}"
        )
    if actor.status is UserStatus.DISABLED:
        return f"The account '{actor.user}' is disabled. Ask an admin to re-activate it."
    allowed = PERMISSIONS[operation]
    if actor.role in allowed:
        return None
    who = "an admin" if allowed == _ADMIN else "an admin or an operator"
    return f"Only {who} can {_PHRASES[operation]}; you are signed in as {actor.user} ({actor.role.value})."


def can(actor: Actor, operation: Operation) -> bool:
    return denial(actor, operation) is None


def require(actor: Actor, operation: Operation) -> None:
    """Raise `PermissionDenied` with a human sentence unless the actor may do it."""
    reason = denial(actor, operation)
    if reason is not None:
        raise PermissionDenied(reason)
