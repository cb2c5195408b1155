"""Where a face's fleet and its rounds of checks come from: here, or the serve-ssh server.

A face asks for a round (`start`) and gets the ids it covers, then the results as they
land. `LocalFleetChecks` decrypts the passwords and checks from this process's engine.
A serve-ssh session uses `RemoteFleetChecks` (core/serve/session_client.py) instead: the
server checks for every session, so a session holds no password and loads no driver
(about 30 MB less per session), and twenty operators opening the grid at once make one
check per server, not twenty. The fleet itself (`servers`) comes from the server too,
so a session on the grid need not open the store (core/serve/session_boot.py). Which
one a face gets is the context's to say (`Context.fleet_checks`, set by whoever built
it), so this module knows nothing of serve-ssh.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, AsyncIterator, Iterable, Protocol

if TYPE_CHECKING:
    from jumpdeck.core.context import Context
    from jumpdeck.core.identity import Actor
    from jumpdeck.core.servers.checks import CheckEngine, CheckProgress, CheckResult
    from jumpdeck.core.servers.registry import ServerInfo, ServerRegistry


@dataclass
class CheckRound:
    """A round under way: the servers it checks, then one step per result."""

    server_ids: list[int]
    steps: AsyncIterator[CheckProgress]

    def __aiter__(self) -> AsyncIterator[CheckProgress]:
        return self.steps


class FleetChecks(Protocol):
    async def start(self, actor: Actor, server_ids: Iterable[int] | None = None, *,
                    sequential: bool = False) -> CheckRound: ...

    async def check_one(self, actor: Actor, server_id: int) -> CheckResult: ...

    async def servers(self, actor: Actor) -> list[ServerInfo]:
        """The fleet to show, as `ServerRegistry.list` gives it."""
        ...

    def close(self) -> None: ...


class LocalFleetChecks:
    """Checks from this process: the registry decrypts, the engine connects."""

    def __init__(self, engine: CheckEngine, registry: ServerRegistry) -> None:
        self.engine = engine
        self.registry = registry

    async def start(self, actor: Actor, server_ids: Iterable[int] | None = None, *,
                    sequential: bool = False) -> CheckRound:
        targets = await self.registry.check_targets(actor, server_ids)
        ids = [t.server_id for t in targets if t.server_id is not None]
        return CheckRound(ids, self.engine.check_round(targets, sequential=sequential))

    async def check_one(self, actor: Actor, server_id: int) -> CheckResult:
        from jumpdeck.core.servers.checks import check_server

        return await check_server(self.engine, self.registry, actor, server_id)

    async def servers(self, actor: Actor) -> list[ServerInfo]:
        return await self.registry.list(actor)

    def close(self) -> None:
        self.engine.close()


def open_fleet_checks(ctx: Context, engine: CheckEngine | None = None,
                      registry: ServerRegistry | None = None) -> FleetChecks:
    """The checks the context was given (a serve-ssh session's: the server's), this
    process's otherwise."""
    if ctx.fleet_checks is not None:
        return ctx.fleet_checks()
    from jumpdeck.core.servers.checks import CheckEngine
    from jumpdeck.core.servers.registry import ServerRegistry

    engine = engine or CheckEngine(concurrency=ctx.config.check_concurrency, timeout=ctx.config.check_timeout)
    return LocalFleetChecks(engine, registry or ServerRegistry(ctx.store, ctx.secrets))
