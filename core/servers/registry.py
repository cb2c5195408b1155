"""The server registry (seed 000 §3-§5): list, get, create, update, delete.

Rules: required fields; the DB type sets the default port and DB; names unique
(trimmed, case-insensitive); port 1-65535; a blank password on update keeps the stored
one; an account without a password is registered as such (`no_password`), never by
leaving the password blank; a server with corp DBs cannot be deleted;
create/update/delete are admin-only and audited. Passwords are encrypted before they reach the store and never appear in a
`ServerInfo`, only in the `Secret` that `credentials()` hands to a driver.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Iterable

from jumpdeck.core import activity
from jumpdeck.core.errors import Conflict, NotFound, ValidationError
from jumpdeck.core.identity import Actor, Operation, require
from jumpdeck.core.secrets import Secret, TokenError
from jumpdeck.core.text_checks import storable_text
# The value types live in their own leaf module; they are named here too because every
# face knows them as the registry's.
from jumpdeck.core.servers.values import CheckTarget, Credentials, DbType, ServerInfo, unreadable_password

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from jumpdeck.core.secrets import SecretBox
    from jumpdeck.core.store.engine import Store


@dataclass(frozen=True)
class TypeDefaults:
    port: int
    default_db: str
    db_required: bool = False  # Oracle: the default DB is the service name, required
    db_suggestion: str = ""


TYPE_DEFAULTS: dict[DbType, TypeDefaults] = {
    DbType.MSSQL: TypeDefaults(1433, "master"),
    DbType.POSTGRESQL: TypeDefaults(5432, "postgres"),
    DbType.MYSQL: TypeDefaults(3306, ""),
    DbType.ORACLE: TypeDefaults(1521, "", db_required=True, db_suggestion="ORCL"),
}

# Every write of a server row whose rule reads first takes this lock in its transaction
# (core/store/locks.py): a create or rename (the name is free), a delete (it has no corps,
# and no update is halfway), and recording a corp on it (core/servers/dashboard.py).
SERVERS_LOCK = "servers"
_HOST_RE = re.compile(r"^[A-Za-z0-9._:\-\[\]%]+$")
_TAG_RE = re.compile(r"^[\w.:\-]{1,40}$")


@dataclass(frozen=True)
class ServerSpec:
    """What an operator types to register or change a server. For an update, a blank
    `password` means "keep the stored one". `no_password` registers an account that logs
    in without one; it takes no password."""

    name: str
    db_type: str
    host: str
    username: str
    password: Secret = field(default_factory=lambda: Secret(""))
    port: int | str | None = None
    default_db: str | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    group: str = ""
    data_path: str | None = None
    log_path: str | None = None
    is_active: bool = True
    no_password: bool = False


# What an operator chooses for an account that has no password, in each face's words.
NO_PASSWORD_CHOICE = ("choose 'no password' in the form (--no-password for `jumpdeck servers`, "
                      "a no_password column in an import)")


def no_stored_password(name: str) -> ValidationError:
    """A blank password means "keep the stored one"; a no-password server has none to keep."""
    return ValidationError(f"Server '{name}' has no stored password to keep.", field="password",
                           remedy="Give its password, or keep the 'no password' choice.")


def name_key(name: str) -> str:
    return name.strip().casefold()


def _text(value: object, field_name: str, label: str, *, limit: int, control_ok: bool = False) -> str:
    """A stripped text field, or ValidationError: never an AttributeError on odd input.
    `control_ok` lets line breaks and tabs through (a description), never NUL."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationError(f"The {label} must be text.", field=field_name)
    text = storable_text(str(value).strip(), label=label, field=field_name)
    if len(text) > limit:
        raise ValidationError(f"The {label} is limited to {limit} characters.", field=field_name)
    allowed = "\n\r\t" if control_ok else ""
    if any((ord(c) < 32 or ord(c) == 127) and c not in allowed for c in text):
        raise ValidationError(f"The {label} cannot contain control characters.", field=field_name)
    return text


def _port(value: object, default: int) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValidationError(f"'{value}' is not a port number.", field="port", remedy="Use 1-65535.")
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):
        raise ValidationError(f"'{text[:20]}' is not a port number.", field="port", remedy="Use 1-65535.")
    port = int(text)
    if not 1 <= port <= 65535:
        raise ValidationError(f"Port {text[:20]} is out of range.", field="port", remedy="Use 1-65535.")
    return port


def _tags(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):  # one tag, or a comma-separated list from a form or a CSV cell
        value = value.split(",")
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise ValidationError("Tags must be a list of words.", field="tags")
    tags: list[str] = []
    for item in value:
        tag = _text(item, "tags", "tag", limit=1000)
        if not tag:
            continue
        if not _TAG_RE.fullmatch(tag):
            raise ValidationError(f"'{tag[:40]}' is not a valid tag.", field="tags",
                                  remedy="Tags are up to 40 letters, digits and . _ : -")
        if tag not in tags:
            tags.append(tag)
    return tuple(tags)


def validate(spec: ServerSpec, *, creating: bool) -> ServerSpec:
    """Normalise a spec or raise ValidationError naming the field. Never anything else,
    whatever the fields hold (a form, a CSV cell or a JSON value)."""
    name = _text(spec.name, "name", "server name", limit=100)
    if not name:
        raise ValidationError("The server name is required.", field="name")
    if len(name_key(name)) > 100:  # the folded form carries the unique index (ß folds to ss)
        raise ValidationError("The server name is limited to 100 characters.", field="name")
    raw_type = spec.db_type.value if isinstance(spec.db_type, DbType) else spec.db_type
    try:
        db_type = DbType(str(raw_type).strip().lower())
    except ValueError:
        raise ValidationError(
            f"'{str(raw_type)[:40]}' is not a supported DB type.", field="db_type",
            remedy="Choose postgresql, mysql, mssql or oracle.",
        ) from None
    defaults = TYPE_DEFAULTS[db_type]
    host = _text(spec.host, "host", "host", limit=200)
    if not host:
        raise ValidationError("The host is required.", field="host", remedy="Give an IP address or a DNS name.")
    if not _HOST_RE.fullmatch(host):
        raise ValidationError(f"'{host[:60]}' is not a valid host name or IP address.", field="host")
    port = _port(spec.port, defaults.port)
    username = _text(spec.username, "username", "login", limit=100)
    if not username:
        raise ValidationError("The login (user name) is required.", field="username")
    password = spec.password
    if password is None:
        password = Secret("")
    elif isinstance(password, str):
        password = Secret(password)
    elif not isinstance(password, Secret):
        raise ValidationError("The password must be text.", field="password")
    if len(password.reveal()) > 1000:
        raise ValidationError("The password is limited to 1000 characters.", field="password")
    storable_text(password.reveal(), label="password", field="password")  # a driver refuses NUL at every check
    if not isinstance(spec.no_password, bool):
        raise ValidationError("'no password' must be true or false.", field="no_password")
    if spec.no_password and password:
        raise ValidationError("A server registered without a password cannot also have one.", field="password",
                              remedy="Leave the password empty, or drop the 'no password' choice.")
    if creating and not password and not spec.no_password:
        raise ValidationError(
            "The password is required for a new server.", field="password",
            remedy=f"For an account that logs in without one (PostgreSQL trust, an empty MariaDB password), "
                   f"{NO_PASSWORD_CHOICE}.",
        )
    default_db = (defaults.default_db if spec.default_db is None
                  else _text(spec.default_db, "default_db", "default DB", limit=100))
    if defaults.db_required and not default_db:
        raise ValidationError(
            "Oracle needs a service name in the default DB field.", field="default_db",
            remedy=f"Most installations use {defaults.db_suggestion}.",
        )
    description = _text(spec.description, "description", "description", limit=2000, control_ok=True)
    group = _text(spec.group, "group", "group", limit=100)
    data_path = _text(spec.data_path, "data_path", "data path", limit=500) or None
    log_path = _text(spec.log_path, "log_path", "log path", limit=500) or None
    if not isinstance(spec.is_active, bool):
        raise ValidationError("'active' must be true or false.", field="is_active")
    return replace(spec, name=name, db_type=db_type.value, host=host, port=port, username=username,
                   password=password, default_db=default_db, tags=_tags(spec.tags), description=description,
                   group=group, data_path=data_path, log_path=log_path)


def spec_from_info(info: ServerInfo, **changes: Any) -> ServerSpec:
    """A spec holding a saved server's values, for an edit: the password is blank, which
    keeps the stored one. `changes` override fields."""
    spec = ServerSpec(name=info.name, db_type=info.db_type.value, host=info.host, username=info.username,
                      port=info.port, default_db=info.default_db, description=info.description, tags=info.tags,
                      group=info.group, data_path=info.data_path, log_path=info.log_path, is_active=info.is_active,
                      no_password=info.no_password)
    return replace(spec, **changes)


def _to_info(row, corp_counts: tuple[int, int, int] = (0, 0, 0)) -> ServerInfo:  # noqa: ANN001
    return ServerInfo(
        id=row.id, name=row.name, db_type=DbType(row.db_type), host=row.host, port=row.port,
        username=row.username, default_db=row.default_db, description=row.description,
        tags=tuple(row.tags or ()), group=row.group_name, is_active=row.is_active,
        has_password=bool(row.password_enc), data_path=row.data_path, log_path=row.log_path,
        created_at=row.created_at, updated_at=row.updated_at,
        corp_count=corp_counts[0], corp_warnings=corp_counts[1], corp_errors=corp_counts[2],
        no_password=bool(row.no_password),
    )


def _describe_changes(before: dict[str, Any], after: dict[str, Any]) -> str:
    parts = []
    for key, old in before.items():
        new = after[key]
        if old != new:
            # The password's value never enters the log, only the fact that it changed.
            if key == "password":
                parts.append("password removed" if not new else "password changed")
            else:
                parts.append(f"{key}: {old!r} -> {new!r}")
    return "; ".join(parts) or "no change"


def _snapshot(row) -> dict[str, Any]:  # noqa: ANN001
    return {"name": row.name, "db_type": row.db_type, "host": row.host, "port": row.port,
            "username": row.username, "default_db": row.default_db, "description": row.description,
            "tags": list(row.tags or ()), "group": row.group_name, "is_active": row.is_active,
            "password": row.password_enc, "no_password": bool(row.no_password)}


class ServerRegistry:
    def __init__(self, store: Store, secrets: SecretBox) -> None:
        self.store = store
        self.secrets = secrets

    async def list(self, actor: Actor, *, include_inactive: bool = True) -> list[ServerInfo]:
        """Fast: the store only, no connection checks (seed §10.2)."""
        require(actor, Operation.VIEW)
        from sqlalchemy import case, func, select

        from jumpdeck.core.store.models import CorpRow, ServerRow

        def query(session: Session) -> list[ServerInfo]:
            stmt = select(ServerRow).order_by(ServerRow.name_key)
            if not include_inactive:
                stmt = stmt.where(ServerRow.is_active.is_(True))
            counts = {
                sid: (total, warn or 0, err or 0)
                for sid, total, warn, err in session.execute(
                    select(
                        CorpRow.server_id,
                        func.count(),
                        func.sum(case((CorpRow.status == "warning", 1), else_=0)),
                        func.sum(case((CorpRow.status == "error", 1), else_=0)),
                    ).group_by(CorpRow.server_id)
                )
            }
            return [_to_info(row, counts.get(row.id, (0, 0, 0))) for row in session.scalars(stmt)]

        return await self.store.run(query)

    async def get(self, actor: Actor, server_id: int) -> ServerInfo:
        require(actor, Operation.VIEW)
        return await self.store.run(lambda s: self._info(s, server_id))

    async def get_by_name(self, actor: Actor, name: str) -> ServerInfo:
        require(actor, Operation.VIEW)
        from sqlalchemy import select

        from jumpdeck.core.store.models import ServerRow

        def query(session: Session) -> ServerInfo:
            row = session.scalar(select(ServerRow).where(ServerRow.name_key == name_key(name)))
            if row is None:
                raise NotFound(f"There is no server named '{name.strip()}'.", remedy="`jumpdeck servers ls` lists them.")
            return self._info(session, row.id)

        return await self.store.run(query)

    def _info(self, session: Session, server_id: int) -> ServerInfo:
        from sqlalchemy import select

        from jumpdeck.core.store.models import CorpRow, ServerRow

        row = session.get(ServerRow, server_id)
        if row is None:
            raise NotFound(f"Server #{server_id} does not exist (it may have been deleted).", remedy="Reload the list.")
        statuses = list(session.scalars(select(CorpRow.status).where(CorpRow.server_id == server_id)))
        return _to_info(row, (len(statuses), statuses.count("warning"), statuses.count("error")))

    async def credentials(self, actor: Actor, server_id: int) -> Credentials:
        """Decrypted connection details for a check. Anyone who may test may use them;
        the password goes to the driver and nowhere else."""
        require(actor, Operation.TEST_CONNECTION)
        from jumpdeck.core.store.models import ServerRow

        def load(session: Session) -> Credentials:
            row = session.get(ServerRow, server_id)
            if row is None:
                raise NotFound(f"Server #{server_id} does not exist (it may have been deleted).")
            return self._credentials(row)

        return await self.store.run(load)

    def _credentials(self, row) -> Credentials:  # noqa: ANN001
        """A row's connection details. A token this key cannot open raises the server's
        own TokenError (what mends it, for this server) instead of the key's generic one."""
        try:
            password = self.secrets.decrypt(row.password_enc) if row.password_enc else Secret("")
        except TokenError:
            raise unreadable_password(row.name, self.secrets.source) from None
        return Credentials(DbType(row.db_type), row.host, row.port, row.username, password, row.default_db,
                           no_password=bool(row.no_password))

    async def check_target(self, actor: Actor, server_id: int) -> CheckTarget:
        """One saved server to check, like a round's (`check_targets`)."""
        targets = await self.check_targets(actor, [server_id])
        if not targets:
            raise NotFound(f"Server #{server_id} does not exist (it may have been deleted).", remedy="Reload the list.")
        return targets[0]

    async def create(self, actor: Actor, spec: ServerSpec) -> ServerInfo:
        require(actor, Operation.MANAGE_SERVERS)
        spec = validate(spec, creating=True)
        # A no-password account keeps no token at all: nothing to decrypt, nothing to leak.
        token = "" if spec.no_password else self.secrets.encrypt(spec.password)
        from sqlalchemy import select

        from jumpdeck.core.store.models import ServerRow

        from jumpdeck.core.store.locks import write_lock

        def create(session: Session) -> ServerInfo:
            write_lock(session, SERVERS_LOCK)  # the name is checked, then written
            if session.scalar(select(ServerRow.id).where(ServerRow.name_key == name_key(spec.name))) is not None:
                raise Conflict(f"A server named '{spec.name}' already exists.", remedy="Names are unique; choose another.")
            row = ServerRow(
                name=spec.name, name_key=name_key(spec.name), db_type=spec.db_type, host=spec.host,
                port=spec.port, username=spec.username, password_enc=token, no_password=spec.no_password,
                default_db=spec.default_db, description=spec.description, tags=list(spec.tags), group_name=spec.group,
                data_path=spec.data_path, log_path=spec.log_path, is_active=spec.is_active,
            )
            session.add(row)
            session.flush()
            activity.record(session, actor, "CREATE", "SERVER", row.id,
                            f"{spec.name} ({spec.db_type} {spec.host}:{spec.port})"
                            + (", no password" if spec.no_password else ""))
            return _to_info(row)

        return await self.store.run(create)

    async def update(self, actor: Actor, server_id: int, spec: ServerSpec) -> ServerInfo:
        require(actor, Operation.MANAGE_SERVERS)
        spec = validate(spec, creating=False)
        token = self.secrets.encrypt(spec.password) if spec.password else None
        from sqlalchemy import select

        from jumpdeck.core.store.models import ServerRow

        from jumpdeck.core.store.locks import write_lock

        def update(session: Session) -> ServerInfo:
            write_lock(session, SERVERS_LOCK)  # the new name is checked, then written
            row = session.get(ServerRow, server_id)
            if row is None:
                raise NotFound(f"Server #{server_id} does not exist (it may have been deleted).", remedy="Reload the list.")
            clash = session.scalar(
                select(ServerRow.id).where(ServerRow.name_key == name_key(spec.name), ServerRow.id != server_id)
            )
            if clash is not None:
                raise Conflict(f"A server named '{spec.name}' already exists.", remedy="Names are unique; choose another.")
            before = _snapshot(row)
            row.name, row.name_key, row.db_type = spec.name, name_key(spec.name), spec.db_type
            row.host, row.port, row.username = spec.host, spec.port, spec.username
            row.default_db, row.description = spec.default_db, spec.description
            row.tags, row.group_name, row.is_active = list(spec.tags), spec.group, spec.is_active
            row.data_path, row.log_path = spec.data_path, spec.log_path
            if spec.no_password:
                row.password_enc, row.no_password = "", True
            elif token is not None:
                row.password_enc, row.no_password = token, False
            elif row.no_password:
                raise no_stored_password(row.name)
            # else: blank password, keep the stored one (seed §4.1)
            session.flush()
            activity.record(session, actor, "UPDATE", "SERVER", row.id, f"{row.name}: {_describe_changes(before, _snapshot(row))}")
            return self._info(session, row.id)

        return await self.store.run(update)

    async def delete(self, actor: Actor, server_id: int) -> None:
        require(actor, Operation.MANAGE_SERVERS)
        from sqlalchemy import func, select

        from jumpdeck.core.store.models import CorpRow, ServerRow

        from jumpdeck.core.store.locks import write_lock

        def delete(session: Session) -> None:
            write_lock(session, SERVERS_LOCK)  # no corp may be recorded between the count and the delete
            row = session.get(ServerRow, server_id)
            if row is None:
                raise NotFound(f"Server #{server_id} does not exist (it may have been deleted).", remedy="Reload the list.")
            corps = session.scalar(select(func.count()).select_from(CorpRow).where(CorpRow.server_id == server_id))
            if corps:
                raise Conflict(f"Server '{row.name}' has {corps} corp DB{'s' if corps != 1 else ''}.",
                               remedy=f"Detach or drop them first: `jumpdeck servers corps {row.name}` lists them, "
                                      f"`jumpdeck servers detach-corp {row.name} CODE` or the dashboard's x and X.")
            activity.record(session, actor, "DELETE", "SERVER", row.id, f"{row.name} ({row.db_type} {row.host}:{row.port})")
            session.delete(row)

        await self.store.run(delete)

    async def check_targets(self, actor: Actor, server_ids: Iterable[int] | None = None, *,
                            include_inactive: bool = False) -> list[CheckTarget]:
        """Decrypted connection details of many servers in one store trip, for a round of
        checks. `server_ids=None` means the whole (active) fleet, in name order. A server
        whose password cannot be decrypted is still there, with `unreadable` set."""
        require(actor, Operation.TEST_CONNECTION)
        from sqlalchemy import select

        from jumpdeck.core.store.models import ServerRow

        wanted = None if server_ids is None else list(server_ids)

        def load(session: Session) -> list[CheckTarget]:
            stmt = select(ServerRow).order_by(ServerRow.name_key)
            if wanted is not None:
                stmt = stmt.where(ServerRow.id.in_(wanted))
            elif not include_inactive:
                stmt = stmt.where(ServerRow.is_active.is_(True))
            targets = []
            for row in session.scalars(stmt):
                try:
                    targets.append(CheckTarget(self._credentials(row), row.id, row.name))
                except TokenError as error:
                    # One bad token is one bad server: it becomes that server's result
                    # (the engine never connects with the blank password), the rest go on.
                    blank = Credentials(DbType(row.db_type), row.host, row.port, row.username, Secret(""),
                                        row.default_db)
                    targets.append(CheckTarget(blank, row.id, row.name, unreadable=error))
            return targets

        return await self.store.run(load)

    async def password_tokens(self, actor: Actor) -> dict[int, str]:
        """Each server's password as its Fernet token, for an encrypted export (admin).
        A token is readable only with this installation's key."""
        require(actor, Operation.MANAGE_SERVERS)
        from sqlalchemy import select

        from jumpdeck.core.store.models import ServerRow

        return await self.store.run(lambda s: dict(s.execute(select(ServerRow.id, ServerRow.password_enc)).all()))
