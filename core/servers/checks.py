"""Connection checks (seed 000 §6): one server, many in parallel, or all in sequence.

A check connects with the engine's driver, reads the version string and disconnects. It
never raises: a failure is a `CheckResult` with status offline, an `ErrorKind` and the
seed's remedy (§6.4).

Every check runs under a hard wall-clock deadline (`timeout` plus a small grace), even
when a driver ignores its own timeout. Sync drivers run in a bounded thread pool and are
given the same timeout, so a thread abandoned by the deadline comes back by itself;
Oracle's thin driver is async and is cancelled for real. Results of `check_many` arrive
as they complete, so one silent server never delays the others.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import shlex
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, AsyncIterator, Iterable

from jumpdeck.core.identity import Actor, Operation, require
from jumpdeck.core.servers.drivers import HINTS, DriverError, ErrorKind, VersionAnswer, load_driver
from jumpdeck.core.servers.registry import ServerSpec, no_stored_password, validate
from jumpdeck.core.servers.values import PASSWORD_UNASKED, CheckTarget, Credentials, DbType

if TYPE_CHECKING:
    from jumpdeck.core.servers.registry import ServerRegistry

log = logging.getLogger("jumpdeck.checks")

DEFAULT_CONCURRENCY = 64
DEFAULT_TIMEOUT = 5.0
# The deadline is the driver's timeout plus this: a driver that honours its own timeout
# reports first, with its own words; one that does not is cut off here.
GRACE = 0.2
NO_PASSWORD_REFUSED = ("The server asked for a password, and this server is registered without one: give it its "
                       "password with `jumpdeck servers edit NAME --password-stdin` or in the server form.")


class Status(str, enum.Enum):
    ONLINE = "online"
    OFFLINE = "offline"


@dataclass(frozen=True)
class CheckResult:
    server_id: int | None
    name: str
    db_type: DbType
    host: str
    port: int
    status: Status
    latency_ms: float | None
    version: str | None = None
    error_kind: ErrorKind | None = None
    message: str = ""
    hint: str = ""
    checked_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    # Online, and in without being asked for a password: a no-password account, or a
    # stored password the server never asked for (libpq tells; other drivers do not).
    password_unasked: bool = False

    @property
    def online(self) -> bool:
        return self.status is Status.ONLINE

    def summary(self) -> str:
        """One line for a card, a toast or a terminal."""
        if self.online:
            unasked = f" ({PASSWORD_UNASKED})" if self.password_unasked else ""
            return f"online in {self.latency_ms:.0f} ms: {self.version}{unasked}"
        label = self.error_kind.label if self.error_kind else "Error"
        return f"{label}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.server_id, "name": self.name, "db_type": self.db_type.value, "host": self.host,
            "port": self.port, "status": self.status.value,
            "error_kind": self.error_kind.value if self.error_kind else None,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "version": self.version, "message": self.message, "hint": self.hint,
            "checked_at": self.checked_at.isoformat(), "password_unasked": self.password_unasked,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        """The inverse of `as_json` (a result checked in the serve-ssh server, read by a session)."""
        return cls(data["id"], str(data["name"]), DbType(data["db_type"]), str(data["host"]), int(data["port"]),
                   Status(data["status"]), data["latency_ms"], data.get("version"),
                   ErrorKind(data["error_kind"]) if data.get("error_kind") else None,
                   str(data.get("message") or ""), str(data.get("hint") or ""),
                   datetime.fromisoformat(data["checked_at"]), bool(data.get("password_unasked", False)))


@dataclass(frozen=True)
class CheckProgress:
    """One step of a round: the result that just landed and how far the round is."""

    done: int
    total: int
    result: CheckResult


@dataclass(frozen=True)
class RoundSummary:
    online: int
    offline: int

    @property
    def total(self) -> int:
        return self.online + self.offline

    def text(self) -> str:
        """Seed §6.2's closing toast."""
        if self.offline == 0:
            return f"All {self.total} server{'s' if self.total != 1 else ''} online"
        return f"{self.online} online / {self.offline} offline"


def summarize(results: Iterable[CheckResult]) -> RoundSummary:
    online = offline = 0
    for result in results:
        if result.online:
            online += 1
        else:
            offline += 1
    return RoundSummary(online, offline)


class CheckEngine:
    """Runs checks. One engine per process: its thread pool is shared by every round.

    `max_threads` bounds the pool, abandoned threads included. A check that cannot get
    a thread within its deadline reports a timeout that says so, instead of waiting on.
    """

    def __init__(self, *, concurrency: int = DEFAULT_CONCURRENCY, timeout: float = DEFAULT_TIMEOUT,
                 max_threads: int | None = None) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if timeout <= 0:
            raise ValueError("timeout must be above 0")
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_threads = max_threads or max(256, 2 * concurrency)
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._threads_busy = 0
        self._threads_warm = 0

    @property
    def threads_busy(self) -> int:
        """Threads inside a driver right now, abandoned ones included."""
        return self._threads_busy

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.max_threads, thread_name_prefix="check")
        return self._executor

    def _spawn_threads(self, count: int) -> None:
        """Start `count` pool threads from this (non-loop) thread: the executor starts a
        thread inside `submit`, and 200 thread starts on the event loop stall it for
        a quarter of a second. Each task waits for the others, so each gets its own thread."""
        count = min(count, self.max_threads - self._threads_busy)
        if count <= 1:
            return
        barrier = threading.Barrier(count)

        def hold() -> None:
            try:
                barrier.wait(timeout=2)
            except threading.BrokenBarrierError:
                pass

        futures = [self._pool().submit(hold) for _ in range(count)]
        for future in futures:
            future.result()

    async def warm_up(self, threads: int | None = None) -> None:
        """Have the thread pool ready for a round of `threads` checks at once."""
        want = min(threads or self.concurrency, self.max_threads)
        if want > self._threads_warm:
            await asyncio.to_thread(self._spawn_threads, want)
            self._threads_warm = want

    def close(self) -> None:
        """Stop taking work. Threads still in a driver finish on their own timeout."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
            self._threads_warm = 0

    def _in_thread(self, target: CheckTarget, timeout: float, started: threading.Event) -> tuple[VersionAnswer, float]:
        with self._lock:
            self._threads_busy += 1
        started.set()
        try:
            driver = load_driver(target.credentials.db_type)
            driver.preload()
            begin = time.perf_counter()
            answer = driver.answer(target.credentials, timeout)
            return answer, (time.perf_counter() - begin) * 1000
        finally:
            with self._lock:
                self._threads_busy -= 1

    async def check(self, target: CheckTarget | Credentials, *, timeout: float | None = None) -> CheckResult:
        """Check one server. Never raises (cancellation aside)."""
        if isinstance(target, Credentials):
            target = CheckTarget(target)
        if target.unreadable is not None:
            # Its password could not be decrypted: there is nothing to log in with (and a
            # blank password could pass a trust-auth server). The error is its result.
            return self._unreadable(target)
        timeout = self.timeout if timeout is None else timeout
        creds = target.credentials
        started = threading.Event()
        begin = time.perf_counter()
        driver = None
        try:
            driver = load_driver(creds.db_type)
            if driver.is_async:
                # The first import of a big library must not stall the event loop.
                await asyncio.get_running_loop().run_in_executor(self._pool(), driver.preload)
                begin = time.perf_counter()
                answer = VersionAnswer(await asyncio.wait_for(driver.version_async(creds, timeout), timeout + GRACE))
                latency = (time.perf_counter() - begin) * 1000
            else:
                loop = asyncio.get_running_loop()
                future = loop.run_in_executor(self._pool(), self._in_thread, target, timeout, started)
                answer, latency = await asyncio.wait_for(future, timeout + GRACE)
        except DriverError as error:
            hint = error.hint
            if creds.no_password and error.kind is ErrorKind.AUTH_FAILED:
                hint = NO_PASSWORD_REFUSED.replace("NAME", shlex.quote(target.name) if target.name else "NAME")
            return self._failed(target, error.kind, error.message, hint, begin)
        except (TimeoutError, asyncio.TimeoutError):
            if (driver is not None and driver.is_async) or started.is_set():
                message = f"No answer from {creds.host}:{creds.port} within {timeout:g} s."
            else:
                message = (f"No free check thread within {timeout:g} s: {self._threads_busy} earlier checks are "
                           "still waiting on their drivers.")
            return self._failed(target, ErrorKind.TIMEOUT, message, HINTS[ErrorKind.TIMEOUT], begin)
        except RuntimeError as error:
            if "shutdown" in str(error):  # the engine was closed under a running round
                return self._failed(target, ErrorKind.OTHER, "The check was stopped.", HINTS[ErrorKind.OTHER], begin)
            log.exception("check of %s failed unexpectedly", target.name or creds.host)
            return self._failed(target, ErrorKind.OTHER, f"{type(error).__name__}: {error}", HINTS[ErrorKind.OTHER], begin)
        except Exception as error:  # a driver bug must not break a round
            log.exception("check of %s failed unexpectedly", target.name or creds.host)
            text = str(error).strip().splitlines()[0] if str(error).strip() else ""
            return self._failed(target, ErrorKind.OTHER, f"{type(error).__name__}: {text}".rstrip(": "),
                                HINTS[ErrorKind.OTHER], begin)
        unasked = creds.no_password or answer.asked_password is False
        return CheckResult(target.server_id, target.name, creds.db_type, creds.host, creds.port, Status.ONLINE,
                           latency, answer.version, password_unasked=unasked)

    @staticmethod
    def _failed(target: CheckTarget, kind: ErrorKind, message: str, hint: str, begin: float) -> CheckResult:
        creds = target.credentials
        return CheckResult(target.server_id, target.name, creds.db_type, creds.host, creds.port, Status.OFFLINE,
                           (time.perf_counter() - begin) * 1000, None, kind, message, hint)

    @staticmethod
    def _unreadable(target: CheckTarget) -> CheckResult:
        creds, error = target.credentials, target.unreadable
        return CheckResult(target.server_id, target.name, creds.db_type, creds.host, creds.port, Status.OFFLINE,
                           None, None, ErrorKind.SECRET, error.message, error.remedy or HINTS[ErrorKind.SECRET])

    async def call(self, creds: Credentials, operation: str, *args: Any, timeout: float | None = None) -> Any:
        """Run one of a sync driver's other operations (`list_databases`, ...) in the pool,
        under the same deadline as a check. Failures raise `DriverError`."""
        timeout = self.timeout if timeout is None else timeout
        driver = load_driver(creds.db_type)
        loop = asyncio.get_running_loop()
        method = getattr(driver, operation)
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._pool(), method, creds, *args, timeout),
                                          timeout + GRACE)
        except (TimeoutError, asyncio.TimeoutError):
            raise DriverError(ErrorKind.TIMEOUT, f"No answer from {creds.host}:{creds.port} within {timeout:g} s.") from None

    async def check_many(self, targets: Iterable[CheckTarget], *, concurrency: int | None = None,
                         timeout: float | None = None) -> AsyncIterator[CheckResult]:
        """Check every target, at most `concurrency` at once; yield each result as it lands.

        Closing the iterator early (a `break`, a cancelled worker) cancels what is left."""
        pending = list(targets)
        if not pending:
            return
        width = min(concurrency or self.concurrency, len(pending))
        await self.warm_up(width)
        queue: asyncio.Queue[CheckResult] = asyncio.Queue()
        feed = iter(pending)

        async def worker() -> None:
            for target in feed:  # one shared iterator: each target is taken once
                queue.put_nowait(await self.check(target, timeout=timeout))

        workers = [asyncio.create_task(worker()) for _ in range(width)]
        try:
            for _ in range(len(pending)):
                yield await queue.get()
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def check_round(self, targets: Iterable[CheckTarget], *, sequential: bool = False,
                          concurrency: int | None = None, timeout: float | None = None) -> AsyncIterator[CheckProgress]:
        """A round with progress. `sequential` is seed §6.2's "test all": one server at a
        time, so the fleet's DBs never see a burst of logins."""
        pending = list(targets)
        done = 0
        async for result in self.check_many(pending, concurrency=1 if sequential else concurrency, timeout=timeout):
            done += 1
            yield CheckProgress(done, len(pending), result)


def credentials_from_spec(spec: ServerSpec) -> Credentials:
    """Connection details of a validated spec."""
    return Credentials(DbType(spec.db_type), spec.host, int(spec.port), spec.username, spec.password,
                       spec.default_db or "", no_password=spec.no_password)


async def check_server(engine: CheckEngine, registry: ServerRegistry, actor: Actor, server_id: int,
                      *, timeout: float | None = None) -> CheckResult:
    """Test a saved server with its stored password (seed §6.1). A password that cannot
    be decrypted is the result (kind `secret`), as in a round."""
    return await engine.check(await registry.check_target(actor, server_id), timeout=timeout)


async def check_spec(engine: CheckEngine, actor: Actor, spec: ServerSpec, *, registry: ServerRegistry | None = None,
                    server_id: int | None = None, timeout: float | None = None) -> CheckResult:
    """Test before save (seed §3.1, §4.1): a new spec, or an edited one.

    For an edit (`server_id` given) a blank password means the stored one, so an operator
    can try a new host or port without typing the password again. Raises
    `ValidationError` for a spec that could not be saved either."""
    require(actor, Operation.TEST_CONNECTION)
    editing = server_id is not None
    spec = validate(spec, creating=not editing)
    creds = credentials_from_spec(spec)
    if editing and not spec.password and not spec.no_password:
        if registry is None:
            raise ValueError("testing an edit with the stored password needs the registry")
        stored = await registry.credentials(actor, server_id)
        if stored.no_password:
            raise no_stored_password(spec.name)
        creds = replace(creds, password=stored.password)
    return await engine.check(CheckTarget(creds, server_id, spec.name), timeout=timeout)
