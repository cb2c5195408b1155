"""Driver adapters for the four engines, loaded lazily by name.

Each adapter turns one engine's native library and errors into jumpdeck's terms: a
version string on success, a `DriverError` with an `ErrorKind` on failure. Importing
this package imports no database library; `load_driver(db_type)` imports the adapter
module, and the adapter imports its library only when it first connects, so a missing
driver (or, for pyodbc, a missing `libodbc.so.2`) becomes `driver_missing` instead of an
ImportError at start-up.

Sync adapters run in the check engine's worker threads and must bound every wait with
the driver's own timeout so that a thread abandoned by the engine's deadline comes back.
Async adapters (Oracle thin) run on the event loop.
"""

from __future__ import annotations

import enum
import importlib
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from jumpdeck.core.servers.values import SECRET_REMEDY

if TYPE_CHECKING:
    from jumpdeck.core.servers.values import Credentials, DbType


class ErrorKind(str, enum.Enum):
    """Why a check failed. The hints are seed 000 §6.4's remedies."""

    TIMEOUT = "timeout"
    REFUSED = "refused"
    AUTH_FAILED = "auth_failed"
    DRIVER_MISSING = "driver_missing"
    DATABASE_NOT_FOUND = "database_not_found"
    TLS_ERROR = "tls_error"
    SECRET = "secret"  # the stored password cannot be decrypted on this host: no connection was tried
    OTHER = "other"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    ErrorKind.TIMEOUT: "Connection timeout",
    ErrorKind.REFUSED: "Connection refused",
    ErrorKind.AUTH_FAILED: "Login failed",
    ErrorKind.DRIVER_MISSING: "Driver not found",
    ErrorKind.DATABASE_NOT_FOUND: "Database not found",
    ErrorKind.TLS_ERROR: "SSL/TLS error",
    ErrorKind.SECRET: "Password cannot be decrypted",
    ErrorKind.OTHER: "Error",
}

HINTS: dict[ErrorKind, str] = {
    ErrorKind.TIMEOUT: "The host or port cannot be reached: check the firewall, the IP address and the port.",
    ErrorKind.REFUSED: "Nothing accepts connections on that port: check the port and that the DB service is running.",
    ErrorKind.AUTH_FAILED: "Check the login and password; if the password changed, edit the server and enter the new one.",
    ErrorKind.DRIVER_MISSING: "Install the DB driver on this jump host.",
    ErrorKind.DATABASE_NOT_FOUND: "Fix the server's default DB field.",
    ErrorKind.TLS_ERROR: "Check the server's certificate (for MSSQL, TrustServerCertificate=yes).",
    ErrorKind.SECRET: SECRET_REMEDY.format(name="NAME"),
    ErrorKind.OTHER: "See the message; jumpdeck.log in the data directory has details.",
}


class DriverError(Exception):
    """A failed connection, already classified. `message` is the driver's own first
    line, which names host and port but never the password."""

    def __init__(self, kind: ErrorKind, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.hint = hint or HINTS[kind]


class UnsupportedOperation(DriverError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorKind.OTHER, message, hint="This engine does not offer it in jumpdeck yet.")


@dataclass(frozen=True)
class VersionAnswer:
    """A server's version string, and whether it asked for the password on the way in
    (None: this driver cannot tell)."""

    version: str
    asked_password: bool | None = None


@dataclass(frozen=True)
class DatabaseInfo:
    """A database on a server, as the engine reports it."""

    name: str
    size_bytes: int | None = None
    owner: str | None = None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def tcp_probe(host: str, port: int, timeout: float) -> ErrorKind | None:
    """Tell a refused port from a silent one when a driver's message does not."""
    try:
        with socket.create_connection((host, port), timeout=max(0.05, timeout)):
            return None
    except ConnectionRefusedError:
        return ErrorKind.REFUSED
    except (TimeoutError, socket.timeout):
        return ErrorKind.TIMEOUT
    except OSError:
        return None


class Driver:
    """One engine's adapter. Optional operations raise `UnsupportedOperation`; the
    class flags tell a face what to offer."""

    db_type: ClassVar[str]
    library: ClassVar[str]  # the import name, for messages
    install_hint: ClassVar[str]
    is_async: ClassVar[bool] = False
    LISTS_DATABASES: ClassVar[bool] = False
    CREATES_DATABASES: ClassVar[bool] = False

    def missing(self, detail: str) -> DriverError:
        return DriverError(ErrorKind.DRIVER_MISSING, f"The {self.library} driver cannot be loaded: {detail}.",
                           hint=self.install_hint)

    def lib(self):  # noqa: ANN201
        """The driver library, imported on first use; missing (or, for pyodbc, missing
        `libodbc.so.2` beneath it) becomes `driver_missing`."""
        try:
            return importlib.import_module(self.library)
        except ImportError as exc:
            raise self.missing(str(exc)) from None

    def preload(self) -> None:
        """Import the library now (raising `DriverError` if it is missing), so that the
        first check's latency does not include the import."""
        self.lib()

    def version(self, creds: Credentials, timeout: float) -> str:
        """Connect, read the version string, disconnect. Sync adapters only."""
        raise NotImplementedError

    def answer(self, creds: Credentials, timeout: float) -> VersionAnswer:
        """`version`, plus whether the server asked for the password where the library
        tells (libpq does). Sync adapters only."""
        return VersionAnswer(self.version(creds, timeout))

    async def version_async(self, creds: Credentials, timeout: float) -> str:
        """The same for async adapters."""
        raise NotImplementedError

    def list_databases(self, creds: Credentials, timeout: float) -> list[DatabaseInfo]:
        raise UnsupportedOperation(f"Listing databases on {self.db_type} is not supported.")

    def create_database(self, creds: Credentials, name: str, timeout: float) -> None:
        raise UnsupportedOperation(f"Creating databases on {self.db_type} is not supported.")

    def drop_database(self, creds: Credentials, name: str, timeout: float) -> None:
        raise UnsupportedOperation(f"Dropping databases on {self.db_type} is not supported.")


_MODULES = {
    "postgresql": "jumpdeck.core.servers.drivers.postgresql",
    "mysql": "jumpdeck.core.servers.drivers.mysql",
    "mssql": "jumpdeck.core.servers.drivers.mssql",
    "oracle": "jumpdeck.core.servers.drivers.oracle",
}
_loaded: dict[str, Driver] = {}


def load_driver(db_type: DbType | str) -> Driver:
    """The adapter for a DB type; its module is imported on first use."""
    key = getattr(db_type, "value", db_type)
    driver = _loaded.get(key)
    if driver is None:
        module = importlib.import_module(_MODULES[key])
        driver = _loaded[key] = module.DRIVER
    return driver
