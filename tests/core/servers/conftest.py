"""Endpoints for failure paths, all on loopback: a closed port, a listener that never
answers (a silent DB), and helpers to build credentials."""

from __future__ import annotations

import socket

import pytest

from jumpdeck.core.secrets import Secret
from jumpdeck.core.servers.registry import Credentials, DbType


def closed_port() -> int:
    """A port nothing listens on: bound once to pick it, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def refused_port() -> int:
    return closed_port()


@pytest.fixture
def silent_port():
    """Accepts TCP (the kernel completes the handshake) and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield sock.getsockname()[1]
    sock.close()


def creds(db_type: str, port: int, *, user: str = "u", password: str = "p", database: str = "",
          host: str = "127.0.0.1") -> Credentials:
    return Credentials(DbType(db_type), host, port, user, Secret(password), database)


@pytest.fixture
def pg_creds(pg_url) -> Credentials:
    return creds("postgresql", 5432, user="postgres", password="", database="postgres")


@pytest.fixture
def mysql_creds(mysql_url) -> Credentials:
    return creds("mysql", 3306, user="root", password="", database="")


FOREIGN_PASSWORD = "foreign-canary-Pw-91c2"


def plant_foreign_token(store, server_id: int) -> str:  # noqa: ANN001
    """Store a password encrypted under a key this installation never had, as a second
    host sharing the store with a secret.key of its own would. Returns the token."""
    from cryptography.fernet import Fernet

    from jumpdeck.core.store.models import ServerRow

    token = Fernet(Fernet.generate_key()).encrypt(FOREIGN_PASSWORD.encode()).decode()

    def write(session) -> None:  # noqa: ANN001
        session.get(ServerRow, server_id).password_enc = token

    store.run_sync(write)
    return token
