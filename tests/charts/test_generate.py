import hashlib
import sqlite3

from jumpdeck.core.production.generate import demo_items, generate
from jumpdeck.core.production.schema import INDEXES, archive_db_path, live_db_path


def _digest(path):
    conn = sqlite3.connect(path)
    try:
        h = hashlib.sha256()
        for row in conn.execute("SELECT * FROM production_records ORDER BY id"):
            h.update(repr(row).encode())
        return h.hexdigest()
    finally:
        conn.close()


def test_same_seed_same_rows_and_split_at_cutoff(config, tmp_path):
    from jumpdeck.core.config import load_config

    other = load_config(cli={"home": str(tmp_path / "other")})
    a = generate(config, rows=9_000, years=(2024, 2025, 2026), seed=11)
    b = generate(other, rows=9_000, years=(2024, 2025, 2026), seed=11)
    assert a.cutoff_year == 2026
    assert sum(f.rows for f in a.files) == 9_000
    for year in (2024, 2025):
        conn = sqlite3.connect(archive_db_path(config, year))
        lo, hi = conn.execute("SELECT min(production_date), max(production_date) FROM production_records").fetchone()
        conn.close()
        assert (lo, hi) == (f"{year}-01-01", f"{year}-12-31")
        assert _digest(archive_db_path(config, year)) == _digest(archive_db_path(other, year))
    assert _digest(live_db_path(config)) == _digest(live_db_path(other))


def test_other_seed_other_rows(config, tmp_path):
    from jumpdeck.core.config import load_config

    other = load_config(cli={"home": str(tmp_path / "other")})
    generate(config, rows=2_000, years=(2026,), seed=1)
    generate(other, rows=2_000, years=(2026,), seed=2)
    assert _digest(live_db_path(config)) != _digest(live_db_path(other))


def test_files_carry_the_three_indexes_and_known_items(config):
    generate(config, rows=3_000, years=(2026,))
    conn = sqlite3.connect(live_db_path(config))
    names = {r[1] for r in conn.execute("PRAGMA index_list('production_records')")}
    codes = {r[0] for r in conn.execute("SELECT DISTINCT item_code FROM production_records")}
    conn.close()
    assert set(INDEXES) <= names
    assert codes <= {i.code for i in demo_items()}


async def test_demo_data_refuses_to_overwrite_without_replace(ctx):
    import pytest

    from jumpdeck.core.errors import Conflict, PermissionDenied
    from jumpdeck.core.identity import Actor, Role
    from jumpdeck.core.production.generate import create_demo_data

    await create_demo_data(ctx, 1_000, (2026,))
    with pytest.raises(Conflict):
        await create_demo_data(ctx, 1_000, (2026,))
    ctx.actor = Actor("oper", Role.OPERATOR)
    with pytest.raises(PermissionDenied):
        await create_demo_data(ctx, 1_000, (2026,), replace=True)


async def test_demo_seed_gives_charts_data_for_this_year(config):
    from datetime import date

    from jumpdeck.core.demo import seed_production_demo
    from jumpdeck.core.production.models import DateRange
    from jumpdeck.core.production.queries import ProductionData
    from jumpdeck.core.production.rollup import RollupReader

    await seed_production_demo(config, rows=5_000)
    year = date.today().year
    data = ProductionData(config)
    months = await data.monthly_totals(DateRange(date(year - 1, 1, 1), date(year, 12, 31)))
    assert len(months) == 24 and all(m.quantity > 0 for m in months)
    assert RollupReader(config).path.exists()
    await seed_production_demo(config, rows=5_000)  # a second start leaves the data alone
