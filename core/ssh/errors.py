"""The SSH errors an operator can meet, each a sentence with a remedy.

asyncssh and the socket layer raise their own exceptions; `connect` translates them into
these so the TUI and the CLI show one line instead of a traceback. No message ever holds
a password or a passphrase.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jumpdeck.core.errors import JumpdeckError

if TYPE_CHECKING:
    from jumpdeck.core.ssh.hostkeys import HostKeyOffer


class SshError(JumpdeckError):
    """Any failure to open or keep an SSH session."""

    title = "SSH error"


class SshAuthFailed(SshError):
    title = "SSH login refused"


class SshConnectionRefused(SshError):
    title = "SSH connection refused"


class SshTimeout(SshError):
    title = "SSH timeout"


class SshNameNotResolved(SshError):
    title = "Host name not resolved"


class SshKeyFileError(SshError):
    """The private key file is missing, unreadable or needs a passphrase we lack."""

    title = "SSH key file"


class HostKeyUnknown(SshError):
    """The server's host key is in no known_hosts file: the operator must confirm it.

    Not a failure so much as a question: the UI shows `offer.fingerprint` and, on
    confirmation, calls `trust_host_key(offer, path)` and connects again.
    """

    title = "Unknown host key"

    def __init__(self, offer: "HostKeyOffer") -> None:
        super().__init__(
            f"The host key of {offer.display} is not known yet: its fingerprint is {offer.fingerprint}.",
            remedy="Confirm it only if it matches the fingerprint the server's owner gave you.",
        )
        self.offer = offer


class HostKeyMismatch(SshError):
    """The server presented a key different from the one on file. Never auto-accepted."""

    title = "HOST KEY CHANGED"

    def __init__(self, offer: "HostKeyOffer", known_in: str) -> None:
        super().__init__(
            f"WARNING: the host key of {offer.display} has changed (it now presents {offer.fingerprint}). "
            f"Someone may be intercepting this connection (a man-in-the-middle attack), "
            f"or the server was reinstalled. jumpdeck refused to connect.",
            remedy=f"Verify the new fingerprint with the server's owner, then remove the old entry from {known_in}.",
        )
        self.offer = offer
        self.known_in = known_in
