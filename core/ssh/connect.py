"""Opening an SSH connection with asyncssh, host keys checked, errors as sentences."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from typing import Any

from jumpdeck.core.ssh.errors import (
    HostKeyMismatch, HostKeyUnknown, SshAuthFailed, SshConnectionRefused, SshError, SshKeyFileError,
    SshNameNotResolved, SshTimeout,
)
from jumpdeck.core.ssh.hostkeys import HostKeyOffer, HostKeyPolicy
from jumpdeck.core.ssh.session import TerminalSession, open_terminal
from jumpdeck.core.ssh.target import SshAuth, SshTarget

CONNECT_TIMEOUT = 10.0
KEEPALIVE_INTERVAL = 30.0  # seconds between keepalives; 3 unanswered drop the session
KEEPALIVE_COUNT_MAX = 3
# asyncio reads up to 256 KB per socket wake-up and asyncssh handles every packet in it
# before the loop runs anything else: 13-29 ms per read during `seq` floods, measured
# in bench/terminal.py, in front of the operator's keys. 32 KB keeps each read short.
READ_SIZE = 32 << 10


@dataclass
class SshConnection:
    """An authenticated connection (and the jump host's, if any)."""

    target: SshTarget
    conn: Any
    tunnel: Any = None

    async def open_terminal(self, cols: int, rows: int, *, term: str = "xterm-256color",
                            env: dict[str, str] | None = None) -> TerminalSession:
        try:
            return await open_terminal(self.conn, cols, rows, term=term, env=env)
        except Exception as exc:  # asyncssh.ChannelOpenError and friends
            raise SshError(f"{self.target.label} refused to open a shell: {exc}.") from None

    def close(self) -> None:
        self.conn.close()
        if self.tunnel is not None:
            self.tunnel.close()

    async def wait_closed(self) -> None:
        await self.conn.wait_closed()
        if self.tunnel is not None:
            await self.tunnel.wait_closed()


def _load_key(auth: SshAuth):
    import asyncssh

    path = auth.key_file
    passphrase = auth.passphrase.reveal() if auth.passphrase else None
    try:
        return asyncssh.read_private_key(str(path), passphrase)
    except FileNotFoundError:
        raise SshKeyFileError(f"The key file {path} does not exist.", remedy="Check the path given with -i.") from None
    except PermissionError:
        raise SshKeyFileError(f"The key file {path} is not readable by this user.") from None
    except asyncssh.KeyEncryptionError:
        raise SshKeyFileError(f"The key file {path} is encrypted and the passphrase is missing or wrong.",
                              remedy="Load it into ssh-agent (ssh-add) and choose agent authentication.") from None
    except (asyncssh.KeyImportError, ValueError, OSError):
        raise SshKeyFileError(f"The file {path} is not an SSH private key jumpdeck can read.") from None


def _auth_options(auth: SshAuth) -> dict[str, Any]:
    if auth.kind == "key":
        return {"client_keys": [_load_key(auth)], "agent_path": None, "password_auth": False, "kbdint_auth": False}
    if auth.kind == "stored":  # core.ssh.stored resolves it before connecting
        raise SshAuthFailed("The stored password was not looked up.", remedy="Open the session from the SSH screen.")
    if auth.kind == "password":
        if not auth.password:
            raise SshAuthFailed("No password was given.", remedy="Type the password or choose key authentication.")
        return {"client_keys": None, "password": auth.password.reveal()}
    options: dict[str, Any] = {"password_auth": False, "kbdint_auth": False}
    if auth.agent_path:
        options["agent_path"] = auth.agent_path
    return options


def translate(exc: BaseException, target: SshTarget) -> SshError:
    """Turn a library or socket exception into the sentence the operator reads."""
    import asyncssh

    where = f"{target.host} port {target.port}"
    if isinstance(exc, socket.gaierror):
        return SshNameNotResolved(f"The name {target.host} could not be resolved.",
                                  remedy="Check the spelling, or use the IP address.")
    if isinstance(exc, ConnectionRefusedError):
        return SshConnectionRefused(f"{where} refused the connection.",
                                    remedy="Check that sshd runs there and the port is right.")
    if isinstance(exc, asyncssh.PermissionDenied):
        return SshAuthFailed(f"{where} refused the login of {target.user} with {target.auth.describe()}.",
                             remedy="Check the user name and the key or password.")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return SshTimeout(f"{where} did not answer in time.",
                          remedy="Check that the host is up and no firewall drops the traffic.")
    if isinstance(exc, asyncssh.DisconnectError):
        return SshError(f"{where} closed the connection: {exc.reason or 'no reason given'}.")
    if isinstance(exc, OSError):
        return SshError(f"Cannot reach {where}: {exc.strerror or exc}.")
    return SshError(f"The SSH connection to {where} failed: {exc}.")


async def _open(target: SshTarget, policy: HostKeyPolicy, *, timeout: float, tunnel: Any) -> Any:
    import asyncssh

    presented: dict[str, Any] = {}

    class _Client(asyncssh.SSHClient):
        # asyncssh calls this only for a key that matched nothing on file: note it and
        # refuse; whether that means "unknown" or "changed" is decided below.
        def validate_host_public_key(self, host, addr, port, key) -> bool:
            presented.update(host=host, addr=addr, port=port, key=key)
            return False

    known = policy.combined()
    options = dict(
        host=target.host, port=target.port, username=target.user, known_hosts=known.encode(),
        client_factory=_Client, config=None, connect_timeout=timeout, login_timeout=timeout,
        keepalive_interval=KEEPALIVE_INTERVAL, keepalive_count_max=KEEPALIVE_COUNT_MAX,
        **_auth_options(target.auth),
    )
    if tunnel is not None:
        options["tunnel"] = tunnel
    try:
        conn = await asyncssh.connect(**options)
    except asyncssh.HostKeyNotVerifiable:
        if not presented:
            raise SshError(f"The host key of {target.host} port {target.port} could not be verified.") from None
        offer = HostKeyOffer.from_key(target.host, target.port, presented["key"])
        verdict, path = policy.verdict(offer, presented["addr"])
        if verdict == "changed":
            raise HostKeyMismatch(offer, str(path)) from None
        raise HostKeyUnknown(offer) from None
    except SshError:
        raise
    except (OSError, asyncio.TimeoutError, asyncssh.Error) as exc:
        raise translate(exc, target) from None
    _bound_reads(conn)
    return conn


def _bound_reads(conn: Any) -> None:
    """Cap how much one socket read hands asyncssh (see READ_SIZE). Through a jump host
    the transport is an SSH channel, which has no such setting; it is left alone."""
    transport = getattr(conn, "_transport", None)
    if transport is not None and hasattr(transport, "max_size"):
        transport.max_size = READ_SIZE


async def connect(target: SshTarget, policy: HostKeyPolicy, *, timeout: float = CONNECT_TIMEOUT) -> SshConnection:
    """Connect (through `target.jump` if set). Raises `HostKeyUnknown` for the UI to confirm."""
    tunnel = None
    if target.jump is not None:
        tunnel = await _open(target.jump, policy, timeout=timeout, tunnel=None)
    try:
        conn = await _open(target, policy, timeout=timeout, tunnel=tunnel)
    except BaseException:
        if tunnel is not None:
            tunnel.close()
        raise
    return SshConnection(target=target, conn=conn, tunnel=tunnel)
