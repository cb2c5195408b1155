"""The hostile pass of issue #20, one test per kind of input that once ended in a
traceback: each now ends in one sentence and its exit code, and refuses before writing.

In-process through `main()` where only the input matters; through a real process where
the operating system is the input (a closed pipe, /dev/full, no terminal, argv bytes).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jumpdeck.core.errors import ValidationError
from jumpdeck.tui.cli import main

ROOT = Path(__file__).resolve().parents[2]
NOT_UTF8 = "a\udcffb"  # how Python hands over the argument bytes b"a\xffb"


@pytest.fixture
def jd(tmp_path, monkeypatch, capsys):
    """Run the CLI in-process against a temp home; returns (exit code, stdout, stderr).
    `stdin` is bytes, decoded strictly as UTF-8 as a UTF-8 locale does."""
    home = str(tmp_path / "home")

    def run(*argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        try:
            code = main(["--home", home, *argv])
        except SystemExit as stop:
            code = stop.code
        out = capsys.readouterr()
        assert "Traceback" not in out.err and "unexpected" not in out.err, out.err
        return code, out.out, out.err

    return run


def one_sentence(err: str) -> bool:
    lines = [line for line in err.splitlines() if line.startswith("jumpdeck:")]
    return len(lines) == 1


def process(args: list, *, home: Path, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMPDECK_")}
    env.update({"JUMPDECK_HOME": str(home), "JUMPDECK_CONFIG": os.devnull})
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run([sys.executable, "-m", "jumpdeck.tui.cli", *args], cwd=ROOT, stderr=subprocess.PIPE,
                          env=env, timeout=120, **kwargs)


# --- core: the rules every face meets -------------------------------------------------


def test_core_text_checks_refuse_surrogates_nul_and_nan() -> None:
    from jumpdeck.core.text_checks import finite_number, storable_text

    assert storable_text("Grüße\n", label="name") == "Grüße\n"
    with pytest.raises(ValidationError, match="not UTF-8 text"):
        storable_text(NOT_UTF8, label="name")
    with pytest.raises(ValidationError, match="NUL"):
        storable_text("a\0b", label="password")
    for value in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(ValidationError, match="finite"):
            finite_number(value, label="timeout")
    assert finite_number(2.5, label="timeout") == 2.5


def test_registry_refuses_a_nul_password_and_undecodable_fields() -> None:
    from jumpdeck.core.secrets import Secret
    from jumpdeck.core.servers.registry import ServerSpec, validate

    base = dict(name="db1", db_type="postgresql", host="127.0.0.1", username="postgres")
    with pytest.raises(ValidationError, match="password cannot contain a NUL") as info:
        validate(ServerSpec(**base, password=Secret("p\0x")), creating=True)
    assert "p\0x" not in str(info.value)
    for field in ("name", "description", "username", "group"):
        with pytest.raises(ValidationError, match="not UTF-8") as info:
            validate(ServerSpec(**{**base, field: NOT_UTF8}, password=Secret("pw")), creating=True)
        assert info.value.field == field


async def test_settings_refuse_nan_and_undecodable_notices(ctx) -> None:
    before = await ctx.settings.get()
    with pytest.raises(ValidationError, match="finite"):
        await ctx.settings.set(ctx.actor, {"monitor_timeout": "nan"})
    with pytest.raises(ValidationError, match="not UTF-8"):
        await ctx.settings.set(ctx.actor, {"system_notice": NOT_UTF8})
    with pytest.raises(ValidationError, match="NUL"):
        await ctx.settings.set(ctx.actor, {"system_notice": "down\0tonight"})
    assert (await ctx.settings.get()).values == before.values


@pytest.mark.parametrize("text", ["a\udcffb", "a\0b", "nan", "inf", "x" * 5000, "99999999999999999999", " "])
def test_every_setting_parses_hostile_text_into_a_value_or_a_sentence(text) -> None:
    """What the settings dialog and `settings set` both hand to each setting."""
    import math

    from jumpdeck.core.settings import SETTING_SPECS

    for spec in SETTING_SPECS.values():
        try:
            value = spec.parse(text)
        except ValidationError as error:
            assert error.field == spec.key
            continue
        assert not isinstance(value, float) or math.isfinite(value), spec.key
        assert not isinstance(value, str) or ("\0" not in value and "\udcff" not in value), spec.key


async def test_activity_filter_over_the_limit_is_a_sentence_not_a_store_error(ctx) -> None:
    from jumpdeck.core.activity import ActivityFilter

    with pytest.raises(ValidationError, match="limited to 500 characters"):
        await ctx.activity.page(ctx.actor, ActivityFilter(text="x" * 100_000))
    assert (await ctx.activity.page(ctx.actor, ActivityFilter(text="x" * 500))).entries == []


def test_public_key_files_that_are_binary_or_hold_nul(tmp_path) -> None:
    from jumpdeck.core.users import read_public_key_file

    binary = tmp_path / "random.pub"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ValidationError, match="not text"):
        read_public_key_file(str(binary))
    nul = tmp_path / "nul.pub"
    nul.write_text("ssh-ed25519 AAAA\0 x\n")
    with pytest.raises(ValidationError, match="NUL"):
        read_public_key_file(str(nul))


# --- the CLI, in-process --------------------------------------------------------------


@pytest.mark.parametrize("option", ["--name", "--description", "--host", "--user", "--group"])
def test_undecodable_argument_is_one_sentence_and_nothing_is_stored(jd, option) -> None:
    values = {"--name": "db1", "--host": "127.0.0.1", "--user": "postgres"}
    values[option] = NOT_UTF8
    argv = [part for key, value in values.items() for part in (key, value)]
    if option in ("--description", "--group"):
        argv += [option, NOT_UTF8]
    code, _, err = jd("servers", "add", "--type", "postgresql", *argv, "--password-stdin", stdin=b"pw\n")
    assert code == 2 and one_sentence(err) and f"value of {option} holds bytes that are not UTF-8" in err
    assert jd("servers", "ls", "--json")[1].strip() == "[]"


@pytest.mark.parametrize("argv", [["users", "add", NOT_UTF8, "--role", "viewer"], ["users", "activate", NOT_UTF8],
                                  ["settings", "set", "system_notice", NOT_UTF8], ["activity", "ls", "--actor", NOT_UTF8],
                                  ["servers", "rm", NOT_UTF8]])
def test_undecodable_names_and_notices(jd, argv) -> None:
    code, _, err = jd(*argv)
    assert code == 2 and one_sentence(err) and "not UTF-8 text" in err


@pytest.mark.parametrize("stdin, needle", [(b"p\xffw\n", "not UTF-8 text"), (b"p\0x\n", "cannot contain a NUL")])
def test_a_password_on_stdin_that_no_driver_could_use(jd, stdin, needle) -> None:
    code, _, err = jd("servers", "add", "--name", "db1", "--type", "postgresql", "--host", "127.0.0.1",
                      "--user", "postgres", "--password-stdin", stdin=stdin)
    assert code == 2 and one_sentence(err) and needle in err
    assert jd("servers", "ls", "--json")[1].strip() == "[]"
    code, _, err = jd("pool", "add", "--name", "vm1", "--ip", "10.0.0.5", "--ssh-password-stdin", stdin=stdin)
    assert code == 2 and needle in err
    assert json.loads(jd("pool", "ls", "--json")[1]) == []


def test_activity_text_of_100k_characters(jd) -> None:
    code, _, err = jd("activity", "ls", "--text", "x" * 100_000)
    assert code == 2 and one_sentence(err) and "limited to 500 characters" in err


@pytest.mark.parametrize("name, content, needle", [
    ("random.json", bytes(range(256)) * 8, "not UTF-8 text"),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nests its JSON too deeply"),
    ("huge.csv", b'name,host\n"' + b"x" * 200_000 + b'",h\n', "not a readable CSV file"),
])
def test_servers_import_of_binary_or_deep_files(jd, tmp_path, name, content, needle) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    code, _, err = jd("servers", "import", str(path))
    assert code == 2 and one_sentence(err) and needle in err


def test_users_add_key_of_random_bytes(jd, tmp_path) -> None:
    path = tmp_path / "key.pub"
    path.write_bytes(os.urandom(4096).replace(b"\n", b"") + b"\xff")
    jd("users", "ls")  # the first user, admin
    code, _, err = jd("users", "add-key", "root", str(path))
    assert code == 2 and one_sentence(err) and "not text" in err


@pytest.mark.parametrize("argv, needle", [
    (["provision", "start", "single", "--name", "svc", "--option", "timeout=nan"], "finite"),
    (["settings", "set", "monitor_timeout", "nan"], "finite"),
    (["watcher", "--daemon", "--interval", "nan"], "give 1 to 86400 seconds"),
    (["provision", "cancel", "1", "--wait", "inf"], "give 0 to 3600 seconds"),
    (["serve-ssh", "--idle-timeout", "nan"], "is not 0 or more seconds"),
    (["provision", "teardown", "99999999999999999999"], "give 1 to 9223372036854775807"),  # found by the fuzz
    (["pool", "add", "--name", "vm1", "--ip", "10.0.0.5", "--ssh-port", "1e3"], "not a port number"),
])
def test_nan_infinite_and_oversized_numbers(jd, argv, needle) -> None:
    code, _, err = jd(*argv)
    assert code == 2 and one_sentence(err) and needle in err


# --- the CLI as a real process: what the operating system hands it -------------------


def test_undecodable_argv_bytes_in_a_real_process(tmp_path) -> None:
    out = process([b"users", b"add", b"caf\xe9", b"--role", b"viewer"], home=tmp_path)
    err = out.stderr.decode()
    assert out.returncode == 2 and "not UTF-8 text" in err and "Traceback" not in err


def test_a_closed_pipe_ends_quietly(tmp_path) -> None:
    """`jumpdeck servers ls | true`: the reader is gone before the first write."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        out = process(["servers", "ls"], home=tmp_path, stdout=write_end)
    finally:
        os.close(write_end)
    assert out.returncode == 141 and out.stderr == b""


def test_a_pipe_closed_after_the_first_line(tmp_path) -> None:
    """`jumpdeck report daily ... | head -1`, over more than one write of output."""
    assert process(["demo-data", "--rows", "3000"], home=tmp_path).returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMPDECK_")}
    env.update({"JUMPDECK_HOME": str(tmp_path), "JUMPDECK_CONFIG": os.devnull})
    jumpdeck = subprocess.Popen([sys.executable, "-m", "jumpdeck.tui.cli", "report", "daily", "--from", "2025-01-01",
                                 "--to", "2026-12-31", "--json"],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert jumpdeck.stdout.read(1) == b"["
    jumpdeck.stdout.close()  # as head does after its line
    err = jumpdeck.stderr.read()
    # 141 when a write met the closed pipe; 0 when all of it was written before the close.
    assert jumpdeck.wait(timeout=120) in (0, 141) and err == b""


def test_output_to_dev_full_is_one_sentence(tmp_path) -> None:
    with open("/dev/full", "wb") as full:
        out = process(["servers", "ls", "--json"], home=tmp_path, stdout=full)
    err = out.stderr.decode()
    assert out.returncode == 1 and "cannot write the output: No space left on device" in err
    assert "Traceback" not in err and "Exception ignored" not in err


def test_the_app_without_a_terminal_says_which_commands_to_use(tmp_path) -> None:
    out = process([], home=tmp_path)  # stdin /dev/null, stdout a pipe: cron
    err = out.stderr.decode()
    assert out.returncode == 2 and "needs a terminal" in err and "jumpdeck check" in err and one_sentence(err)
    assert out.stdout == b""  # not a single escape sequence of a drawn screen


# --- the Activity screen's search field (a screen's field, not a dialog's) -------------


async def test_the_activity_search_shows_core_s_sentence_for_a_filter_it_refuses(tmp_path) -> None:
    from textual.widgets import Input, Static

    from jumpdeck.core.config import load_config
    from jumpdeck.tui.app import JumpdeckApp
    from tests.tui.conftest import booted, prepare_store

    config = load_config(cli={"home": str(tmp_path / "home")})
    await prepare_store(config)
    app = JumpdeckApp(config, user="admin", start_mode="activity")
    async with app.run_test(size=(120, 40)) as pilot:
        await booted(pilot)
        app.screen.query_one("#f-text", Input).value = NOT_UTF8
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = str(app.screen.query_one("#activity-status", Static).render())
        assert app.is_running and "not UTF-8 text" in status
        assert app.screen.query_one("#f-text", Input).max_length == 500  # no longer than core takes
