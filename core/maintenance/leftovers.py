"""Files that interrupted maintenance leaves beside the production DBs and the backups.

A killed backup leaves its `.partial` copy, a killed restore its `.restoring-` copy (as
big as the DB: nine kills once left 1.6 GB), a killed rollover its scratch files. Each
command removes its own kind the next time it runs, under its lock; `backup --cleanup`
removes those of backups and restores; health names them all with their size, so none
fills a disk unseen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jumpdeck.core.config import Config

# (folder attribute of Config, glob, what left it). The rollover's own files are its
# journal's business while it is pending: the split year's scratch file may then be
# the old live DB itself.
PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("backups_dir", ".*.partial*", "backup"),
    ("backups_dir", ".verified.json.tmp", "backup"),
    ("database_dir", ".*.restoring-*", "restore"),
    ("database_dir", ".*.rollover-tmp*", "rollover"),
    ("database_dir", ".*.rollover-new*", "rollover"),
    ("database_dir", ".rollover.json.tmp", "rollover"),
)


@dataclass(frozen=True)
class Leftover:
    path: Path
    size: int
    left_by: str  # "backup", "restore" or "rollover"


def find_leftovers(config: Config, kinds: tuple[str, ...] = ("backup", "restore", "rollover")) -> list[Leftover]:
    found: dict[Path, Leftover] = {}
    for folder_name, pattern, left_by in PATTERNS:
        folder: Path = getattr(config, folder_name)
        if left_by not in kinds or not folder.is_dir():
            continue
        for path in folder.glob(pattern):
            try:
                size = path.stat().st_size
            except FileNotFoundError:  # removed meanwhile
                continue
            found[path] = Leftover(path, size, left_by)
    return sorted(found.values(), key=lambda item: item.path.name)


def sweep(config: Config, kinds: tuple[str, ...]) -> list[Leftover]:
    """Remove the leftovers of `kinds`. Call only while holding those kinds' locks."""
    removed = []
    for item in find_leftovers(config, kinds):
        item.path.unlink(missing_ok=True)
        removed.append(item)
    return removed


def sentence(items: list[Leftover]) -> str:
    """What health says of them."""
    from jumpdeck.core.maintenance.backup import human_size

    total = sum(item.size for item in items)
    names = ", ".join(item.path.name for item in items[:3]) + (f" and {len(items) - 3} more" if len(items) > 3 else "")
    by = sorted({item.left_by for item in items})
    remedies = []
    if "backup" in by or "restore" in by:
        remedies.append("`jumpdeck backup --cleanup` removes those of backups and restores")
    if "rollover" in by:
        remedies.append("the next `jumpdeck archive rollover` removes its own")
    return (f"{len(items)} file(s) left by interrupted {' and '.join(f'{k}s' for k in by)} take {human_size(total)} "
            f"({names}); " + "; ".join(remedies))
