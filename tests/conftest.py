"""Shared fixtures: a temp store, an actor per role, and real-service URLs that skip
with a reason when the service is unreachable (fail instead under
JUMPDECK_REQUIRE_SERVICES=1, which .ci/run sets)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from jumpdeck.core.config import Config, load_config
from jumpdeck.core.identity import Actor, Role, UserStatus

REQUIRE_SERVICES = os.environ.get("JUMPDECK_REQUIRE_SERVICES") == "1"


def service_unavailable(reason: str) -> None:
    """Skip, or fail when CI demands real services."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


def pytest_runtest_setup(item) -> None:  # noqa: ANN001
    """`@pytest.mark.needs("odbc")`: skip with the reason when that part is missing
    (tests/optional_parts.py), fail under JUMPDECK_REQUIRE_SERVICES=1."""
    from tests.optional_parts import missing

    for mark in item.iter_markers("needs"):
        for part in mark.args:
            reason = missing(part)
            if reason:
                service_unavailable(reason)


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """No test reads the developer's real config, key or store."""
    for name in list(os.environ):
        if name.startswith("JUMPDECK_") and name != "JUMPDECK_REQUIRE_SERVICES":
            monkeypatch.delenv(name)
    cfgdir = tmp_path_factory.mktemp("xdg-config")
    (cfgdir / "config.toml").touch()  # JUMPDECK_CONFIG must name a file that is there
    monkeypatch.setenv("JUMPDECK_CONFIG", str(cfgdir / "config.toml"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(cfgdir))


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(cli={"home": str(tmp_path / "home")})


@pytest.fixture
async def ctx(config):
    """An open context whose actor is the first user, hence admin."""
    from jumpdeck.core.context import open_context

    context = await open_context(config, user="admin")
    yield context
    context.close()


@pytest.fixture
def admin() -> Actor:
    return Actor("admin", Role.ADMIN)


@pytest.fixture
def operator() -> Actor:
    return Actor("oper", Role.OPERATOR)


@pytest.fixture
def viewer() -> Actor:
    return Actor("view", Role.VIEWER)


@pytest.fixture
def pending() -> Actor:
    return Actor("newbie", Role.VIEWER, UserStatus.PENDING)


@pytest.fixture
def pg_url() -> str:
    if not port_answers(5432):
        service_unavailable("PostgreSQL is not answering on 127.0.0.1:5432")
    return "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_temp_url(pg_url):
    """A database of its own on the real PostgreSQL, created for one test and dropped after."""
    import uuid

    import psycopg2

    name = f"jumpdeck_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(pg_url)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    # Explicit driver: SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3 (not installed).
    yield pg_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://", 1) + f"/{name}"
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def mysql_url() -> str:
    if not port_answers(3306):
        service_unavailable("MariaDB is not answering on 127.0.0.1:3306")
    return "mysql+pymysql://root@127.0.0.1:3306/test"


def os_user() -> str:
    """The OS account running the tests: who every jumpdeck command started here is."""
    from jumpdeck.core.context import local_user_name

    return local_user_name()


def run_as(monkeypatch, name: str) -> None:
    """In-process only: the contexts this test opens act as `name`. A command started
    as another process is always its OS account (`os_user()`)."""
    monkeypatch.setattr("jumpdeck.core.context.local_user_name", lambda: name)
