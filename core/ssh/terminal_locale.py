"""What a jumpdeck terminal tells the remote side about its text: UTF-8, always.

The terminal widget encodes every key as UTF-8 and decodes output as UTF-8, whatever
jumpdeck's own locale is. The remote side must agree, or it takes multi-byte text apart:

- A shell in the POSIX locale reads `서` (3 bytes) as three 8-bit characters, and
  readline drops some of them (which ones depends on how fast the keys came), so
  `echo 서버 관리` ran as `echo 서  `. OpenSSH's client avoids this by sending LANG and
  LC_* (Debian's `SendEnv LANG LC_*`), which sshd accepts by default (`AcceptEnv LANG LC_*`):
  jumpdeck sends them too, with a UTF-8 character type when jumpdeck's own is not.
- A PTY without the IUTF8 mode erases one byte per backspace in cooked mode (`cat`, `read`,
  password prompts), leaving half a character behind: jumpdeck asks for IUTF8, as OpenSSH
  does from a UTF-8 terminal.

Only the standard locale categories are sent, and only values shaped like locale names:
people use other LC_ variables to carry data through ssh, and those stay here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# POSIX's categories plus glibc's; LC_ALL overrides them all, LANG is the default for each.
CATEGORIES = ("LC_ALL", "LC_CTYPE", "LC_NUMERIC", "LC_TIME", "LC_COLLATE", "LC_MONETARY",
              "LC_MESSAGES", "LC_PAPER", "LC_NAME", "LC_ADDRESS", "LC_TELEPHONE",
              "LC_MEASUREMENT", "LC_IDENTIFICATION")
FALLBACK_CTYPE = "C.UTF-8"  # in glibc since 2.35 and in Debian/Ubuntu/Fedora long before
_LOCALE_NAME = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_-]+)?(?:@[A-Za-z0-9_]+)?")
_UTF8 = re.compile(r"\.utf-?8(?:@|$)", re.IGNORECASE)
PTY_IUTF8 = 42  # RFC 8160's terminal mode opcode (asyncssh.constants.PTY_IUTF8)


def is_utf8(name: str) -> bool:
    return bool(_UTF8.search(name))


def remote_locale(environ: Mapping[str, str]) -> dict[str, str]:
    """The LANG and LC_* variables to send with a terminal session, their character type UTF-8."""
    sent = {name: environ[name] for name in ("LANG", *CATEGORIES)
            if _LOCALE_NAME.fullmatch(environ.get(name, ""))}
    if not is_utf8(_character_type(sent)):
        # LC_ALL would override a UTF-8 character type: its value becomes the default of
        # the other categories instead, so messages and dates keep the operator's choice.
        overriding = sent.pop("LC_ALL", None)
        if overriding is not None and "LANG" not in sent:
            sent["LANG"] = overriding
        if not is_utf8(_character_type(sent)):
            sent["LC_CTYPE"] = FALLBACK_CTYPE
    return sent


def _character_type(variables: Mapping[str, str]) -> str:
    """The LC_CTYPE a program sees, by POSIX's precedence."""
    return variables.get("LC_ALL") or variables.get("LC_CTYPE") or variables.get("LANG") or ""


def pty_modes() -> dict[int, int]:
    """The PTY modes to request: IUTF8, so erasing in cooked mode takes whole characters."""
    return {PTY_IUTF8: 1}
