"""PostgreSQL through psycopg2 (libpq).

libpq's `connect_timeout` bounds the whole handshake, in whole seconds with a floor of
2 s; the engine's deadline covers shorter limits. `statement_timeout` bounds the
queries, so a thread abandoned by the deadline always comes back.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from jumpdeck.core.servers.drivers import DatabaseInfo, Driver, DriverError, ErrorKind, VersionAnswer, first_line

if TYPE_CHECKING:
    from jumpdeck.core.servers.values import Credentials

_AUTH_MARKERS = ("password authentication failed", "authentication failed", "no pg_hba.conf entry",
                 "role \"", "no password supplied", "password is required")


class PostgresDriver(Driver):
    db_type = "postgresql"
    library = "psycopg2"
    install_hint = "Install it with: pip install psycopg2-binary"
    LISTS_DATABASES = True
    CREATES_DATABASES = True


    def connect(self, creds: Credentials, timeout: float, *, database: str | None = None):  # noqa: ANN201
        psycopg2 = self.lib()
        try:
            return psycopg2.connect(
                host=creds.host, port=creds.port, user=creds.username, password=creds.password.reveal(),
                dbname=database or creds.database or "postgres",
                connect_timeout=max(2, math.ceil(timeout)),
                options=f"-c statement_timeout={max(1, int(timeout * 1000))}",
                application_name="jumpdeck",
            )
        except psycopg2.Error as exc:
            raise classify(exc) from None

    def version(self, creds: Credentials, timeout: float) -> str:
        return self.answer(creds, timeout).version

    def answer(self, creds: Credentials, timeout: float) -> VersionAnswer:
        conn = self.connect(creds, timeout)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT version()")
                version = str(cur.fetchone()[0])
            # libpq records whether the server's auth method asked for the password (a
            # trust or peer line in pg_hba.conf never does), whatever jumpdeck sent.
            return VersionAnswer(version, asked_password=bool(conn.info.used_password))
        except self.lib().Error as exc:
            raise classify(exc) from None
        finally:
            conn.close()

    def list_databases(self, creds: Credentials, timeout: float) -> list[DatabaseInfo]:
        conn = self.connect(creds, timeout)
        try:
            with conn.cursor() as cur:
                # Sizes only where this login may connect: pg_database_size refuses otherwise.
                cur.execute(
                    "SELECT d.datname, pg_catalog.pg_get_userbyid(d.datdba),"
                    " CASE WHEN has_database_privilege(d.datname, 'CONNECT')"
                    " THEN pg_catalog.pg_database_size(d.datname) END"
                    " FROM pg_catalog.pg_database d WHERE NOT d.datistemplate ORDER BY 1"
                )
                return [DatabaseInfo(name, size, owner) for name, owner, size in cur.fetchall()]
        except self.lib().Error as exc:
            raise classify(exc) from None
        finally:
            conn.close()

    def _database_ddl(self, creds: Credentials, verb: str, name: str, timeout: float) -> None:
        from psycopg2 import sql

        conn = self.connect(creds, timeout)
        try:
            conn.autocommit = True  # CREATE/DROP DATABASE cannot run inside a transaction
            with conn.cursor() as cur:
                cur.execute(sql.SQL(verb + " {}").format(sql.Identifier(name)))
        except self.lib().Error as exc:
            raise classify(exc) from None
        finally:
            conn.close()

    def create_database(self, creds: Credentials, name: str, timeout: float) -> None:
        self._database_ddl(creds, "CREATE DATABASE", name, timeout)

    def drop_database(self, creds: Credentials, name: str, timeout: float) -> None:
        self._database_ddl(creds, "DROP DATABASE", name, timeout)


def classify(exc: BaseException) -> DriverError:
    message = first_line(exc)
    text = str(exc)
    lower = text.lower()
    code = getattr(exc, "pgcode", None) or ""
    if code == "3D000" or ("database \"" in lower and "does not exist" in lower):
        kind = ErrorKind.DATABASE_NOT_FOUND
    elif code.startswith("28") or any(marker in lower for marker in _AUTH_MARKERS):
        kind = ErrorKind.AUTH_FAILED
    elif "timeout expired" in lower or "timed out" in lower or code == "57014":
        kind = ErrorKind.TIMEOUT
    elif "connection refused" in lower:
        kind = ErrorKind.REFUSED
    elif "ssl" in lower or "certificate" in lower:
        kind = ErrorKind.TLS_ERROR
    else:
        kind = ErrorKind.OTHER
    # libpq says 'connection to server at "h", port p failed: FATAL:  <reason>'; the card
    # already shows host and port, so keep the reason.
    message = re.sub(r'^connection to server at "[^"]*"(?: \([^)]*\))?, port \d+ failed:\s*', "", message)
    message = " ".join(message.removeprefix("FATAL:").split()) or first_line(exc)
    return DriverError(kind, message[:1].upper() + message[1:])


DRIVER = PostgresDriver()
