"""`jumpdeck servers add/edit/import/export --no-password` and `jumpdeck check` on such
servers, through `main()`, against the real PostgreSQL (trust) and MariaDB (root, empty
password)."""

from __future__ import annotations

import json

from jumpdeck.core.servers.values import PASSWORD_UNASKED
from tests.tui.test_cli_servers import jd  # noqa: F401


def _servers(jd) -> dict[str, dict]:  # noqa: ANN001
    return {s["name"]: s for s in json.loads(jd("servers", "ls", "--json")[1])}


def test_add_no_password_then_check_says_online_and_unasked(jd, pg_url, mysql_url) -> None:
    code, out, err = jd("servers", "add", "--name", "pg-trust", "--type", "postgresql", "--host", "127.0.0.1",
                        "--user", "postgres", "--no-password")
    assert code == 0, err
    code, _, err = jd("servers", "add", "--name", "maria-root", "--type", "mysql", "--host", "127.0.0.1",
                      "--user", "root", "--no-password")
    assert code == 0, err
    assert all(s["no_password"] for s in _servers(jd).values())
    code, out, err = jd("check", "--json")
    assert code == 0, out + err
    results = {r["name"]: r for r in map(json.loads, out.splitlines())}
    assert {r["status"] for r in results.values()} == {"online"}
    assert all(r["password_unasked"] for r in results.values())


def test_an_empty_password_without_the_flag_is_refused_naming_it(jd) -> None:
    code, _, err = jd("servers", "add", "--name", "pg-trust", "--type", "postgresql", "--host", "127.0.0.1",
                      "--user", "postgres", "--password-stdin", stdin="\n")
    assert code == 2 and "--no-password" in err and "Traceback" not in err
    assert err.strip().count("\n") == 0  # one line: the sentence and its remedy
    # Not piped and not at a terminal: the CLI's own refusal names the flag too.
    code, _, err = jd("servers", "add", "--name", "pg-trust", "--type", "postgresql", "--host", "127.0.0.1",
                      "--user", "postgres")
    assert code == 2 and "--no-password" in err
    assert _servers(jd) == {}


def test_no_password_and_password_stdin_are_one_or_the_other(jd) -> None:
    import pytest

    with pytest.raises(SystemExit) as info:
        jd("servers", "add", "--name", "x", "--type", "postgresql", "--host", "h", "--user", "u",
           "--no-password", "--password-stdin", stdin="pw\n")
    assert info.value.code == 2


def test_edit_switches_to_and_from_no_password(jd) -> None:
    jd("servers", "add", "--name", "pg", "--type", "postgresql", "--host", "127.0.0.1", "--user", "postgres",
       "--password-stdin", stdin="pw-canary-3\n")
    code, out, _ = jd("servers", "edit", "pg", "--no-password")
    assert code == 0 and "no password" in out
    assert _servers(jd)["pg"]["no_password"]
    # Another change keeps the choice.
    code, _, _ = jd("servers", "edit", "pg", "--description", "trust on loopback")
    assert code == 0 and _servers(jd)["pg"]["no_password"]
    code, out, _ = jd("servers", "edit", "pg", "--password-stdin", stdin="pw-new\n")
    assert code == 0 and "password changed" in out
    assert not _servers(jd)["pg"]["no_password"]


def test_export_and_import_carry_the_choice(jd, tmp_path) -> None:
    jd("servers", "add", "--name", "pg-trust", "--type", "postgresql", "--host", "127.0.0.1", "--user", "postgres",
       "--no-password")
    jd("servers", "add", "--name", "pg-pw", "--type", "postgresql", "--host", "127.0.0.1", "--user", "postgres",
       "--password-stdin", stdin="pw\n")
    for fmt in ("json", "csv"):
        path = tmp_path / f"fleet.{fmt}"
        code, _, _ = jd("servers", "export", "--format", fmt, "--encrypted", "-o", str(path))
        assert code == 0
        for name in ("pg-trust", "pg-pw"):
            jd("servers", "rm", name)
        code, out, err = jd("servers", "import", str(path))
        assert code == 0 and "2 added" in out, out + err
        servers = _servers(jd)
        assert (servers["pg-trust"]["no_password"], servers["pg-pw"]["no_password"]) == (True, False)
    # A row with no password and no choice is refused, naming the column.
    path = tmp_path / "bare.csv"
    path.write_text("name,db_type,host,username\nbare,postgresql,127.0.0.1,postgres\n")
    code, _, err = jd("servers", "import", str(path))
    assert code == 1 and "no_password column" in err


def test_check_text_says_the_server_did_not_ask(jd, pg_url) -> None:
    jd("servers", "add", "--name", "pg-trust", "--type", "postgresql", "--host", "127.0.0.1", "--user", "postgres",
       "--no-password")
    code, out, _ = jd("check", "pg-trust")
    assert code == 0
    [line] = [line for line in out.splitlines() if line.startswith("online")]
    assert "PostgreSQL" in line and line.endswith(PASSWORD_UNASKED)
