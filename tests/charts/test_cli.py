"""`jumpdeck demo-data` and `jumpdeck report` through the real entry point."""

import csv
import io
import json

from jumpdeck.tui.cli import main

from .conftest import direct_sum


def test_demo_data_then_reports(tmp_path, capsys):
    home = str(tmp_path / "home")
    assert main(["--home", home, "demo-data", "--rows", "12000", "--years", "2025,2026", "--seed", "4"]) == 0
    capsys.readouterr()
    assert main(["--home", home, "report", "monthly", "--from", "2025-12-10", "--to", "2026-01-20", "--json"]) == 0
    months = json.loads(capsys.readouterr().out)
    from jumpdeck.core.config import load_config
    from jumpdeck.core.production.schema import archive_db_path, live_db_path

    config = load_config(cli={"home": home})
    files = [archive_db_path(config, 2025), live_db_path(config)]
    assert {m["month"]: m["quantity"] for m in months} == direct_sum(files, "2025-12-10", "2026-01-20", group="month")

    assert main(["--home", home, "report", "monthly", "--from", "2026-01-01", "--to", "2026-03-31",
                 "--item", "BW0001", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["month"] for r in rows] == ["2026-01", "2026-02", "2026-03"]
    assert sum(int(r["quantity"]) for r in rows) == direct_sum(files, "2026-01-01", "2026-03-31", item="BW0001")[""]

    assert main(["--home", home, "report", "top", "--from", "2026-04-01", "--to", "2026-06-30", "--n", "3", "--json"]) == 0
    top = json.loads(capsys.readouterr().out)
    assert [t["rank"] for t in top] == [1, 2, 3] and top[0]["quantity"] >= top[1]["quantity"] >= top[2]["quantity"]

    assert main(["--home", home, "report", "items"]) == 0
    assert "BW0001" in capsys.readouterr().out


def test_usage_errors_exit_2(tmp_path, capsys):
    home = str(tmp_path / "home")
    assert main(["--home", home, "report", "monthly", "--from", "2026-02-01", "--to", "2026-01-01"]) == 2
    assert "before it starts" in capsys.readouterr().err
    assert main(["--home", home, "report", "items"]) == 1
    assert "demo-data" in capsys.readouterr().err
