"""Checks against real endpoints on loopback: PostgreSQL and MariaDB (CI starts them),
closed ports, silent listeners, FreeTDS for MSSQL and oracledb thin for Oracle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from jumpdeck.core.secrets import Secret
from jumpdeck.core.servers.checks import CheckEngine, Status
from jumpdeck.core.servers.drivers import ErrorKind
from tests.core.servers.conftest import creds

ROOT = Path(__file__).resolve().parents[3]
TIMEOUT = 1.0


@pytest.fixture
async def engine():
    eng = CheckEngine(timeout=TIMEOUT)
    yield eng
    eng.close()


async def test_postgresql_online_with_version(engine, pg_creds) -> None:
    result = await engine.check(pg_creds)
    assert result.status is Status.ONLINE, result.message
    assert result.version.startswith("PostgreSQL ")
    assert result.error_kind is None and 0 < result.latency_ms < 1000


async def test_mariadb_online_with_version(engine, mysql_creds) -> None:
    result = await engine.check(mysql_creds)
    assert result.online, result.message
    assert "MariaDB" in result.version or result.version[0].isdigit()


async def test_mariadb_wrong_password_is_auth_failed(engine, mysql_creds) -> None:
    result = await engine.check(replace(mysql_creds, password=Secret("not-the-password")))
    assert result.error_kind is ErrorKind.AUTH_FAILED
    assert "Access denied" in result.message and "not-the-password" not in result.message
    assert "password" in result.hint


async def test_postgresql_unknown_login_is_auth_failed(engine, pg_creds) -> None:
    # The local cluster trusts loopback, so a wrong password would be accepted: an
    # unknown role is the login failure it can show.
    result = await engine.check(replace(pg_creds, username="no_such_role", password=Secret("x")))
    assert result.error_kind is ErrorKind.AUTH_FAILED, result.message
    assert "no_such_role" in result.message


async def test_postgresql_unknown_database(engine, pg_creds) -> None:
    result = await engine.check(replace(pg_creds, database="no_such_db"))
    assert result.error_kind is ErrorKind.DATABASE_NOT_FOUND, result.message
    assert "default DB" in result.hint


async def test_mariadb_unknown_database(engine, mysql_creds) -> None:
    result = await engine.check(replace(mysql_creds, database="no_such_db"))
    assert result.error_kind is ErrorKind.DATABASE_NOT_FOUND, result.message


@pytest.mark.parametrize("db_type", ["postgresql", "mysql", "oracle", pytest.param("mssql", marks=pytest.mark.needs("odbc"))])
async def test_closed_port_is_refused(engine, refused_port, db_type) -> None:
    result = await engine.check(creds(db_type, refused_port, database="ORCL" if db_type == "oracle" else ""))
    assert result.status is Status.OFFLINE
    assert result.error_kind is ErrorKind.REFUSED, (result.error_kind, result.message)
    assert result.latency_ms < 1000
    assert "port" in result.hint


@pytest.mark.parametrize("db_type", ["postgresql", "mysql", "oracle", pytest.param("mssql", marks=pytest.mark.needs("odbc"))])
async def test_silent_listener_times_out_within_deadline(engine, silent_port, db_type) -> None:
    begin = time.perf_counter()
    result = await engine.check(creds(db_type, silent_port, database="ORCL" if db_type == "oracle" else ""))
    elapsed = time.perf_counter() - begin
    assert result.error_kind is ErrorKind.TIMEOUT, (result.error_kind, result.message)
    assert elapsed <= TIMEOUT + 0.5, elapsed
    assert "firewall" in result.hint


def test_no_odbc_driver_is_driver_missing(tmp_path) -> None:
    # An odbcinst.ini that registers no driver stands in for a host without FreeTDS.
    (tmp_path / "odbcinst.ini").write_text("")
    (tmp_path / "odbc.ini").write_text("")
    env = dict(os.environ, ODBCSYSINI=str(tmp_path), ODBCINSTINI="odbcinst.ini", ODBCINI=str(tmp_path / "odbc.ini"))
    code = (
        "import asyncio, json\n"
        "from jumpdeck.core.servers.checks import CheckEngine\n"
        "from tests.core.servers.conftest import creds\n"
        "r = asyncio.run(CheckEngine(timeout=1).check(creds('mssql', 1433)))\n"
        "print(json.dumps(r.as_json()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    assert result["error_kind"] == "driver_missing", result
    assert "tdsodbc" in result["hint"]


async def test_pyodbc_that_cannot_load_is_driver_missing(engine, monkeypatch) -> None:
    # Without unixODBC, `import pyodbc` fails on libodbc.so.2; None in sys.modules fails the same way.
    monkeypatch.setitem(sys.modules, "pyodbc", None)
    result = await engine.check(creds("mssql", 1433))
    assert result.error_kind is ErrorKind.DRIVER_MISSING
    assert "pyodbc" in result.message and "unixodbc" in result.hint
