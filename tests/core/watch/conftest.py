"""Stores on SQLite and the real PostgreSQL, servers in them, and a TCP relay to the real
PostgreSQL that can be made to go silent (it keeps accepting and says nothing), as a
server behind a dead network path does."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from jumpdeck.core.store.engine import open_store
from tests.core.servers.conftest import silent_port  # noqa: F401 - a fixture for the watch's tests


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        opened = open_store(sqlite_path=tmp_path / "s.db", store_url=None)
    else:
        opened = open_store(sqlite_path=tmp_path / "unused.db", store_url=request.getfixturevalue("pg_temp_url"))
    yield opened
    opened.close()


def add_servers(store, names: list[str], *, port: int = 5432, db_type: str = "postgresql",  # noqa: ANN001
                group: str = "") -> dict[str, int]:
    """Rows straight into the store (no password, as the local services take): name → id."""
    from jumpdeck.core.store.models import ServerRow

    def add(session) -> dict[str, int]:  # noqa: ANN001
        rows = [ServerRow(name=n, name_key=n.lower(), db_type=db_type, host="127.0.0.1", port=port,
                          username="postgres" if db_type == "postgresql" else "root",
                          default_db="postgres" if db_type == "postgresql" else "", no_password=True,
                          group_name=group) for n in names]
        session.add_all(rows)
        session.flush()
        return {r.name: r.id for r in rows}

    return store.run_sync(add)


@dataclass
class Relay:
    """Forwards to 127.0.0.1:`upstream` while `answering`; otherwise accepts and stays silent."""

    upstream: int
    answering: bool = True
    port: int = 0
    accepted: int = 0
    _server: asyncio.base_events.Server | None = None
    _held: list = field(default_factory=list)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if not self.answering:
            self._held.append(writer)  # never answered, never closed until the end
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def stop(self) -> None:
        for writer in self._held:
            writer.close()
        if self._server is not None:
            self._server.close()


@pytest.fixture
async def pg_relay(pg_url):
    relay = Relay(5432)
    await relay.start()
    yield relay
    await relay.stop()
