"""Textual key names to the bytes an xterm sends, so remote programs see real keys."""

from __future__ import annotations

ESC = "\x1b"

# Cursor keys: the final letter; "application cursor keys" mode (DECCKM) swaps CSI for SS3.
_CURSOR = {"up": "A", "down": "B", "right": "C", "left": "D", "home": "H", "end": "F"}
# Keys sent as CSI n ~
_TILDE = {"insert": 2, "delete": 3, "pageup": 5, "pagedown": 6,
          "f5": 15, "f6": 17, "f7": 18, "f8": 19, "f9": 20, "f10": 21, "f11": 23, "f12": 24}
_SS3_F = {"f1": "P", "f2": "Q", "f3": "R", "f4": "S"}
_PLAIN = {"enter": "\r", "tab": "\t", "escape": ESC, "backspace": "\x7f", "space": " ",
          "shift+tab": ESC + "[Z", "ctrl+space": "\x00", "ctrl+at": "\x00",
          "ctrl+backslash": "\x1c", "ctrl+right_square_bracket": "\x1d",
          "ctrl+circumflex_accent": "\x1e", "ctrl+underscore": "\x1f", "ctrl+minus": "\x1f",
          "ctrl+h": "\x08", "ctrl+i": "\t", "ctrl+m": "\r", "ctrl+j": "\n"}
# xterm's modifier parameter: 1 + shift(1) + alt(2) + ctrl(4)
_MODIFIER_BITS = {"shift": 1, "alt": 2, "meta": 2, "ctrl": 4}


def _split(key: str) -> tuple[int, str]:
    parts = key.split("+")
    bits = 0
    while len(parts) > 1 and parts[0] in _MODIFIER_BITS:
        bits |= _MODIFIER_BITS[parts.pop(0)]
    return bits, "+".join(parts)


def key_to_bytes(key: str, character: str | None = None, *, app_cursor: bool = False) -> bytes | None:
    """The bytes for one key press, or None when the key means nothing to a terminal."""
    if key == "backspace" and character in ("\x08", "\x7f"):
        # Textual names both ^H and DEL "backspace": send the one the terminal sent, as
        # remote programs bound to ^H (emacs' help, stty erase ^H) tell them apart.
        return character.encode()
    if key in _PLAIN:
        return _PLAIN[key].encode()
    bits, base = _split(key)
    if base in _CURSOR:
        if bits:
            return f"{ESC}[1;{bits + 1}{_CURSOR[base]}".encode()
        return f"{ESC}{'O' if app_cursor else '['}{_CURSOR[base]}".encode()
    if base in _TILDE:
        suffix = f";{bits + 1}" if bits else ""
        return f"{ESC}[{_TILDE[base]}{suffix}~".encode()
    if base in _SS3_F:
        return (f"{ESC}[1;{bits + 1}{_SS3_F[base]}" if bits else f"{ESC}O{_SS3_F[base]}").encode()
    if bits == 4 and len(base) == 1 and base.isalpha():  # ctrl+a .. ctrl+z
        return bytes([ord(base.lower()) - 96])
    if bits & 2:  # alt/meta: ESC prefix, then the key without alt
        rest = key.replace("alt+", "").replace("meta+", "")
        inner = key_to_bytes(rest, character if character and character != ESC else None, app_cursor=app_cursor)
        if inner is None and len(base) == 1:
            inner = base.encode()
        return ESC.encode() + inner if inner else None
    if character:
        # Whatever text the terminal sent, as it sent it: not only what Python calls
        # printable. Joiners (ZWJ in emoji, ZWNJ in Persian), direction marks, soft
        # hyphens and private-use characters are format or unassigned to it, and a
        # remote program still needs them.
        return character.encode("utf-8", errors="replace")
    if len(base) == 1 and bits in (0, 1):
        return base.encode()
    return None


def paste_to_bytes(text: str, *, bracketed: bool) -> bytes:
    """A paste as the remote expects it: wrapped when it asked for bracketed paste (mode 2004)."""
    text = text.replace("\r\n", "\r").replace("\n", "\r")
    if bracketed:
        # A pasted end marker would let the text escape the bracket: drop it.
        text = text.replace(f"{ESC}[201~", "")
        return f"{ESC}[200~{text}{ESC}[201~".encode()
    return text.encode()
