"""MySQL and MariaDB through PyMySQL.

PyMySQL needs `connect_timeout` for the TCP connect and `read_timeout` for everything
after it: without the latter a listener that accepts and never speaks hangs the thread
forever. TLS is "preferred" (used when the server offers it, like libpq's default);
PyMySQL would build a new SSLContext for every connection (about 24 ms of CPU each, the
system CA bundle being parsed again), so every connection shares one, handed to PyMySQL
through its private `Connection._create_ssl_ctx` (checked before use; pyproject.toml pins
PyMySQL below 1.3 for it).
"""

from __future__ import annotations

import inspect
import logging
import ssl
import threading
from typing import TYPE_CHECKING

from jumpdeck.core.servers.drivers import DatabaseInfo, Driver, DriverError, ErrorKind, first_line

if TYPE_CHECKING:
    from jumpdeck.core.servers.values import Credentials

_AUTH_ERRNOS = {1044, 1045, 1698, 1251, 2059}  # access denied, plugin refusals
_DB_ERRNOS = {1049}  # unknown database
_context_lock = threading.Lock()
_shared_context: ssl.SSLContext | None = None
_connection_class = None
log = logging.getLogger(__name__)


def shared_tls_context() -> ssl.SSLContext:
    """The one client context of "preferred" TLS: encrypt, do not verify (as PyMySQL's
    own preferred mode does)."""
    global _shared_context
    with _context_lock:
        if _shared_context is None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            _shared_context = ctx
        return _shared_context


def _builds_its_own_context(connection_class) -> bool:  # noqa: ANN001
    """Whether PyMySQL still builds its context in the private `_create_ssl_ctx(self, sslp)`,
    the one place where the shared context can stand in for preferred mode's fresh one.
    (Its public `ssl=` takes a context, but then TLS is required, not preferred: a server
    without TLS would be refused.)"""
    method = getattr(connection_class, "_create_ssl_ctx", None)
    try:
        return callable(method) and list(inspect.signature(method).parameters) == ["self", "sslp"]
    except (TypeError, ValueError):
        return False


def _connection_cls():  # noqa: ANN202
    global _connection_class
    if _connection_class is None:
        from pymysql.connections import Connection

        if not _builds_its_own_context(Connection):
            log.warning("PyMySQL no longer has the context hook jumpdeck shares a TLS context through: "
                        "each MySQL connection builds its own (about 24 ms of CPU)")
            _connection_class = Connection
            return _connection_class

        class SharedTlsConnection(Connection):
            def _create_ssl_ctx(self, sslp):  # noqa: ANN001, ANN202
                # Preferred mode asks for a fresh default context ({}); hand out the shared one.
                return shared_tls_context() if not sslp else super()._create_ssl_ctx(sslp)

        _connection_class = SharedTlsConnection
    return _connection_class


class MySqlDriver(Driver):
    db_type = "mysql"
    library = "pymysql"
    install_hint = "Install it with: pip install pymysql"
    LISTS_DATABASES = True
    CREATES_DATABASES = True


    def connect(self, creds: Credentials, timeout: float):  # noqa: ANN201
        pymysql = self.lib()
        wait = max(0.05, timeout)
        try:
            return _connection_cls()(
                host=creds.host, port=creds.port, user=creds.username, password=creds.password.reveal(),
                database=creds.database or None, connect_timeout=wait, read_timeout=wait, write_timeout=wait,
                charset="utf8mb4", program_name="jumpdeck",
            )
        except pymysql.Error as exc:
            raise classify(exc) from None
        except (OSError, ValueError) as exc:
            raise classify(exc) from None

    def _query(self, creds: Credentials, timeout: float, statement: str, args: tuple = ()) -> list[tuple]:
        conn = self.connect(creds, timeout)
        try:
            with conn.cursor() as cur:
                cur.execute(statement, args or None)
                return list(cur.fetchall())
        except (self.lib().Error, OSError) as exc:
            raise classify(exc) from None
        finally:
            conn.close()

    def version(self, creds: Credentials, timeout: float) -> str:
        return str(self._query(creds, timeout, "SELECT VERSION()")[0][0])

    def list_databases(self, creds: Credentials, timeout: float) -> list[DatabaseInfo]:
        # MySQL keeps no owner per schema; sizes are the tables' data and indexes.
        rows = self._query(
            creds, timeout,
            "SELECT s.schema_name, SUM(t.data_length + t.index_length)"
            " FROM information_schema.schemata s"
            " LEFT JOIN information_schema.tables t ON t.table_schema = s.schema_name"
            " GROUP BY s.schema_name ORDER BY s.schema_name",
        )
        return [DatabaseInfo(str(name), int(size) if size is not None else None, None) for name, size in rows]

    def create_database(self, creds: Credentials, name: str, timeout: float) -> None:
        quoted = "`" + name.replace("`", "``") + "`"
        self._query(creds, timeout, f"CREATE DATABASE {quoted}")

    def drop_database(self, creds: Credentials, name: str, timeout: float) -> None:
        quoted = "`" + name.replace("`", "``") + "`"
        self._query(creds, timeout, f"DROP DATABASE {quoted}")


def classify(exc: BaseException) -> DriverError:
    errno = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    message = exc.args[1] if errno is not None and len(exc.args) > 1 else first_line(exc)
    lower = str(exc).lower()
    if errno in _AUTH_ERRNOS:
        kind = ErrorKind.AUTH_FAILED
    elif errno in _DB_ERRNOS:
        kind = ErrorKind.DATABASE_NOT_FOUND
    elif "timed out" in lower or "timeout" in lower:
        kind = ErrorKind.TIMEOUT
    elif "connection refused" in lower or "errno 111" in lower:
        kind = ErrorKind.REFUSED
    elif "ssl" in lower or "certificate" in lower:
        kind = ErrorKind.TLS_ERROR
    else:
        kind = ErrorKind.OTHER
    return DriverError(kind, str(message).strip().splitlines()[0] if str(message).strip() else type(exc).__name__)


DRIVER = MySqlDriver()
