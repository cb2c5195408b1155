"""The fleet's value types: what a server is, how to reach it, what to check.

They sit below everything else in core/servers: the registry makes them from the store,
the drivers connect with them, the check engine checks them, and the serve-ssh wire
carries them. Keeping them here, apart from the code that uses them, is what lets
those modules import one another in one direction only.
"""

from __future__ import annotations

import enum
import shlex
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from jumpdeck.core.secrets import Secret, TokenError

# What mends a server whose password this host cannot decrypt. Here, below both the
# registry (which meets the bad token) and the drivers' hints (which name every kind).
SECRET_REMEDY = ("This server's password was stored under another key: bring this store's key to this host "
                 "(see README, Secrets) or re-enter the password with `jumpdeck servers edit {name} --password-stdin`.")

# Said of an online check that logged in without the server asking for a password: an
# operator should know when an account (or a whole pg_hba line) lets anyone in. Here, in
# the leaf, so that every face can say it without importing the check engine.
PASSWORD_UNASKED = "the server did not ask for a password"


def unreadable_password(name: str, source: str) -> TokenError:
    """One server's password that the key from `source` cannot open. The sentence names
    where the key came from and the command that mends it, never the token or the key."""
    # The cause comes first: a card has room for a few words of it.
    return TokenError(f"Encrypted under another key: the key from {source} cannot decrypt the stored password.",
                      remedy=SECRET_REMEDY.format(name=shlex.quote(name)))


class DbType(str, enum.Enum):
    POSTGRESQL = "postgresql"
    MYSQL = "mysql"
    MSSQL = "mssql"
    ORACLE = "oracle"

    @property
    def label(self) -> str:
        return {"postgresql": "PostgreSQL", "mysql": "MySQL", "mssql": "MSSQL", "oracle": "Oracle"}[self.value]


@dataclass(frozen=True)
class ServerInfo:
    """A registered server as every face sees it: no password, only whether one is set."""

    id: int
    name: str
    db_type: DbType
    host: str
    port: int
    username: str
    default_db: str
    description: str
    tags: tuple[str, ...]
    group: str
    is_active: bool
    has_password: bool
    data_path: str | None
    log_path: str | None
    created_at: datetime
    updated_at: datetime
    corp_count: int = 0
    corp_warnings: int = 0
    corp_errors: int = 0
    # Registered as logging in without a password (a trust account, an empty root
    # password): set on purpose, never inferred from `has_password`.
    no_password: bool = False

    def as_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(db_type=self.db_type.value, tags=list(self.tags), created_at=self.created_at.isoformat(),
                    updated_at=self.updated_at.isoformat())
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServerInfo:
        """The inverse of `as_json` (the fleet as the serve-ssh server listed it for a session)."""
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        values.update(db_type=DbType(data["db_type"]), tags=tuple(data["tags"]),
                      created_at=datetime.fromisoformat(data["created_at"]),
                      updated_at=datetime.fromisoformat(data["updated_at"]))
        return cls(**values)


@dataclass(frozen=True)
class Credentials:
    """Everything a driver needs to connect; lives only for the length of a check."""

    db_type: DbType
    host: str
    port: int
    username: str
    password: Secret
    database: str
    no_password: bool = False  # the account is registered as having none (the blank password is meant)


@dataclass(frozen=True)
class CheckTarget:
    """What to check: connection details plus who they belong to (none for an unsaved spec).

    `unreadable` is set when the stored password could not be decrypted here: the
    credentials then hold a blank password and the engine reports the error as this
    server's result without connecting, so one bad token never stops a round."""

    credentials: Credentials
    server_id: int | None = None
    name: str = ""
    unreadable: TokenError | None = None
