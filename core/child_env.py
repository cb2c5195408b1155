"""The environment every child process of jumpdeck starts with, built from an allow-list.

A child used to inherit all of this process's environment: with `JUMPDECK_KEY` set, the
key was in every worker, ansible-playbook and ssh process of a run, and ansible-runner
wrote it into the run's artifacts. Now a child sees only what it needs to run (its PATH,
locale, home, temp dir, terminal, Python's own settings) and jumpdeck's non-secret
options. Secrets (the key, the store URL, which may hold a password, a session's token)
never travel in an environment: a child that needs one is handed it on a pipe.

Every `subprocess`/`asyncio` spawn in jumpdeck passes `env=child_environment(...)`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from jumpdeck.core.config import ENV_PREFIX, OPTIONS

# What a program needs to run as the account that started it, and nothing that names
# a credential. SSH_AUTH_SOCK is a socket path (the agent decides what it signs), so an
# operator's agent keeps working for ansible's and the terminal's ssh.
PASSED = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR",
    "TERM", "COLORTERM", "NO_COLOR", "SSH_AUTH_SOCK",
    "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR",
    "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONIOENCODING", "PYTHONUTF8", "PYTHONDONTWRITEBYTECODE",
})
PASSED_PREFIXES = ("LC_",)

# jumpdeck's own options a child may see: all but the ones that are, or may hold, a secret.
SECRET_OPTIONS = frozenset({"store_url"})
SECRET_VARIABLES = frozenset({f"{ENV_PREFIX}KEY", f"{ENV_PREFIX}STORE_URL", f"{ENV_PREFIX}SESSION_TOKEN"})
PASSED_OPTIONS = frozenset(f"{ENV_PREFIX}{name.upper()}" for name in OPTIONS if name not in SECRET_OPTIONS) | {
    f"{ENV_PREFIX}CONFIG", f"{ENV_PREFIX}HOME",
}


def passes(name: str) -> bool:
    """Whether a variable of this name may reach a child."""
    if name in SECRET_VARIABLES:
        return False
    return name in PASSED or name in PASSED_OPTIONS or name.startswith(PASSED_PREFIXES)


def child_environment(extra: Mapping[str, str] | None = None, *,
                      base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allow-listed part of `base` (this process's environment), with `extra` laid
    over it. `extra` is the caller's own choice (TERM for a PTY, ANSIBLE_* for a run)
    and is taken as given, except that it may not smuggle in a secret variable."""
    source = os.environ if base is None else base
    env = {name: value for name, value in source.items() if passes(name)}
    for name, value in (extra or {}).items():
        if name in SECRET_VARIABLES and name != f"{ENV_PREFIX}SESSION_TOKEN":
            raise ValueError(f"{name} is a secret and may not be put in a child's environment")
        env[name] = value
    return env
