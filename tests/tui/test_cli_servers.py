"""`jumpdeck servers ...` and `jumpdeck check` end to end, through `main()`."""

from __future__ import annotations

import io
import json

import pytest

from tests.core.servers.conftest import closed_port
from jumpdeck.tui.cli import main


@pytest.fixture
def jd(tmp_path, monkeypatch, capsys):
    """Run the CLI against a temp home; returns (exit code, stdout, stderr)."""
    home = str(tmp_path / "home")

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(["--home", home, *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_add_ls_edit_rm(jd) -> None:
    code, out, _ = jd("servers", "add", "--name", "erp", "--type", "mssql", "--host", "10.1.1.1", "--user", "sa",
                      "--password-stdin", "--tag", "prod", stdin="s3cret\n")
    assert code == 0 and "MSSQL 10.1.1.1:1433, default DB master" in out
    code, out, _ = jd("servers", "ls", "--json")
    [server] = json.loads(out)
    assert (server["name"], server["port"], server["tags"]) == ("erp", 1433, ["prod"])
    assert "s3cret" not in out
    # A new type brings its defaults where the old ones were in place.
    code, out, _ = jd("servers", "edit", "erp", "--type", "postgresql", "--tag", "erp", "--description", "ERP DB")
    assert code == 0, out
    [server] = json.loads(jd("servers", "ls", "--json")[1])
    assert (server["db_type"], server["port"], server["default_db"]) == ("postgresql", 5432, "postgres")
    assert server["tags"] == ["prod", "erp"] and server["description"] == "ERP DB"
    code, out, _ = jd("servers", "rm", "erp")
    assert code == 0 and "Deleted erp" in out
    assert "No servers are registered" in jd("servers", "ls")[1]


def test_usage_errors_exit_2(jd) -> None:
    code, _, err = jd("servers", "add", "--name", "x", "--type", "oracle", "--host", "h", "--user", "u",
                      "--password-stdin", stdin="pw\n")
    assert code == 2 and "Oracle needs a service name" in err and "ORCL" in err
    code, _, err = jd("servers", "add", "--name", "x", "--type", "mysql", "--host", "h", "--port", "70000",
                      "--user", "u", "--password-stdin", stdin="pw\n")
    assert code == 2 and "out of range" in err
    with pytest.raises(SystemExit) as info:
        jd("servers", "add", "--name", "x", "--type", "db2", "--host", "h", "--user", "u")
    assert info.value.code == 2


def test_export_never_writes_passwords_in_clear_and_imports_back(jd, tmp_path) -> None:
    for name in ("a", "b"):
        jd("servers", "add", "--name", name, "--type", "mysql", "--host", "127.0.0.1", "--user", "root",
           "--password-stdin", stdin=f"pw-{name}-secret\n")
    for fmt in ("json", "csv"):
        code, out, _ = jd("servers", "export", "--format", fmt)
        # No password field (the no_password choice is no secret).
        assert code == 0 and "pw-a-secret" not in out and "password" not in out.replace("no_password", "")
    code, out, _ = jd("servers", "export", "--encrypted")
    assert "pw-a-secret" not in out and out.count("password_token") == 2
    path = tmp_path / "fleet.json"
    path.write_text(out)
    jd("servers", "rm", "a")
    code, out, err = jd("servers", "import", str(path))
    assert code == 0 and "1 added, 0 updated, 1 skipped" in out
    code, out, _ = jd("servers", "export", "--format", "csv", "-o", str(tmp_path / "fleet.csv"))
    assert code == 0


def test_import_csv_reports_refused_rows(jd, tmp_path) -> None:
    path = tmp_path / "new.csv"
    path.write_text("name,db_type,host,port,username,password,tags\n"
                    "pg1,postgresql,127.0.0.1,,postgres,pw,\"dev,pg\"\n"
                    "bad,postgresql,127.0.0.1,99999,postgres,pw,\n"
                    "nopw,mysql,127.0.0.1,,root,,\n")
    code, out, err = jd("servers", "import", str(path))
    assert code == 1 and "1 added" in out and "2 refused" in out
    assert "row 2 (bad): Port 99999 is out of range" in err and "row 3 (nopw)" in err
    [server] = json.loads(jd("servers", "ls", "--json")[1])
    assert server["port"] == 5432 and server["tags"] == ["dev", "pg"]


def test_check_streams_json_lines_and_exit_codes(jd, pg_url) -> None:
    jd("servers", "add", "--name", "pg", "--type", "postgresql", "--host", "127.0.0.1", "--user", "postgres",
       "--password-stdin", stdin="x\n")
    code, out, _ = jd("check", "--json", "pg")
    line = json.loads(out.strip())
    assert code == 0 and line["status"] == "online" and line["error_kind"] is None
    jd("servers", "add", "--name", "dead", "--type", "postgresql", "--host", "127.0.0.1", "--port",
       str(closed_port()), "--user", "postgres", "--password-stdin", stdin="x\n")
    code, out, _ = jd("check", "--json", "--timeout", "2", "--concurrency", "4")
    lines = [json.loads(x) for x in out.strip().splitlines()]
    assert code == 1 and {x["name"]: x["status"] for x in lines} == {"pg": "online", "dead": "offline"}
    for key in ("name", "db_type", "status", "error_kind", "latency_ms", "version", "message"):
        assert key in lines[0]
    code, out, _ = jd("check", "--sequential")
    assert code == 1 and "1 online / 1 offline" in out and "refused" in out
    code, _, err = jd("check", "ghost")
    assert code == 2 and "no server named 'ghost'" in err
    code, _, _ = jd("check", "--type", "oracle")
    assert code == 0


@pytest.mark.services
def test_corps_are_listed_detached_and_dropped_from_the_cli(tmp_path, pg_url) -> None:
    import asyncio
    import os
    import uuid

    from tests.tui.test_cli import jd as run  # a real process per command

    import psycopg2

    from jumpdeck.core.config import load_config
    from jumpdeck.core.context import open_context
    from jumpdeck.core.servers.checks import CheckEngine
    from jumpdeck.core.servers.dashboard import DashboardService
    from jumpdeck.core.servers.registry import ServerRegistry, ServerSpec

    home = tmp_path / "home"
    kept, gone = (f"jd_corp_{uuid.uuid4().hex[:8]}" for _ in range(2))

    async def seed() -> None:
        ctx = await open_context(load_config(cli={"home": str(home)}, env={"JUMPDECK_CONFIG": os.devnull}))
        engine = CheckEngine(timeout=5)
        try:
            service = DashboardService(ServerRegistry(ctx.store, ctx.secrets), engine)
            sid = (await service.registry.create(ctx.actor, ServerSpec(
                name="pg-corps", db_type="postgresql", host="127.0.0.1", port=5432, username="postgres",
                no_password=True))).id
            await service.create_corp_db(ctx.actor, sid, code="K1", name="Kept", db_name=kept)
            await service.create_corp_db(ctx.actor, sid, code="G1", name="Gone", db_name=gone)
        finally:
            engine.close()
            ctx.close()

    try:
        asyncio.run(seed())
        listed = run("servers", "corps", "pg-corps", "--json", home=home)
        assert listed.returncode == 0 and {c["code"] for c in json.loads(listed.stdout)} == {"K1", "G1"}
        refused = run("servers", "rm", "pg-corps", home=home)
        assert refused.returncode == 1 and "detach-corp" in refused.stderr
        wrong = run("servers", "drop-corp", "pg-corps", "G1", "--confirm", "not-its-name", home=home)
        assert wrong.returncode == 2 and gone in wrong.stderr
        assert run("servers", "detach-corp", "pg-corps", "K1", home=home).returncode == 0
        dropped = run("servers", "drop-corp", "pg-corps", "G1", "--confirm", gone, home=home)
        assert dropped.returncode == 0, dropped.stderr
        assert run("servers", "detach-corp", "pg-corps", "K1", home=home).returncode == 1  # no such corp now
        assert run("servers", "rm", "pg-corps", home=home).returncode == 0
        conn = psycopg2.connect(pg_url)
        cur = conn.cursor()
        cur.execute("SELECT datname FROM pg_database")
        names = {r[0] for r in cur.fetchall()}
        conn.close()
        assert kept in names and gone not in names
    finally:
        conn = psycopg2.connect(pg_url)
        conn.autocommit = True
        for name in (kept, gone):
            conn.cursor().execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.close()
