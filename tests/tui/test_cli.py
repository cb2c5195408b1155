"""The command line: help for every subcommand, sentences instead of tracebacks, exit codes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def jd(*args: str, home: Path, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("JUMPDECK_")}
    full_env.update({"JUMPDECK_HOME": str(home), "USER": "root",
                     # A test that writes home/config.toml gets it; the others run on no file.
                     "JUMPDECK_CONFIG": str(home / "config.toml") if (home / "config.toml").exists() else os.devnull})
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "jumpdeck.tui.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          input=stdin, env=full_env, timeout=60)


def subcommands() -> list[list[str]]:
    from jumpdeck.tui.cli import build_parser

    parser = build_parser()
    found = []
    for action in parser._subparsers._group_actions:  # argparse offers no public walk
        for name, sub in action.choices.items():
            found.append([name])
            for sub_action in getattr(sub, "_subparsers", None)._group_actions if sub._subparsers else []:
                for verb in sub_action.choices:
                    found.append([name, verb])
    return found


def test_help_lists_subcommands_and_each_has_help(tmp_path) -> None:
    out = jd("--help", home=tmp_path)
    assert out.returncode == 0
    commands = subcommands()
    assert ["users", "ls"] in commands and ["settings", "set"] in commands and ["rotate-key"] in commands
    for command in commands:
        if len(command) == 1:
            assert command[0] in out.stdout
        result = jd(*command, "--help", home=tmp_path)
        assert result.returncode == 0 and "usage: jumpdeck" in result.stdout, command


def test_users_flow_and_json(tmp_path) -> None:
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kim@laptop", "-f", str(key)], check=True)
    assert jd("users", "add", "kim", "--role", "operator", "--key", str(key) + ".pub", home=tmp_path).returncode == 0
    listing = json.loads(jd("users", "ls", "--json", home=tmp_path).stdout)
    by_name = {u["name"]: u for u in listing}
    assert by_name["kim"]["role"] == "operator" and by_name["kim"]["keys"][0]["comment"] == "kim@laptop"
    assert jd("users", "set-role", "kim", "viewer", home=tmp_path).returncode == 0
    assert jd("users", "disable", "kim", home=tmp_path).stdout.strip() == "kim is now disabled (viewer)."
    missing = jd("users", "activate", "ghost", home=tmp_path)
    assert missing.returncode == 1 and "no user named 'ghost'" in missing.stderr and "Traceback" not in missing.stderr


def test_a_non_admin_gets_a_sentence_and_no_variable_makes_them_someone_else(tmp_path) -> None:
    """The identity is the OS account of the process: JUMPDECK_ACTOR, JUMPDECK_ORIGIN,
    USER and LOGNAME, set to the store's admin, change nothing."""
    import asyncio

    from jumpdeck.core.activity import ActivityFilter
    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import open_context
    from tests.conftest import os_user

    config = load_config(cli={"home": str(tmp_path)}, env={"JUMPDECK_CONFIG": os.devnull})

    async def first_admin() -> None:
        ctx = await open_context(config, user="boss")  # in-process: the store's first user, admin
        ctx.close()

    asyncio.run(first_admin())
    forged = {"JUMPDECK_ACTOR": "boss", "JUMPDECK_ORIGIN": "ssh:203.0.113.9", "USER": "boss", "LOGNAME": "boss"}
    out = jd("users", "set-role", os_user(), "admin", home=tmp_path, env=forged)
    assert out.returncode == 1 and "waiting for an administrator's approval" in out.stderr, out.stderr

    async def log() -> list:
        ctx = await open_context(config, user="boss")
        try:
            users = {u.name: u for u in await ctx.users.list(ctx.actor)}
            return users, (await ctx.activity.page(ctx.actor, ActivityFilter(), limit=50)).entries
        finally:
            ctx.close()

    users, entries = asyncio.run(log())
    assert users[os_user()].role.value == "viewer" and users[os_user()].status.value == "pending"
    assert not [e for e in entries if "203.0.113.9" in e.origin]
    assert any(e.actor == os_user() and e.action == "REGISTER" for e in entries)


@pytest.mark.parametrize(
    "args, env, needle",
    [
        (["users", "ls"], {"JUMPDECK_CHECK_TIMEOUT": "soon"}, "JUMPDECK_CHECK_TIMEOUT"),
        (["settings", "set", "cache_ttl", "forever"], {}, "cache_ttl"),
        (["settings", "set", "cache_ttl"], {}, "pairs"),
        (["users", "add", "x"], {}, "--role"),
        (["nonsense"], {}, "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_one_sentence(tmp_path, args, env, needle) -> None:
    out = jd(*args, home=tmp_path, env=env)
    assert out.returncode == 2 and needle in out.stderr and "Traceback" not in out.stderr


def test_bad_config_file_when_opening_the_app(tmp_path) -> None:
    (tmp_path / "config.toml").write_text("runner = 'docker'\n")
    out = jd(home=tmp_path)
    assert out.returncode == 2 and "config.toml" in out.stderr and "ansible or mock" in out.stderr


def test_settings_roundtrip_and_activity_json(tmp_path) -> None:
    assert jd("settings", "set", "maintenance_mode", "on", "cache_size", "50", home=tmp_path).returncode == 0
    got = json.loads(jd("settings", "get", "--json", home=tmp_path).stdout)
    assert got["maintenance_mode"] is True and got["cache_size"] == 50
    lines = [json.loads(line) for line in jd("activity", "ls", "--json", "--action", "update", home=tmp_path).stdout.splitlines()]
    assert lines and lines[0]["target_type"] == "SETTINGS" and "cache_size" in lines[0]["detail"]


def test_unreachable_store_without_a_snapshot_stops_with_exit_2(tmp_path) -> None:
    out = jd("users", "ls", home=tmp_path, env={"JUMPDECK_STORE_URL": "postgresql://ops:pw123@127.0.0.1:1/x"})
    assert out.returncode == 2 and "no snapshot of it yet" in out.stderr and "pw123" not in out.stderr
    assert "Traceback" not in out.stderr and not list(tmp_path.rglob("*.db"))


def test_rotate_key(tmp_path) -> None:
    out = jd("rotate-key", home=tmp_path)
    assert out.returncode == 0 and "Re-encrypted 0 secret(s)" in out.stdout


def test_pool_ssh_password_from_stdin_is_stored_encrypted(tmp_path) -> None:
    home = tmp_path / "h"
    canary = "cnry-pool-7f3a91"
    out = jd("pool", "add", "--name", "pw-01", "--ip", "10.1.2.3", "--ssh-password-stdin", home=home, stdin=canary + "\n")
    assert out.returncode == 0, out.stderr
    assert "stored encrypted" in out.stdout and canary not in out.stdout + out.stderr
    empty = jd("pool", "passwd", "pw-01", "--password-stdin", home=home, stdin="\n")
    assert empty.returncode != 0 and "The password is empty." in empty.stderr and "Traceback" not in empty.stderr
    assert jd("pool", "passwd", "nope", "--password-stdin", home=home, stdin="x\n").returncode != 0
    cleared = jd("pool", "passwd", "pw-01", "--clear", home=home)
    assert cleared.returncode == 0 and "Cleared" in cleared.stdout
    stored = [p for p in home.rglob("*") if p.is_file() and canary.encode() in p.read_bytes()]
    assert stored == []
    log = jd("activity", "ls", "--json", home=home)
    assert log.returncode == 0 and "POOL_PASSWORD" in log.stdout and "SSH password stored" in log.stdout
    assert canary not in log.stdout


@pytest.mark.parametrize("url, says", [
    ("notaurl", "is not a database URL"),
    ("mysql://root@127.0.0.1/x", "names mysql"),
])
def test_a_store_url_that_cannot_be_a_store_stops_with_exit_2_and_writes_nothing(tmp_path, url, says) -> None:
    """A typo must not send the team's writes to a local file: one sentence, exit 2."""
    out = jd("--store-url", url, "servers", "ls", home=tmp_path)
    assert out.returncode == 2, out.stderr
    assert says in out.stderr and "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "store.db").exists() and not (tmp_path / "secret.key").exists()


def test_a_store_that_refuses_the_user_is_a_configuration_error(tmp_path, pg_url) -> None:
    refused = pg_url.replace("postgres@", "no_such_role_here@", 1)
    out = jd("--store-url", refused, "users", "ls", home=tmp_path)
    assert out.returncode == 2, out.stderr
    assert 'role "no_such_role_here" does not exist' in out.stderr and "degraded" not in out.stderr
    assert not (tmp_path / "store.db").exists()


def test_activity_export_writes_the_matching_range_whole_and_private(tmp_path) -> None:
    import csv
    import json as jsonlib

    home = tmp_path / "home"
    assert jd("users", "ls", home=home).returncode == 0  # the first entry: REGISTER
    out = jd("activity", "export", "-o", str(tmp_path / "log.csv"), home=home)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert rows and rows[-1]["action"] == "REGISTER"
    assert (tmp_path / "log.csv").stat().st_mode & 0o777 == 0o600
    assert jd("activity", "export", "-o", str(tmp_path / "log.json"), "--since", "2000-01-01", home=home).returncode == 0
    assert [r["action"] for r in jsonlib.loads((tmp_path / "log.json").read_text())] == [r["action"] for r in rows]
    future = jd("activity", "export", "-o", str(tmp_path / "none.json"), "--since", "2999-01-01", home=home)
    assert future.returncode == 0 and jsonlib.loads((tmp_path / "none.json").read_text()) == []
    backwards = jd("activity", "ls", "--since", "2026-12-05", "--until", "2026-12-01", home=home)
    assert backwards.returncode == 2 and "ends before it starts" in backwards.stderr
    nowhere = jd("activity", "export", "-o", str(tmp_path / "no" / "such" / "dir.csv"), home=home)
    assert nowhere.returncode == 1 and "could not be written" in nowhere.stderr
    assert not list((tmp_path / "no").glob("**/*")) if (tmp_path / "no").exists() else True
