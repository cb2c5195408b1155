"""Logging in to a pool VM with the SSH password the encrypted store holds for it.

Launchers (a server card, a monitored resource, a run's ssh targets, the connect
dialog's "stored password" choice) hand the SSH screen a plain target; this decides,
in core, whether the store's password goes with it. The pool's rule applies: only an
admin or the operator whose run holds the VM gets the password, and each hand-out is
in the activity log.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from jumpdeck.core.errors import PermissionDenied
from jumpdeck.core.ssh.errors import SshAuthFailed
from jumpdeck.core.ssh.target import SshAuth, SshTarget

if TYPE_CHECKING:
    from jumpdeck.core.identity import Actor
    from jumpdeck.core.provision.pool import Pool


@dataclass(frozen=True)
class Resolved:
    target: SshTarget
    note: str = ""  # a sentence for the operator when something was decided for them


async def with_stored_password(pool: "Pool", actor: "Actor", target: SshTarget) -> Resolved:
    """`target` with the pool's stored password when it applies.

    - auth "stored": the password must exist and be allowed, else `SshAuthFailed` /
      `PermissionDenied` with a sentence.
    - auth "agent" (the launchers' default): the stored password is used when the host is
      a pool VM that has one and the actor may use it; otherwise the agent stays, and a
      refusal becomes a note rather than an error.
    - a key file or a typed password is what the operator chose: left alone.
    """
    if target.auth.kind not in ("agent", "stored"):
        return Resolved(target)
    explicit = target.auth.kind == "stored"
    port = target.port if explicit else None
    try:
        login = await pool.ssh_login(actor, target.host, port)
    except PermissionDenied as denied:
        if explicit:
            raise
        return Resolved(target, note=f"{denied.message} Trying your ssh-agent and keys instead.")
    if login is None or login.password is None:
        if explicit:
            raise SshAuthFailed(f"No SSH password is stored for {target.host}.",
                                remedy="Store one with: jumpdeck pool passwd NAME, or choose another authentication.")
        return Resolved(target)
    user = target.user if explicit else login.ssh_user
    port = target.port if explicit or target.port != 22 else login.ssh_port
    return Resolved(replace(target, user=user, port=port, auth=SshAuth.with_password(login.password)),
                    note=f"Logging in to {login.vm_name} as {user} with the password stored for it.")
