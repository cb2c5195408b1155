"""Arbitrary text, bytes and numbers into every option of every `jumpdeck` command.

The commands and their options are read from the argparse tree, so a new command or
option is fuzzed the day it is added. Each command runs in-process (`main()`) against a
copy of one seeded home, many examples per home. Every run must end in exit code 0, 1
or 2 with no traceback, no "unexpected" sentence and no store refusal that
validation should have given first, and a refused command (exit 2)
leaves the store as it was; whatever a run wrote is whole rows.

JUMPDECK_FUZZ_EXAMPLES sets the examples per command (default 20: the whole file stays
well under two minutes on a 2-core machine).
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import io
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jumpdeck.tui.cli import main

EXAMPLES = int(os.environ.get("JUMPDECK_FUZZ_EXAMPLES", "20"))
# A hang guard, not a speed measure: a command that has not ended after this long is
# stuck, and faulthandler prints every thread's stack and ends the run.
HANG_GUARD_SECONDS = 300

# Commands that run until stopped or talk to the world: argparse still parses every
# generated argv (usage errors must be sentences too), but the command is not started.
PARSE_ONLY = {
    ("serve-ssh",): "serves sessions until stopped",
    ("ssh",): "opens an interactive SSH session to the destination",
    ("watch",): "checks the fleet until stopped",
}
# Flags that turn a one-shot command into a loop; left out so the command ends.
ENDLESS_FLAGS = {("watcher",): {"--daemon"}}
# Valid sizes are real work (5M rows is a benchmark); the fuzz keeps them small.
WORK_SIZES = {("demo-data",): {"rows": 300}}
# Options that name files: the fuzz gives a file of random bytes, or a fresh name, in
# its own directory; never a path outside it.
FILE_DESTS = {"file", "output", "key", "pubkey_file", "key_file", "backup_file", "identity", "host_key",
              "authorized_keys"}
# The store's own refusal (core/store/engine.py): what validation should have said first.
STORE_REFUSED = "refused the operation"
# Tables a refused run may still write (none today): left out of the "store unchanged" check.
VOLATILE_TABLES: set[str] = set()

SEEDED = ["db1", "kim", "root", "1", "single", "postgresql", "admin", "cache_size", "system_notice"]
ODD = ["", " ", "-", "--", "nan", "inf", "-inf", "1e309", "-1", "0", "99999999999999999999", "2026-02-30",
       "%", "_%_", "'; DROP TABLE servers; --", "[bold red]markup[/]", "\x1b[2J", "a\udcffb", "\udcff", "x" * 5000,
       "ü" * 200, "\u202e", "../../etc/passwd", "timeout=nan", "a=b=c"]
# Half the values are plausible for their option, so runs get past the first check and
# reach the deeper ones (and the store) with the other fields arbitrary.
PLAUSIBLE = {"name": ["db2", "kim2", "svc-a"], "host": ["127.0.0.1", "db.example"], "username": ["postgres"],
             "ip": ["10.0.0.9"], "server": ["db1"], "names": ["db1"], "template": ["single"], "date_from": ["2025-01-01"],
             "date_to": ["2026-12-31"], "key": ["system_notice", "cache_size"], "pairs": ["system_notice", "cache_size", "5"],
             "role": ["viewer"], "id": ["1"], "ssh_user": ["ops"], "ssh_port": ["22"], "port": ["5432"]}
TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=30)  # surrogates and NUL too
NUMBERS = st.one_of(st.integers(-10**20, 10**20).map(str), st.floats().map(repr))
VALUE = st.one_of(st.sampled_from(SEEDED), st.sampled_from(ODD), TEXT, NUMBERS)
STDIN = st.one_of(st.binary(max_size=200), st.sampled_from([b"", b"pw\n", b"p\0w\n", b"\xff\xfe\n", b"yes\n"]),
                  TEXT.map(lambda t: t.encode("utf-8", "surrogatepass") + b"\n"))


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]
    parser: argparse.ArgumentParser

    @property
    def id(self) -> str:
        return " ".join(self.path)


def commands() -> list[Command]:
    """Every command a user can run: each leaf of the argparse tree, and each group
    (which without a verb prints its help)."""
    from jumpdeck.tui.cli import build_parser

    found: list[Command] = []

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]  # no public walk
        if path:
            found.append(Command(path, parser))
        for group in groups:
            for name, child in group.choices.items():
                walk(child, (*path, name))

    walk(build_parser(), ())
    return found


COMMANDS = commands()


def _options(command: Command) -> list[argparse.Action]:
    return [a for a in command.parser._actions
            if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]


def _value(draw, command: Command, action: argparse.Action, files: Path) -> str:
    bound = WORK_SIZES.get(command.path, {}).get(action.dest)
    if bound is not None:
        return draw(st.one_of(st.integers(-5, bound).map(str), VALUE))
    if action.dest in FILE_DESTS:
        name = draw(TEXT).replace("/", "_").replace("\0", "_").lstrip(".") or "f"
        path = files / f"in-{name}"
        if draw(st.booleans()):
            with contextlib.suppress(OSError, UnicodeEncodeError):
                path.write_bytes(draw(st.binary(max_size=300)))
        return str(path)
    if action.choices:
        return draw(st.one_of(st.sampled_from(sorted(action.choices)), VALUE))
    return draw(st.one_of(st.sampled_from(PLAUSIBLE.get(action.dest, SEEDED)), VALUE))


@st.composite
def argv_for(draw, command: Command, files: Path) -> list[str]:
    argv = list(command.path)
    skipped = ENDLESS_FLAGS.get(command.path, set())
    for action in _options(command):
        if not action.option_strings:  # positional
            count = {None: 1, "?": draw(st.integers(0, 1)), "*": draw(st.integers(0, 2)),
                     "+": draw(st.integers(1, 3))}.get(action.nargs, 1)
            argv += [_value(draw, command, action, files) for _ in range(count)]
            continue
        flag = action.option_strings[-1]
        if flag in skipped or not (action.required or draw(st.booleans())):
            continue
        if action.nargs == 0:
            argv.append(flag)
        else:
            for _ in range(draw(st.integers(1, 2)) if isinstance(action, argparse._AppendAction) else 1):
                argv += [flag, _value(draw, command, action, files)]
    return argv


def store_rows(home: Path) -> dict[str, list[tuple]]:
    with contextlib.closing(sqlite3.connect(home / "store.db")) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: sorted(map(repr, db.execute(f'SELECT * FROM "{t}"'))) for t in tables if t not in VOLATILE_TABLES}


def assert_whole_rows(home: Path) -> None:
    """A server row is written complete or not at all: no row lacks what every face reads."""
    with contextlib.closing(sqlite3.connect(home / "store.db")) as db:
        for name, host, username, password, no_password in db.execute(
                "SELECT name, host, username, password_enc, no_password FROM servers"):
            # A password token, or the explicit "no password" of an account without one.
            assert name and host and username and (password or no_password), (name, host, username)
        for (name,) in db.execute("SELECT name FROM users"):
            assert name


@pytest.fixture(scope="module")
def seeded_home(tmp_path_factory) -> Path:
    """One home with a server (on a closed port), a second user and production data,
    copied for each command so commands that find something get fuzzed too."""
    home = tmp_path_factory.mktemp("fuzz-seed") / "home"
    with contextlib.redirect_stdout(io.StringIO()):
        for argv, stdin in ((["servers", "add", "--name", "db1", "--type", "postgresql", "--host", "127.0.0.1",
                              "--port", "1", "--user", "postgres", "--password-stdin"], "pw\n"),
                            (["users", "add", "kim", "--role", "operator"], ""),
                            (["demo-data", "--rows", "200"], "")):
            with _stdin(stdin.encode()):
                assert main(["--home", str(home), *argv]) == 0, argv
    return home


@contextlib.contextmanager
def _stdin(data: bytes):
    import sys

    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")  # strict, as a UTF-8 locale decodes
    try:
        yield
    finally:
        sys.stdin = saved


def run_in_process(home: Path, argv: list[str], stdin: bytes, *, parse_only: bool) -> tuple[int, str]:
    err = io.StringIO()
    faulthandler.dump_traceback_later(HANG_GUARD_SECONDS, exit=True)
    try:
        with _stdin(stdin), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                if parse_only:
                    from jumpdeck.tui.cli import build_parser, undecodable_argument

                    code = 2 if undecodable_argument(argv) else (build_parser().parse_args(argv) and 0)
                else:
                    code = main(["--home", str(home), *argv])
            except SystemExit as stop:
                code = stop.code
    finally:
        faulthandler.cancel_dump_traceback_later()
    return code, err.getvalue()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.id)
def test_no_traceback_from_any_input(command: Command, seeded_home: Path, tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    files = tmp_path / "files"
    files.mkdir()
    monkeypatch.chdir(files)  # a relative name an option writes lands here
    parse_only = command.path in PARSE_ONLY

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(argv=argv_for(command, files), stdin=STDIN)
    def one_input(argv: list[str], stdin: bytes) -> None:
        before = store_rows(home)
        code, err = run_in_process(home, argv, stdin, parse_only=parse_only)
        assert code in (0, 1, 2), (argv, code, err)
        assert "Traceback" not in err and "unexpected" not in err and "Exception ignored" not in err, (argv, err)
        assert STORE_REFUSED not in err, (argv, err)
        if code == 2:
            assert store_rows(home) == before, f"refused with exit 2 yet wrote to the store: {argv}"
        assert_whole_rows(home)

    one_input()


def test_every_command_is_fuzzed_or_says_why_not() -> None:
    """The lists above name real commands and options, so a rename cannot turn one off."""
    paths = {c.path for c in COMMANDS}
    assert {("servers", "add"), ("users", "add-key"), ("activity", "ls"), ("provision", "start")} <= paths
    for path in [*PARSE_ONLY, *ENDLESS_FLAGS, *WORK_SIZES]:
        assert path in paths, path
    by_path = {c.path: c for c in COMMANDS}
    for path, flags in ENDLESS_FLAGS.items():
        assert flags <= {s for a in _options(by_path[path]) for s in a.option_strings}
    for path, sizes in WORK_SIZES.items():
        assert set(sizes) <= {a.dest for a in _options(by_path[path])}
    dests = {a.dest for c in COMMANDS for a in _options(c)}
    assert FILE_DESTS <= dests, FILE_DESTS - dests
