"""The parts of serve-ssh that need no network: host key, authorized_keys import,
the session table's limits, the CLI's argument checks."""

from __future__ import annotations

import stat
import subprocess

import pytest

from jumpdeck.core.errors import ConfigError, Conflict, NotFound
from jumpdeck.core.identity import Role
from jumpdeck.core.serve.authorized_keys import import_authorized_keys, parse_authorized_keys
from jumpdeck.core.serve.hostkey import load_or_create_host_key
from jumpdeck.core.serve.sessions import SessionLimits, SessionTable


def test_host_key_is_made_once_0600_and_reused(tmp_path):
    path = tmp_path / "k" / "host_key"
    key, created = load_or_create_host_key(path)
    assert created and key.algorithm == b"ssh-ed25519"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created_again = load_or_create_host_key(path)
    assert not created_again
    assert again.get_fingerprint() == key.get_fingerprint()


def test_host_key_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "host_key"
    load_or_create_host_key(path)
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_or_create_host_key(path)


def _keygen(tmp_path, comment: str) -> str:
    path = tmp_path / comment.replace("@", "_")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


async def test_authorized_keys_import_creates_attaches_and_skips(ctx, tmp_path):
    await ctx.users.add(ctx.actor, "kim", Role.OPERATOR)
    kim, new, bare = _keygen(tmp_path, "kim@laptop"), _keygen(tmp_path, "choi"), _keygen(tmp_path, "x")
    bare = " ".join(bare.split()[:2])  # no comment: nobody to give it to
    text = f"# team keys\n{kim}\nfrom=\"127.0.0.1\" {new}\n{bare}\nnot a key\n"
    path = tmp_path / "authorized_keys"
    path.write_text(text)

    results = await import_authorized_keys(ctx.users, ctx.actor, path, role=Role.VIEWER)
    outcomes = {r.line_no: (r.user, r.outcome) for r in results}
    assert outcomes[2] == ("kim", "added")
    assert outcomes[3] == ("choi", "created user (viewer)")
    assert outcomes[4][1].startswith("skipped:") and "no comment" in outcomes[4][1]
    assert outcomes[5][1].startswith("skipped:")
    users = {u.name: u for u in await ctx.users.list(ctx.actor)}
    assert users["choi"].role is Role.VIEWER and len(users["kim"].keys) == 1

    again = await import_authorized_keys(ctx.users, ctx.actor, path)
    assert {r.outcome for r in again if r.user} == {"already there"}
    page = await ctx.activity.page(ctx.actor)
    assert {"ADD_KEY", "CREATE"} <= {e.action for e in page.entries}


def test_parse_authorized_keys_reports_lines():
    parsed = parse_authorized_keys("garbage\n", source="f")
    assert parsed[0][0] == 1 and parsed[0][1] is None


def test_session_table_limits_and_sentences():
    table = SessionTable(SessionLimits(max_sessions=3, max_per_user=2, idle_timeout=0))
    a = table.open("kim", "127.0.0.1", "SHA256:a", lambda reason: None)
    table.open("kim", "127.0.0.1", "SHA256:a", lambda reason: None)
    with pytest.raises(Conflict, match="limit is 2"):
        table.open("kim", "127.0.0.1", "SHA256:a", lambda reason: None)
    table.open("lee", "127.0.0.2", "SHA256:b", lambda reason: None)
    with pytest.raises(Conflict, match="3 of 3 sessions"):
        table.open("park", "127.0.0.3", "SHA256:c", lambda reason: None)
    assert table.idle_beyond_limit() == []  # 0 = never
    table.close(a.id)
    assert [s.user for s in table.list()] == ["kim", "lee"]
    with pytest.raises(NotFound):
        table.get(a.id)


def test_session_json_round_trip():
    table = SessionTable(SessionLimits())
    table.open("kim", "127.0.0.1", "SHA256:a", lambda reason: None)
    live = table.list()[0]
    from jumpdeck.core.serve.sessions import LiveSession

    assert LiveSession.from_json(live.to_json()).user == "kim"


@pytest.mark.parametrize("argv", [["serve-ssh", "--listen", "nohost"], ["serve-ssh", "--max-sessions", "0"],
                                  ["serve-ssh", "--idle-timeout", "-1"], ["serve-ssh", "--max-unauthenticated", "0"],
                                  ["serve-ssh", "--login-grace", "-5"], ["serve-ssh", "--login-failures", "-1"],
                                  ["serve-ssh", "--penalty-max", "soon"]])
def test_cli_usage_errors_exit_2(argv, capsys):
    from jumpdeck.tui.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
