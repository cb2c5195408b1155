"""Where the production DBs live and what they contain (seed 003).

`<data dir>/database/production_analysis.db` holds the current year(s); each
`archive_YYYY.db` beside it holds one archived year. Both carry the same table and the
three indexes the DB watcher heals when they go missing.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from jumpdeck.core.config import Config

LIVE_DB_NAME = "production_analysis.db"
ARCHIVE_RE = re.compile(r"^archive_(\d{4})\.db$")
TABLE = "production_records"

TABLE_DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id INTEGER PRIMARY KEY,
    production_date TEXT NOT NULL,   -- 'YYYY-MM-DD'
    lot_number TEXT NOT NULL,
    item_code TEXT NOT NULL,
    item_name TEXT NOT NULL,
    good_quantity INTEGER NOT NULL
)
"""

# name -> DDL. The watcher recreates any that are missing ("Creating missing ...").
INDEXES: dict[str, str] = {
    "idx_production_date": f"CREATE INDEX IF NOT EXISTS idx_production_date ON {TABLE}(production_date)",
    "idx_item_code": f"CREATE INDEX IF NOT EXISTS idx_item_code ON {TABLE}(item_code)",
    "idx_item_date": f"CREATE INDEX IF NOT EXISTS idx_item_date ON {TABLE}(item_code, production_date)",
}


def live_db_path(config: Config) -> Path:
    return config.database_dir / LIVE_DB_NAME


def archive_db_path(config: Config, year: int) -> Path:
    return config.database_dir / f"archive_{year}.db"


def archive_years(config: Config) -> list[int]:
    """Years with an archive file, ascending."""
    if not config.database_dir.is_dir():
        return []
    years = []
    for path in config.database_dir.iterdir():
        match = ARCHIVE_RE.match(path.name)
        if match:
            years.append(int(match.group(1)))
    return sorted(years)


def create_schema(conn: sqlite3.Connection, *, indexes: bool = True) -> None:
    conn.execute(TABLE_DDL)
    if indexes:
        for ddl in INDEXES.values():
            conn.execute(ddl)
