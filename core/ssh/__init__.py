"""SSH for jumpdeck: connect with asyncssh, verify host keys honestly, run a PTY shell.

asyncssh itself is imported only inside the functions that use it (start-up stays cheap).

    policy = HostKeyPolicy.for_config(config)
    try:
        conn = await connect(target, policy)
    except HostKeyUnknown as unknown:      # ask the operator about unknown.offer.fingerprint
        trust_host_key(unknown.offer, policy.store); conn = await connect(target, policy)
    term = await conn.open_terminal(cols, rows)
"""

from jumpdeck.core.ssh.connect import SshConnection, connect, translate
from jumpdeck.core.ssh.errors import (
    HostKeyMismatch, HostKeyUnknown, SshAuthFailed, SshConnectionRefused, SshError, SshKeyFileError,
    SshNameNotResolved, SshTimeout,
)
from jumpdeck.core.ssh.hostkeys import HostKeyOffer, HostKeyPolicy, trust_host_key
from jumpdeck.core.ssh.session import TerminalSession
from jumpdeck.core.ssh.target import SshAuth, SshTarget, parse_destination

__all__ = [
    "HostKeyMismatch", "HostKeyOffer", "HostKeyPolicy", "HostKeyUnknown", "SshAuth", "SshAuthFailed",
    "SshConnection", "SshConnectionRefused", "SshError", "SshKeyFileError", "SshNameNotResolved", "SshTarget",
    "SshTimeout", "TerminalSession", "connect", "parse_destination", "translate", "trust_host_key",
]
