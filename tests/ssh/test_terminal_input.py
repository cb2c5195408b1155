"""Typed input reaches the remote shell whole and in order, through the real sshd.

Keys are made the way the app gets them: the bytes an operator's terminal sends go
through Textual's own input parser, and the resulting events are posted to the app,
either one at a time (a pause after each) or all at once (a burst, as a lagging link or
an input method committing several characters delivers them). The remote side writes
what it received into a file, which the test reads back byte for byte.
"""

from __future__ import annotations

import pytest
from textual import events
from textual._xterm_parser import XTermParser

from tests.ssh.conftest import target_for
from tests.ssh.test_terminal_input_bytes import MODIFIED, TEXTS
from tests.ssh.test_terminal_widget import PaneApp, screen_text, wait_for

KEY_GAP = 0.03  # "one key at a time": the app settles between keys
LATER = 0.7  # "typed a moment later": longer than readline's 500 ms key-sequence timeout


def _parsed(data: str) -> list[events.Event]:
    return list(XTermParser().feed(data))


async def type_text(pilot, data: str, *, burst: bool = False) -> None:
    """Post the events Textual makes of `data`, as its driver posts them."""
    for event in _parsed(data):
        pilot.app.post_message(event)
        if not burst:
            await pilot.pause(KEY_GAP)
    await pilot.pause()


async def read_back(pilot, path, ending: bytes = b"\n") -> bytes:
    await wait_for(pilot, lambda: path.exists() and path.read_bytes().endswith(ending))
    return path.read_bytes()


async def live(pilot, app: PaneApp) -> None:
    await wait_for(pilot, lambda: app.pane.state == "live")
    # The first prompt: keys typed before it still arrive, but a test reads nicer after it.
    await type_text(pilot, "echo shell-ready\r", burst=True)
    await wait_for(pilot, lambda: "\nshell-ready" in screen_text(app.pane.terminal))


@pytest.mark.parametrize("burst", [False, True], ids=["key by key", "burst"])
async def test_hangul_typed_runs_whole(trusted_locale, sshd_locale, tmp_path, burst):
    """The issue's first case: `echo 서버 관리` ran as `echo 서버 관`."""
    out = tmp_path / "out"
    app = PaneApp(target_for(sshd_locale), trusted_locale)
    async with app.run_test(size=(100, 30)) as pilot:
        await live(pilot, app)
        await type_text(pilot, f"echo 서버 관리 > {out}\r", burst=burst)
        assert (await read_back(pilot, out)).decode() == "서버 관리\n"


async def test_hangul_typed_a_moment_after_a_quote(trusted_locale, sshd_locale, tmp_path):
    """The issue's second case: `echo "`, then `서버"` a moment later, ran `echo ""`."""
    out = tmp_path / "out"
    app = PaneApp(target_for(sshd_locale), trusted_locale)
    async with app.run_test(size=(100, 30)) as pilot:
        await live(pilot, app)
        await type_text(pilot, 'echo "')
        await pilot.pause(LATER)
        await type_text(pilot, f'서버" > {out}\r')
        assert (await read_back(pilot, out)).decode() == "서버\n"


async def test_every_script_typed_into_cat_arrives_whole(trusted_locale, sshd_locale, tmp_path):
    out = tmp_path / "out"
    lines = list(TEXTS.values())
    app = PaneApp(target_for(sshd_locale), trusted_locale)
    async with app.run_test(size=(100, 30)) as pilot:
        await live(pilot, app)
        await type_text(pilot, f"cat > {out}\r", burst=True)
        for number, line in enumerate(lines):
            await type_text(pilot, line + "\r", burst=number % 2 == 0)
        await type_text(pilot, "\x04")
        text = (await read_back(pilot, out, (lines[-1] + "\n").encode())).decode()
        assert text.splitlines() == lines


async def test_a_bracketed_paste_arrives_whole(trusted_locale, sshd_locale, tmp_path):
    out = tmp_path / "out"
    pasted = " ".join(TEXTS[name] for name in ("hangul", "cjk", "emoji with joiners and selectors",
                                               "combining marks"))
    app = PaneApp(target_for(sshd_locale), trusted_locale)
    async with app.run_test(size=(120, 30)) as pilot:
        await live(pilot, app)
        assert app.pane.terminal.emulator.screen.bracketed_paste  # bash asked for it (mode 2004)
        await type_text(pilot, f"\x1b[200~printf '%s\\n' '{pasted}' > {out}\x1b[201~", burst=True)
        await type_text(pilot, "\r")
        assert (await read_back(pilot, out)).decode() == pasted + "\n"


# An input method without on-the-spot preedit sends each composing step and takes it
# back with a backspace. ㅅ ㅓ ㅂ ㅓ ㅅ ㅓ on a 2-set keyboard: ㅅ, 서, 섭, then the last
# ㅓ takes ㅂ over into a new syllable (섭 becomes 서버), and so on.
IME_STEPS = "ㅅ\x7f서\x7f섭\x7f서버ㅅ\x7f서"
IME_RESULT = "서버서"


async def test_input_method_steps_leave_whole_characters(trusted_locale, sshd_locale, tmp_path):
    """In cooked mode the PTY erases (IUTF8): a backspace must take a whole character back."""
    cooked, edited = tmp_path / "cooked", tmp_path / "edited"
    app = PaneApp(target_for(sshd_locale), trusted_locale)
    async with app.run_test(size=(100, 30)) as pilot:
        await live(pilot, app)
        await type_text(pilot, f"cat > {cooked}\r", burst=True)
        await type_text(pilot, IME_STEPS + "\r")
        await type_text(pilot, "\x04")
        assert (await read_back(pilot, cooked)).decode() == IME_RESULT + "\n"
        # readline edits the line itself: the same steps there.
        await type_text(pilot, f"echo {IME_STEPS} > {edited}\r", burst=True)
        assert (await read_back(pilot, edited)).decode() == IME_RESULT + "\n"


async def test_keys_with_modifiers_arrive_as_xterm_sends_them(trusted_locale, sshd_locale, tmp_path):
    """In raw mode the remote side gets every byte: arrows, function keys and
    editing keys with shift/alt/ctrl, ctrl and alt combinations, ^C and ^H included."""
    out = tmp_path / "out"
    keys = [*MODIFIED, "\x01", "\x03", "\x08", "\x7f", "\x1f", "\t", "\r"]
    expected = "".join(keys).encode()
    alt = [events.Key("alt+x", "x"), events.Key("alt+서", "서"), events.Key("ctrl+alt+a", "\x01")]
    expected += b"\x1bx" + "\x1b서".encode() + b"\x1b\x01"
    app = PaneApp(target_for(sshd_locale), trusted_locale)
    async with app.run_test(size=(100, 30)) as pilot:
        await live(pilot, app)
        await type_text(pilot, f"stty raw -echo; echo raw-READY; head -c {len(expected)} > {out}; stty sane\r",
                        burst=True)
        await wait_for(pilot, lambda: "\nraw-READY" in screen_text(app.pane.terminal))
        for sequence in keys:
            await type_text(pilot, sequence, burst=True)  # one parser read per key, as a terminal sends it
        for key in alt:
            app.post_message(key)
        await pilot.pause()
        await wait_for(pilot, lambda: out.exists() and len(out.read_bytes()) >= len(expected))
        assert out.read_bytes() == expected


async def test_keys_arrive_in_order_while_output_floods(trusted_locale, sshd_locale, tmp_path):
    """Typed while the terminal is busy drawing: Hangul still arrives whole and in order."""
    out = tmp_path / "out"
    app = PaneApp(target_for(sshd_locale), trusted_locale)
    async with app.run_test(size=(100, 30)) as pilot:
        await live(pilot, app)
        await type_text(pilot, f"seq 1 100000; cat > {out}\r", burst=True)
        await type_text(pilot, TEXTS["hangul"] + " " + TEXTS["cjk"] + "\r", burst=True)
        await type_text(pilot, "\x04")
        expected = (TEXTS["hangul"] + " " + TEXTS["cjk"] + "\n").encode()
        await wait_for(pilot, lambda: out.exists() and out.read_bytes().endswith(b"\n"), 30)
        assert out.read_bytes() == expected


async def test_keys_typed_while_the_shell_opens_arrive_first(trusted_locale, sshd_locale, tmp_path):
    """Typed ahead of a slow login (`jumpdeck ssh host`, then a command at once): the keys
    wait for the shell instead of going nowhere."""
    out = tmp_path / "out"
    app = PaneApp(target_for(sshd_locale), trusted_locale)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.pane.state != "live"
        await type_text(pilot, f"echo 서버 관리 > {out}\r", burst=True)
        assert (await read_back(pilot, out)).decode() == "서버 관리\n"
