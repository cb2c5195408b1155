"""Optional parts a test may need beyond Python packages: what is missing, in one
sentence with the install line, or None when the part is here. A test names its part
with `@pytest.mark.needs("odbc")` (tests/conftest.py skips it with the reason, or fails
it under JUMPDECK_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import shutil
from collections.abc import Callable


def odbc_for_sql_server() -> str | None:
    """pyodbc loads only with unixODBC's libodbc.so.2 beneath it, and reaches SQL
    Server only through a registered driver (FreeTDS's or Microsoft's)."""
    try:
        import pyodbc
    except ImportError as exc:
        return f"unixODBC is not installed, so pyodbc cannot load ({exc}): apt-get install unixodbc tdsodbc"
    from jumpdeck.core.servers.drivers.mssql import PREFERRED_ODBC_DRIVERS

    try:
        installed = set(pyodbc.drivers())
    except pyodbc.Error as exc:
        return f"unixODBC cannot list its drivers ({exc}): apt-get install unixodbc tdsodbc"
    if not installed & set(PREFERRED_ODBC_DRIVERS):
        return "no ODBC driver for SQL Server (FreeTDS or msodbcsql) is registered: apt-get install tdsodbc"
    return None


def _binary(name: str, package: str) -> Callable[[], str | None]:
    return lambda: None if shutil.which(name) else f"{name} is not installed (apt-get install {package})"


PARTS: dict[str, Callable[[], str | None]] = {
    "odbc": odbc_for_sql_server,
    "htop": _binary("htop", "htop"),
    "tmux": _binary("tmux", "tmux"),
    "unshare": _binary("unshare", "util-linux"),
}


def missing(part: str) -> str | None:
    return PARTS[part]()
