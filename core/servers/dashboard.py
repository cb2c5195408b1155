"""A server's dashboard (seed 000 §8, §12): its databases, live from the engine, the
corp DBs registered on it with their warning and error counts, and "create corp DB".

Creating a corp DB runs CREATE DATABASE on the server (PostgreSQL, MySQL) and records
the corp with its audit row; the identifier is validated first and always quoted.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from jumpdeck.core import activity
from jumpdeck.core.errors import Conflict, JumpdeckError, NotFound, ValidationError
from jumpdeck.core.identity import Actor, Operation, require
from jumpdeck.core.secrets import TokenError
from jumpdeck.core.servers.drivers import DatabaseInfo, DriverError, ErrorKind, load_driver
from jumpdeck.core.text_checks import storable_text

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from jumpdeck.core.servers.checks import CheckEngine
    from jumpdeck.core.servers.registry import ServerInfo, ServerRegistry
    from jumpdeck.core.servers.values import Credentials

log = logging.getLogger("jumpdeck.dashboard")

# Portable across PostgreSQL (63 bytes) and MySQL (64): a letter, then letters, digits, _.
DB_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")
CORP_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,49}")
CORP_STATUSES = ("ok", "warning", "error")


class ServerError(JumpdeckError):
    """The server refused or did not answer; `kind` says why, the remedy is seed §6.4's."""

    title = "Server error"

    def __init__(self, message: str, *, kind: ErrorKind, remedy: str | None = None) -> None:
        super().__init__(message, remedy=remedy)
        self.kind = kind

    @classmethod
    def from_driver(cls, server: str, error: DriverError) -> ServerError:
        return cls(f"{server}: {error.message}", kind=error.kind, remedy=error.hint)


@dataclass(frozen=True)
class CorpInfo:
    id: int
    server_id: int
    code: str
    name: str
    db_name: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class CorpSummary:
    total: int
    warnings: int
    errors: int


def summarize_corps(corps: list[CorpInfo]) -> CorpSummary:
    return CorpSummary(len(corps), sum(c.status == "warning" for c in corps), sum(c.status == "error" for c in corps))


def validate_db_name(db_name: str) -> str:
    name = (db_name or "").strip()
    if not DB_NAME_RE.fullmatch(name):
        raise ValidationError(
            f"'{name[:70]}' is not a database name jumpdeck will create.", field="db_name",
            remedy="Use a letter, then up to 62 letters, digits or underscores.",
        )
    return name


def _to_corp(row) -> CorpInfo:  # noqa: ANN001
    return CorpInfo(row.id, row.server_id, row.code, row.name, row.db_name, row.status, row.created_at)


class DashboardService:
    def __init__(self, registry: ServerRegistry, engine: CheckEngine) -> None:
        self.registry = registry
        self.engine = engine

    async def _credentials(self, actor: Actor, server_id: int) -> Credentials:
        """The server's connection details; a password this host cannot decrypt is a
        ServerError of kind `secret`, shown like any other reason the server cannot answer."""
        try:
            return await self.registry.credentials(actor, server_id)
        except TokenError as error:
            raise ServerError(error.message, kind=ErrorKind.SECRET, remedy=error.remedy) from None

    async def corps(self, actor: Actor, server_id: int) -> list[CorpInfo]:
        require(actor, Operation.VIEW)
        from sqlalchemy import select

        from jumpdeck.core.store.models import CorpRow, ServerRow

        def query(session: Session) -> list[CorpInfo]:
            if session.get(ServerRow, server_id) is None:
                raise NotFound(f"Server #{server_id} does not exist (it may have been deleted).", remedy="Reload the list.")
            rows = session.scalars(select(CorpRow).where(CorpRow.server_id == server_id).order_by(CorpRow.code))
            return [_to_corp(r) for r in rows]

        return await self.registry.store.run(query)

    async def databases(self, actor: Actor, server_id: int, *, timeout: float | None = None) -> list[DatabaseInfo]:
        """The databases on the server, live. Raises `ServerError` when it cannot say."""
        info = await self.registry.get(actor, server_id)
        creds = await self._credentials(actor, server_id)
        if not load_driver(info.db_type).LISTS_DATABASES:
            raise ServerError(f"Listing databases on {info.db_type.label} is not supported yet.", kind=ErrorKind.OTHER)
        try:
            return await self.engine.call(creds, "list_databases", timeout=timeout)
        except DriverError as error:
            raise ServerError.from_driver(info.name, error) from None

    def can_create(self, info: ServerInfo) -> str | None:
        """Why "create corp DB" is not offered on this server, or None."""
        if not load_driver(info.db_type).CREATES_DATABASES:
            return f"Creating databases on {info.db_type.label} is not supported yet (PostgreSQL and MySQL are)."
        return None

    async def create_corp_db(self, actor: Actor, server_id: int, *, code: str, name: str, db_name: str,
                             timeout: float | None = None) -> CorpInfo:
        """CREATE DATABASE on the server, then record the corp (and its audit row)."""
        require(actor, Operation.CREATE_DATABASE)
        code = (code or "").strip()
        if not CORP_CODE_RE.fullmatch(code):
            raise ValidationError(f"'{code[:60]}' is not a corp code.", field="code",
                                  remedy="Use up to 50 letters, digits, - or _.")
        name = storable_text((name or "").strip(), label="corp name", field="name")
        if not name or len(name) > 200:
            raise ValidationError("The corp name is required (up to 200 characters).", field="name")
        db_name = validate_db_name(db_name)
        info = await self.registry.get(actor, server_id)
        reason = self.can_create(info)
        if reason:
            raise ValidationError(reason, field="server")
        existing = await self.corps(actor, server_id)
        if any(c.code.casefold() == code.casefold() for c in existing):
            raise Conflict(f"Corp '{code}' is already registered on {info.name}.")
        if any(c.db_name.casefold() == db_name.casefold() for c in existing):
            raise Conflict(f"Database '{db_name}' is already a corp DB on {info.name}.")
        creds = await self._credentials(actor, server_id)
        try:
            await self.engine.call(creds, "create_database", db_name, timeout=timeout)
        except DriverError as error:
            raise ServerError.from_driver(info.name, error) from None

        from sqlalchemy import func, select

        from jumpdeck.core.servers.registry import SERVERS_LOCK
        from jumpdeck.core.store.locks import write_lock
        from jumpdeck.core.store.models import CorpRow, ServerRow

        def record(session: Session) -> CorpInfo:
            # The code was free when checked above, before the database was created; another
            # process may have recorded it since. Checked again, under the lock, before writing.
            write_lock(session, SERVERS_LOCK)
            if session.get(ServerRow, server_id) is None:
                raise NotFound(f"Server {info.name} was deleted while the database {db_name} was being created on it.",
                               remedy="Register the server again to record the corp, or drop the database on it.")
            taken = session.scalar(select(CorpRow.id).where(CorpRow.server_id == server_id,
                                                            func.lower(CorpRow.code) == code.lower()))
            if taken is not None:
                raise Conflict(f"Corp '{code}' was registered on {info.name} by someone else a moment ago; "
                               f"the database {db_name} was created but is not recorded as a corp DB.",
                               remedy="Drop that database on the server if nobody needs it.")
            row = CorpRow(server_id=server_id, code=code, name=name, db_name=db_name, status="ok")
            session.add(row)
            session.flush()
            activity.record(session, actor, "CREATE_DB", "CORP", row.id, f"{db_name} on {info.name} for corp {code} ({name})")
            return _to_corp(row)

        try:
            return await self.registry.store.run(record)
        except Exception:
            log.exception("database %s was created on %s but the corp could not be recorded", db_name, info.name)
            raise

    async def remove_corp(self, actor: Actor, server_id: int, code: str, *, drop: bool = False,
                          timeout: float | None = None) -> CorpInfo:
        """Take a corp off the server's list: detach it (the record goes, the database
        stays on the server) or, with `drop`, DROP its database first. Either way the
        server can be deleted once no corp is left on it."""
        require(actor, Operation.CREATE_DATABASE)
        info = await self.registry.get(actor, server_id)
        corp = next((c for c in await self.corps(actor, server_id) if c.code.casefold() == (code or "").strip().casefold()), None)
        if corp is None:
            raise NotFound(f"There is no corp '{(code or '').strip()[:60]}' on {info.name}.",
                           remedy=f"See its corps with: jumpdeck servers corps {info.name}")
        if drop:
            if not load_driver(info.db_type).CREATES_DATABASES:
                raise ValidationError(f"Dropping databases on {info.db_type.label} is not supported yet; detach the corp "
                                      "instead and drop the database on the server.", field="server")
            creds = await self._credentials(actor, server_id)
            try:
                await self.engine.call(creds, "drop_database", corp.db_name, timeout=timeout)
            except DriverError as error:
                raise ServerError.from_driver(info.name, error) from None

        from jumpdeck.core.servers.registry import SERVERS_LOCK
        from jumpdeck.core.store.locks import write_lock
        from jumpdeck.core.store.models import CorpRow

        def forget(session: Session) -> CorpInfo:
            write_lock(session, SERVERS_LOCK)
            row = session.get(CorpRow, corp.id)
            if row is None:  # another process removed it meanwhile: the outcome is the same
                return corp
            session.delete(row)
            action, what = ("DROP_DB", "dropped") if drop else ("DETACH_DB", "detached (the database stays on the server)")
            activity.record(session, actor, action, "CORP", corp.id, f"{corp.db_name} on {info.name}, corp {corp.code}: {what}")
            return corp

        return await self.registry.store.run(forget)
