"""Oracle through python-oracledb in thin mode (no Oracle client needed).

Thin mode has no parameter that bounds the handshake against a listener that never
answers, so the check is `connect_async` on the event loop inside the engine's
`asyncio.wait_for`: cancelling it really stops it, and no thread is left behind.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from jumpdeck.core.servers.drivers import Driver, DriverError, ErrorKind, first_line

if TYPE_CHECKING:
    from jumpdeck.core.servers.values import Credentials

_AUTH_CODES = {"ORA-01017", "ORA-28000", "ORA-28001", "ORA-01005", "ORA-01004", "DPY-4001"}
_SERVICE_CODES = {"ORA-12514", "ORA-12505", "DPY-6001", "DPY-6003"}


class OracleDriver(Driver):
    db_type = "oracle"
    library = "oracledb"
    install_hint = "Install it with: pip install oracledb"
    is_async = True


    async def version_async(self, creds: Credentials, timeout: float) -> str:
        oracledb = self.lib()
        try:
            params = oracledb.ConnectParams(host=creds.host, port=creds.port, service_name=creds.database,
                                            tcp_connect_timeout=max(0.05, timeout), retry_count=0)
            conn = await oracledb.connect_async(user=creds.username, password=creds.password.reveal(), params=params)
        except oracledb.Error as exc:
            raise classify(exc) from None
        try:
            with conn.cursor() as cur:
                await cur.execute("SELECT banner FROM v$version WHERE ROWNUM = 1")
                row = await cur.fetchone()
            return str(row[0]) if row else f"Oracle {conn.version}"
        except oracledb.Error:
            return f"Oracle {conn.version}"  # v$version may be hidden from this login
        finally:
            await conn.close()


def classify(exc: BaseException) -> DriverError:
    text = str(exc)
    message = first_line(exc)
    error = exc.args[0] if exc.args else None
    code = getattr(error, "full_code", "") or ""
    lower = text.lower()
    if code in _AUTH_CODES or "invalid username/password" in lower:
        kind = ErrorKind.AUTH_FAILED
    elif code in _SERVICE_CODES or any(c in text for c in _SERVICE_CODES):
        kind = ErrorKind.DATABASE_NOT_FOUND
    elif "connection refused" in lower or "connect call failed" in lower or "errno 111" in lower:
        kind = ErrorKind.REFUSED
    elif "timed out" in lower or "timeout" in lower:
        kind = ErrorKind.TIMEOUT
    elif "ssl" in lower or "tls" in lower or "certificate" in lower:
        kind = ErrorKind.TLS_ERROR
    else:
        kind = ErrorKind.OTHER
    message = re.sub(r"\s*\(CONNECTION_ID=[^)]*\)", "", message)
    if kind is ErrorKind.REFUSED and "\n" in text.strip():
        # DPY-6005 puts the cause on its second line; it says more than the first.
        message = f"{message} {text.strip().splitlines()[-1].strip()}"
    return DriverError(kind, message)


DRIVER = OracleDriver()
