"""Microsoft SQL Server through pyodbc.

pyodbc cannot even be imported without unixODBC (`libodbc.so.2`), so it is imported
here, on first use, and a missing library or ODBC driver becomes `driver_missing`.
The ODBC driver is Microsoft's ("ODBC Driver 18/17 for SQL Server") when installed,
else FreeTDS. pyodbc honours only its `timeout=` keyword as the login timeout;
timeouts written in the connection string are ignored.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from jumpdeck.core.servers.drivers import DatabaseInfo, Driver, DriverError, ErrorKind, first_line, tcp_probe

if TYPE_CHECKING:
    from jumpdeck.core.servers.values import Credentials

PREFERRED_ODBC_DRIVERS = ("ODBC Driver 18 for SQL Server", "ODBC Driver 17 for SQL Server", "FreeTDS")
ODBC_HINT = ("Install an ODBC driver for SQL Server: `apt-get install unixodbc tdsodbc` (FreeTDS) "
             "or Microsoft's msodbcsql18, then `pip install pyodbc`.")


def _odbc_value(value: str) -> str:
    """Brace-quote a connection-string value so ; { } in a password cannot break out."""
    return "{" + value.replace("}", "}}") + "}"


class MsSqlDriver(Driver):
    db_type = "mssql"
    library = "pyodbc"
    install_hint = ODBC_HINT
    LISTS_DATABASES = True


    def odbc_driver(self) -> str:
        pyodbc = self.lib()
        try:
            installed = set(pyodbc.drivers())
        except pyodbc.Error as exc:
            raise self.missing(first_line(exc)) from None
        for name in PREFERRED_ODBC_DRIVERS:
            if name in installed:
                return name
        raise DriverError(ErrorKind.DRIVER_MISSING, "No ODBC driver for SQL Server is registered with unixODBC.",
                          hint=ODBC_HINT)

    def connection_string(self, creds: Credentials, driver: str) -> str:
        parts = [f"DRIVER={_odbc_value(driver)}"]
        if driver == "FreeTDS":
            parts += [f"SERVER={creds.host}", f"PORT={creds.port}", "TDS_Version=7.4"]
        else:
            parts += [f"SERVER={creds.host},{creds.port}"]
        if creds.database:
            parts.append(f"DATABASE={_odbc_value(creds.database)}")
        parts += [f"UID={_odbc_value(creds.username)}", f"PWD={_odbc_value(creds.password.reveal())}"]
        return ";".join(parts)

    def _query(self, creds: Credentials, timeout: float, statement: str) -> list[tuple]:
        pyodbc = self.lib()
        driver = self.odbc_driver()
        try:
            conn = pyodbc.connect(self.connection_string(creds, driver), timeout=max(1, math.ceil(timeout)))
        except pyodbc.Error as exc:
            raise classify(exc, creds, timeout) from None
        try:
            conn.timeout = max(1, math.ceil(timeout))  # the query timeout
            return [tuple(row) for row in conn.cursor().execute(statement).fetchall()]
        except pyodbc.Error as exc:
            raise classify(exc, creds, timeout) from None
        finally:
            conn.close()

    def version(self, creds: Credentials, timeout: float) -> str:
        return " ".join(str(self._query(creds, timeout, "SELECT @@VERSION")[0][0]).split())

    def list_databases(self, creds: Credentials, timeout: float) -> list[DatabaseInfo]:
        # sys.master_files counts 8 KB pages of every data and log file.
        rows = self._query(
            creds, timeout,
            "SELECT d.name, SUSER_SNAME(d.owner_sid), SUM(CAST(mf.size AS BIGINT)) * 8192"
            " FROM sys.databases d LEFT JOIN sys.master_files mf ON mf.database_id = d.database_id"
            " GROUP BY d.name, d.owner_sid ORDER BY d.name",
        )
        return [DatabaseInfo(str(name), int(size) if size is not None else None, owner) for name, owner, size in rows]


def classify(exc: BaseException, creds: Credentials, timeout: float) -> DriverError:
    sqlstate = str(exc.args[0]) if exc.args else ""
    text = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    message = re.sub(r"\s*\((?:SQLDriverConnect|SQLExecDirectW)\)\s*$", "", text.strip().splitlines()[0])
    # "[08S01] [FreeTDS][SQL Server]Unable to connect..." -> "Unable to connect..."
    message = re.sub(r"^(?:\[[^\]]*\]\s*)+", "", message) or message
    lower = text.lower()
    if "cannot open database" in lower or "4060" in lower:
        kind = ErrorKind.DATABASE_NOT_FOUND
    elif sqlstate == "28000" or "login failed" in lower:
        kind = ErrorKind.AUTH_FAILED
    elif sqlstate in ("HYT00", "HYT01") or "timeout" in lower or "timed out" in lower:
        kind = ErrorKind.TIMEOUT
    elif "ssl" in lower or "certificate" in lower or "tls" in lower:
        kind = ErrorKind.TLS_ERROR
    elif sqlstate.startswith("08"):
        # FreeTDS says "unavailable or does not exist" for a refused and a silent port alike.
        kind = tcp_probe(creds.host, creds.port, min(1.0, timeout)) or ErrorKind.OTHER
    else:
        kind = ErrorKind.OTHER
    return DriverError(kind, message)


DRIVER = MsSqlDriver()
