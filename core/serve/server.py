"""The serve-ssh server: asyncssh, public keys only, one PTY child per session.

Refused at the protocol level: passwords, keyboard-interactive, unknown keys, exec
requests, subsystems (sftp), TCP/unix forwarding both ways, agent and X11 forwarding.
A pending or disabled user's key is refused too, with an auth banner saying why
(OpenSSH prints banners on the client's terminal before "Permission denied").
The limits around a login (not-logged-in connections, login grace time, penalties for
addresses that keep failing, connections per user) are decided in `limits.py`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncssh

from jumpdeck.core.child_env import child_environment
from jumpdeck.core.context import SERVE_SESSION_ENV, SESSION_TOKEN_ENV
from jumpdeck.core.errors import Conflict, JumpdeckError
from jumpdeck.core.identity import Actor, Operation, Role, UserStatus, denial, ssh_origin
from jumpdeck.core.serve.limits import LoginLimits, RefusalLog, RefusalSummary, SourcePenalties, UserSlots
from jumpdeck.core.serve.sessions import SessionLimits, SessionTable

if TYPE_CHECKING:
    from jumpdeck.core.context import Context
    from jumpdeck.core.serve.prefork import Prefork
    from jumpdeck.core.serve.pty_child import PtyChild
    from jumpdeck.core.users import User

log = logging.getLogger("jumpdeck.serve")

DEFAULT_LISTEN = ("127.0.0.1", 2222)

# Written after a child is ended from our side: it may not have restored the terminal
# (alternate screen, mouse reporting, hidden cursor), and the operator's shell should
# come back usable. Harmless when already restored.
TERMINAL_RESTORE = (b"\x1b[<u\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l"
                    b"\x1b[?2004l\x1b[?1004l\x1b[?25h\x1b[?1049l\x1b[0m")

NEED_TTY = ("jumpdeck is a full-screen console and needs a terminal: connect with `ssh -t` "
            "(without -T), e.g. ssh -t -p {port} {user}@{host}\r\n")

# COLORTERM is not forwarded by ssh. We default to 256 colours, which every terminal
# announcing xterm-256color renders and which costs fewer bytes per cell than 24-bit;
# a client that sends COLORTERM=truecolor (SendEnv/SetEnv) gets truecolor.
CLIENT_ENV_ALLOWED = {"COLORTERM": {"truecolor", "24bit"}}


@dataclass(frozen=True)
class ServeOptions:
    host: str = DEFAULT_LISTEN[0]
    port: int = DEFAULT_LISTEN[1]
    host_key: Path | None = None
    limits: SessionLimits = field(default_factory=SessionLimits)
    login: LoginLimits = field(default_factory=LoginLimits)
    # argv that starts a child jumpdeck, without identity; set by `child_command`.
    child_argv: tuple[str, ...] = ()
    # Fork sessions from a warm session starter (tui/serve_zygote.py) instead of
    # starting a fresh interpreter each time: faster first frame, shared pages.
    prefork: bool = True


def child_command(home: Path, *, demo: bool) -> tuple[str, ...]:
    """The child runs this interpreter's jumpdeck on the same data dir (and store)."""
    argv = [sys.executable, "-m", "jumpdeck.tui.cli"]
    if demo:  # the demo home is <home>/demo; --demo derives it again in the child
        argv += ["--home", str(home.parent), "--demo"]
    else:
        argv += ["--home", str(home)]
    return tuple(argv)


def _actor_for(user: User, address: str) -> Actor:
    return Actor(user.name, user.role, user.status, ssh_origin(address))


# Who a refusal's row names before anyone has logged in: the name a client asks for is
# its own claim, so it goes into the detail, never into the actor column.
NOT_LOGGED_IN = "(not logged in)"


def _nobody(address: str) -> Actor:
    return Actor(NOT_LOGGED_IN, Role.VIEWER, UserStatus.DISABLED, ssh_origin(address))


class ServeServer:
    """One listening serve-ssh server over an open context (the server's own identity)."""

    def __init__(self, ctx: Context, options: ServeOptions) -> None:
        self.ctx = ctx
        self.options = options
        self.table = SessionTable(options.limits)
        self.penalties = SourcePenalties(options.login)
        self.slots = UserSlots(options.limits.max_per_user)
        self.refusals = RefusalLog(options.login.refusal_window)
        self.unauthenticated = 0  # connections between accept and login
        self._refusal_sweeper: asyncio.Task | None = None
        self._listener: Any = None
        self._control: Any = None
        self._sweeper: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self.port = options.port
        self.prefork: Prefork | None = None
        self._starting_prefork: Prefork | None = None
        from jumpdeck.core.serve.check_relay import CheckRelay

        self.checks = CheckRelay(ctx)  # every session's rounds of checks run here
        from jumpdeck.core.serve.change_relay import ChangeRelay

        self.changes = ChangeRelay(self)  # every session's news of the store comes from here
        self.table.on_change = self.changes.sessions_changed

    # ----------------------------------------------------------------- running
    async def start(self) -> None:
        from jumpdeck.core.serve.control import ControlServer
        from jumpdeck.core.serve.hostkey import default_host_key_path, load_or_create_host_key

        key_path = self.options.host_key or default_host_key_path(self.ctx.config.home)
        host_key, created = await asyncio.to_thread(load_or_create_host_key, key_path)
        if created:
            log.info("generated host key %s (%s)", key_path, host_key.get_fingerprint())
        self.host_key_fingerprint = host_key.get_fingerprint("sha256")
        self._control = ControlServer(self)
        await self._control.start()
        try:
            self._listener = await asyncssh.create_server(
                lambda: _Connection(self), self.options.host, self.options.port,
                server_host_keys=[host_key],
                encoding=None, line_editor=False,
                agent_forwarding=False, x11_forwarding=False, allow_scp=False,
                # Our own keepalive notices dead links without needing client input.
                keepalive_interval=60, keepalive_count_max=3,
                # The login grace time is ours (_Connection), so the client reads why.
                login_timeout=0,
            )
        except OSError as exc:
            await self._control.close()
            raise Conflict(f"serve-ssh cannot listen on {self.options.host}:{self.options.port}: {exc.strerror}.",
                           remedy="Choose another --listen port, or stop what is using this one.") from None
        self.port = self._listener.sockets[0].getsockname()[1]
        self._sweeper = asyncio.create_task(self._sweep_idle())
        self._refusal_sweeper = asyncio.create_task(self._sweep_refusals())
        self.changes.start()
        from jumpdeck.core.provision.lease_watch import LeaseWatch

        self.leases = LeaseWatch(self.ctx)  # for every session: runs whose worker died
        if self.options.prefork and self.options.child_argv[1:3] == ("-m", "jumpdeck.tui.cli"):
            # Warming up takes as long as one jumpdeck start; listen meanwhile (the
            # first sessions then start by fork + exec).
            self.spawn(self._start_prefork())
        log.info("serve-ssh listening on %s:%s", self.options.host, self.port)

    async def _start_prefork(self) -> None:
        from jumpdeck.core.serve.prefork import Prefork

        prefork = Prefork(self._base_env(), str(self.ctx.config.home))
        self._starting_prefork = prefork
        try:
            await prefork.start()
            self.prefork = prefork
            log.info("session starter ready")
        except JumpdeckError as error:
            log.warning("%s Sessions start by fork + exec.", error)

    async def wait_prefork(self, timeout: float = 60.0) -> bool:
        """For benchmarks and tests: wait until sessions fork from the warm starter."""
        for _ in range(int(timeout / 0.05)):
            if self.prefork is not None and self.prefork.alive:
                return True
            await asyncio.sleep(0.05)
        return False

    async def close(self) -> None:
        if self._sweeper:
            self._sweeper.cancel()
        if self._refusal_sweeper:
            self._refusal_sweeper.cancel()
        if self._listener is not None:
            self._listener.close()
        for summary in self.refusals.due(everything=True):
            self._audit_summary(summary)
        for entry in list(self.table._entries.values()):
            entry.end("the jumpdeck server is shutting down")
        for _ in range(100):
            if not len(self.table):
                break
            await asyncio.sleep(0.05)
        if self._control is not None:
            await self._control.close()
        starter = self.prefork or self._starting_prefork
        if starter is not None:
            await starter.close()
        self.checks.close()
        self.changes.close()
        if getattr(self, "leases", None) is not None:
            self.leases.close()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    async def serve_forever(self) -> None:
        await self._listener.wait_closed()

    def spawn(self, coro) -> None:  # noqa: ANN001
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def audit(self, actor: Actor, action: str, target: str, detail: str) -> None:
        try:
            await self.ctx.activity.record(actor, action, "SSH", target, detail)
        except Exception:  # the audit store failing must not take the server down
            log.exception("could not record %s for %s", action, actor.user)

    # ------------------------------------------------------------ refusals
    def admit(self, address: str) -> bool:
        """A new connection from `address`: False (and a refusal logged) if a limit says no."""
        wait = self.penalties.refused_for(address)
        if wait:
            self.refused(address, f"refused for another {wait:.0f} s after repeated failed logins")
            return False
        cap = self.options.login.max_unauthenticated
        if self.unauthenticated >= cap:
            self.refused(address, f"{self.unauthenticated} connections are not logged in yet (the limit is {cap})")
            return False
        self.unauthenticated += 1
        return True

    def login_failed(self, address: str, detail: str, *, logged: bool = False) -> None:
        """A connection left without logging in: log it (unless already) and count it
        against its address."""
        if not logged:
            self.refused(address, detail)
        penalty = self.penalties.failed(address)
        if penalty:
            allowed = self.options.login.failures_allowed
            log.info("refusing %s for %.0f s after %d failed logins", address, penalty, allowed)
            # Not rate-limited: at most one per penalty, and the admin wants every one.
            self.spawn(self.audit(_nobody(address), "SSH_PENALTY", address,
                                  f"{allowed} failed logins: every connection from {address} is refused for {penalty:.0f} s"))

    def refused(self, address: str, detail: str, actor: Actor | None = None) -> None:
        """A refused login: in the activity log as the first from its address in a window,
        else counted into that window's summary row."""
        noted = self.refusals.note(address, actor.user if actor is not None else "")
        if noted.summary is not None:
            self._audit_summary(noted.summary)
        if noted.write:
            log.info("refused %s: %s", address, detail)
            self.spawn(self.audit(actor or _nobody(address), "SSH_REFUSED", address, detail))
        else:
            log.debug("refused %s: %s", address, detail)

    def _audit_summary(self, summary: RefusalSummary) -> None:
        # A known user's summary names them in the detail only: the row is no act of theirs.
        self.spawn(self.audit(_nobody(summary.address), "SSH_REFUSED", summary.address, summary.sentence()))

    async def _sweep_refusals(self) -> None:
        window = self.options.login.refusal_window
        while True:
            await asyncio.sleep(max(1.0, min(15.0, window / 4)))
            for summary in self.refusals.due():
                self._audit_summary(summary)

    async def _sweep_idle(self) -> None:
        limit = self.options.limits.idle_timeout
        if not limit:
            return
        minutes = limit / 60
        shown = f"{minutes:g} minutes" if minutes >= 1 else f"{limit:g} seconds"
        while True:
            await asyncio.sleep(max(1.0, min(30.0, limit / 4)))
            for entry in self.table.idle_beyond_limit():
                entry.end(f"closed after {shown} without input")
            # A connection without a session (ssh -N) has no input to wait for: it holds
            # its user's slot for as long as the idle timeout, then goes.
            for connection in self.slots.sessionless_beyond(limit):
                connection.end_sessionless(f"closed after {shown} without a session")

    @staticmethod
    def _base_env() -> dict[str, str]:
        # The allow-list: not this server's SSH_* or tmux variables, and no secret (the
        # session asks for the store URL and key on its control socket instead).
        env = child_environment()
        for name in ("COLORTERM", "SSH_AUTH_SOCK"):  # the client's terminal decides; this account's agent is not theirs
            env.pop(name, None)
        return env

    def child_env(self, actor: Actor, term: str, client_env: dict[str, str], token: str = "") -> dict[str, str]:
        env = self._base_env()
        env.update({
            "TERM": term or "xterm-256color",
            # Not who the child is (the server says that, by pid or this token), only
            # which session's requests these are.
            SESSION_TOKEN_ENV: token,
            "JUMPDECK_HOME": str(self.ctx.config.home),
            # The session's first screen and its rounds of checks come from this server.
            SERVE_SESSION_ENV: "1",
        })
        env.setdefault("LANG", "C.UTF-8")
        for name, allowed in CLIENT_ENV_ALLOWED.items():
            if client_env.get(name, "").lower() in allowed:
                env[name] = client_env[name]
        return env


class _Connection(asyncssh.SSHServer):
    """asyncssh's per-connection server object. (This module is imported only by the
    serve-ssh command, never by the app, so asyncssh at its top costs the app nothing.)"""

    def __init__(self, server: ServeServer) -> None:
        self.server = server
        self.conn: Any = None
        self.address = "?"
        self.user: User | None = None
        self.fingerprint = ""
        self.connected_at = time.monotonic()
        self._checked: dict[str, User | None] = {}
        self._refusal_sent = False
        self._refused_keys: list[str] = []
        self._claimed = ""  # the user name the client asked for: its claim, not who it is
        self._tried = False  # it asked to log in at least once
        self._dropped = False  # refused at accept: never counted anywhere
        self._unauthenticated = False  # counted in the server's not-logged-in connections
        self._authenticated = False
        self._admitted = False  # holds a slot of its user
        self._grace: asyncio.TimerHandle | None = None
        self._grace_expired = False

    def connection_made(self, conn) -> None:  # noqa: ANN001
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?",)
        self.address = str(peer[0])
        if not self.server.admit(self.address):
            # As sshd does for MaxStartups and penalties: closed before the key exchange,
            # which is what costs the server.
            self._dropped = True
            conn.abort()
            return
        self._unauthenticated = True
        grace = self.server.options.login.login_grace
        if grace:
            self._grace = asyncio.get_running_loop().call_later(grace, self._login_grace_over)

    def _login_grace_over(self) -> None:
        self._grace = None
        if not self._authenticated:
            self._grace_expired = True
            self.conn.disconnect(asyncssh.DISC_PROTOCOL_ERROR,
                                 f"jumpdeck: not logged in within {self.server.options.login.login_grace:g} s")

    def _logged_in_or_gone(self) -> None:
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        if self._unauthenticated:
            self._unauthenticated = False
            self.server.unauthenticated -= 1

    def end_sessionless(self, reason: str) -> None:
        self.server.slots.disconnect(self)
        self.conn.disconnect(asyncssh.DISC_BY_APPLICATION, f"jumpdeck: {reason}")

    def _failure(self) -> str:
        parts = []
        if self._grace_expired:
            parts.append(f"not logged in within {self.server.options.login.login_grace:g} s")
        if self._refused_keys:
            shown = ", ".join(self._refused_keys[:3]) + (" ..." if len(self._refused_keys) > 3 else "")
            parts.append(f"unknown key {shown}")
        if self._claimed:
            parts.append(f"as {self._claimed!r}")
        return ", ".join(parts) or "no key accepted"

    def connection_lost(self, exc: Exception | None) -> None:
        self._logged_in_or_gone()
        self.server.slots.disconnect(self)
        if self._dropped:
            return
        if not self._authenticated:
            if self._tried or self._grace_expired:
                self.server.login_failed(self.address, self._failure(), logged=self._refusal_sent)
            return
        if self._admitted and self.user is not None:
            seconds = time.monotonic() - self.connected_at
            reason = f", {exc}" if exc else ""
            self.server.spawn(self.server.audit(_actor_for(self.user, self.address), "SSH_DISCONNECT", self.address,
                                                f"key {self.fingerprint}, after {seconds:.0f} s{reason}"))

    def debug_msg_received(self, msg: str, lang: str, always_display: bool) -> None:
        pass

    def begin_auth(self, username: str) -> bool:
        self._tried = True
        self._claimed = username[:64]
        return True  # always authenticate; the key alone decides who you are

    def public_key_auth_supported(self) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    def gss_host_based_auth_supported(self) -> bool:
        return False

    def gss_kex_auth_supported(self) -> bool:
        return False

    def gss_mic_auth_supported(self) -> bool:
        return False

    async def validate_public_key(self, username: str, key) -> bool:  # noqa: ANN001
        fingerprint = key.get_fingerprint("sha256")
        if fingerprint not in self._checked:
            self._checked[fingerprint] = await self.server.ctx.users.find_by_fingerprint(fingerprint)
        user = self._checked[fingerprint]
        if user is None:
            # A few are enough to tell the admin what was tried; a client may offer hundreds.
            if fingerprint not in self._refused_keys and len(self._refused_keys) < 10:
                self._refused_keys.append(fingerprint)
            return False
        if user.status is not UserStatus.ACTIVE:
            if not self._refusal_sent:
                self._refusal_sent = True
                sentence = denial(Actor(user.name, user.role, user.status), Operation.VIEW) or ""
                try:
                    self.conn.send_auth_banner(f"jumpdeck: {sentence}\r\n")
                except OSError:
                    pass
                self.server.refused(self.address, f"key {fingerprint}, account {user.status.value}",
                                    _actor_for(user, self.address))
            return False
        self.user, self.fingerprint = user, fingerprint
        return True

    def auth_completed(self) -> None:
        assert self.user is not None
        self._logged_in_or_gone()
        self._authenticated = True
        try:
            self.server.slots.connect(self.user.name, self)
        except Conflict as error:
            self.server.refused(self.address, f"key {self.fingerprint}: {error.message}", _actor_for(self.user, self.address))
            # After the login, as pam_limits' maxlogins: the client prints this reason.
            self.conn.disconnect(asyncssh.DISC_TOO_MANY_CONNECTIONS, f"jumpdeck: {error}")
            return
        self._admitted = True
        self.server.spawn(self.server.audit(_actor_for(self.user, self.address), "SSH_CONNECT", self.address,
                                            f"key {self.fingerprint}"))

    def session_requested(self):  # noqa: ANN201
        return _Session(self)

    # Forwarding of every kind: refused (and logged, so an admin can see attempts).
    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str, orig_port: int) -> bool:
        log.info("refused TCP forwarding to %s:%s for %s", dest_host, dest_port, self.user and self.user.name)
        # Say it is policy: the default answer reads "connection refused", as if the
        # target were down.
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED,
                                        "jumpdeck serve-ssh does not allow port forwarding")

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        log.info("refused remote forwarding %s:%s for %s", listen_host, listen_port, self.user and self.user.name)
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        return False

    def unix_server_requested(self, listen_path: str) -> bool:
        return False

    def tun_requested(self, unit):  # noqa: ANN001, ANN201
        return False

    def tap_requested(self, unit):  # noqa: ANN001, ANN201
        return False


class _Session(asyncssh.SSHServerSession):
    """One session channel: a PTY, a shell request, and the child behind it."""

    def __init__(self, connection: _Connection) -> None:
        self.connection = connection
        self.server = connection.server
        self.chan: Any = None
        self.term = ""
        self.size = (80, 24, 0, 0)
        self.has_pty = False
        self.child: PtyChild | None = None
        self.entry = None
        self._ending = False
        self._has_slot = False  # holds one of its user's slots (UserSlots)

    def connection_made(self, chan) -> None:  # noqa: ANN001
        self.chan = chan

    def pty_requested(self, term_type: str, term_size, term_modes) -> bool:  # noqa: ANN001
        self.has_pty = True
        self.term = term_type
        if term_size and term_size[0] and term_size[1]:
            self.size = tuple(term_size)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        log.info("refused exec request from %s", self.connection.address)
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        log.info("refused subsystem %r from %s", subsystem, self.connection.address)
        return False

    def x11_requested(self, *args) -> bool:  # noqa: ANN002
        return False

    def agent_requested(self) -> bool:
        return False

    def session_started(self) -> None:
        user = self.connection.user
        assert user is not None
        if not self.has_pty:
            host, port = self.server.options.host, self.server.port
            self._refuse(NEED_TTY.format(port=port, user=user.name, host=host if host not in ("0.0.0.0", "::") else "HOST"))
            return
        try:
            self.server.slots.open_session(self.connection)
            self._has_slot = True
            self.entry = self.server.table.open(user.name, self.connection.address, self.connection.fingerprint, self.end)
        except Conflict as error:
            self._release()
            self._refuse(f"jumpdeck: {error}\r\n")
            return
        from jumpdeck.core.serve.pty_child import PtyChild

        actor = _actor_for(user, self.connection.address)
        env = self.server.child_env(actor, self.term, dict(self.chan.get_environment()), self.entry.token)
        cols, rows, _, _ = self.size
        cwd = str(self.server.ctx.config.home)
        try:
            self.child = PtyChild(cols, rows, self._output, self._child_exited)
            prefork = self.server.prefork
            if prefork is not None and prefork.alive:
                self.server.spawn(self._start_prefork(prefork, env, cwd))
                return
            self.child.start_exec(list(self.server.options.child_argv), env, cwd)
        except OSError as exc:
            self._failed_to_start(exc.strerror or str(exc))
            return
        self.entry.pid = self.child.pid

    async def _start_prefork(self, prefork: Prefork, env: dict[str, str], cwd: str) -> None:
        try:
            await self.child.start_prefork(prefork, list(self.server.options.child_argv[3:]), env, cwd)
        except (JumpdeckError, OSError, asyncio.TimeoutError) as exc:
            log.warning("prefork start failed (%s); falling back to fork + exec", exc)
            try:
                self.child.start_exec(list(self.server.options.child_argv), env, cwd)
            except OSError as error:
                self._failed_to_start(error.strerror or str(error))
                return
        self.entry.pid = self.child.pid
        if self.chan.is_closing():  # the client left while we were starting
            await self.child.terminate()

    def _release(self) -> None:
        """Give back the session's row and slot (once, whichever way it ends)."""
        if self.entry is not None:
            self.server.table.close(self.entry.id)
        if self._has_slot:
            self._has_slot = False
            self.server.slots.close_session(self.connection)

    def _failed_to_start(self, reason: str) -> None:
        self._release()
        self._refuse(f"jumpdeck could not start a session: {reason}.\r\n")

    def _refuse(self, text: str) -> None:
        self.chan.write(text.replace("\r\n", "\n").replace("\n", "\r\n").encode())
        self.chan.exit(1)

    def _output(self, data: bytes) -> None:
        if not self.chan.is_closing():
            self.chan.write(data)
            if self.entry is not None:
                self.entry.bytes_out += len(data)

    def _child_exited(self, status: int) -> None:
        self._release()
        if not self._ending and not self.chan.is_closing():
            self.chan.exit(max(status, 0) if status >= 0 else 1)

    # client -> child. Only what the operator's terminal sends (keys, paste, mouse and
    # focus reports, a window resize) resets the idle timer. Output does not: a live grid
    # repaints whether or not anyone looks at it, and counting it would keep an abandoned
    # session (and its slot, and its open console) alive forever. Nor do SSH keepalives,
    # which a client sends by itself.
    def data_received(self, data: bytes, datatype) -> None:  # noqa: ANN001
        if self.child is not None:
            self.child.write(data)
            self._operator_active()

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self.size = (width, height, pixwidth, pixheight)
        if self.child is not None:
            self.child.resize(width, height, pixwidth, pixheight)
            self._operator_active()

    def _operator_active(self) -> None:
        if self.entry is not None:
            self.server.table.touch(self.entry.id)

    def eof_received(self) -> bool:
        return False

    def break_received(self, msec: int) -> bool:
        return False

    def signal_received(self, signal: str) -> None:
        pass

    def pause_writing(self) -> None:
        if self.child is not None:
            self.child.pause_output()

    def resume_writing(self) -> None:
        if self.child is not None:
            self.child.resume_output()

    def connection_lost(self, exc: Exception | None) -> None:
        self._release()
        if self.child is not None and self.child.alive:
            self.server.spawn(self.child.terminate())

    # server side end: idle timeout, an admin, shutdown
    def end(self, reason: str) -> None:
        if self._ending:
            return
        self._ending = True
        self.server.spawn(self._end(reason))

    async def _end(self, reason: str) -> None:
        if self.child is not None:
            await self.child.terminate()
        self._release()
        if not self.chan.is_closing():
            self.chan.write(TERMINAL_RESTORE + f"\r\njumpdeck: session ended: {reason}.\r\n".encode())
            self.chan.exit(1)


async def run_server(ctx: Context, options: ServeOptions, *, ready=None) -> None:  # noqa: ANN001
    """Serve until cancelled (SIGINT/SIGTERM in the CLI)."""
    server = ServeServer(ctx, options)
    await server.start()
    if ready is not None:
        ready(server)
    try:
        await server.serve_forever()
    finally:
        await server.close()


__all__ = ["ServeOptions", "ServeServer", "run_server", "child_command", "JumpdeckError"]
