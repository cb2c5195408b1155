"""Files that ship inside the `jumpdeck` package: the store's migrations and the playbooks.

They are found with `importlib.resources`, never by walking up from `__file__`, so an
installed wheel (pip, pipx) finds them in site-packages and a checkout finds them in its
own `database/` and `playbooks/` folders (mapped to `jumpdeck.database` and
`jumpdeck.playbooks` by pyproject.toml).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from jumpdeck.core.errors import JumpdeckError


def _directory(package: str) -> Path:
    root = files(package)
    # Alembic and ansible-runner need a real folder; a zipped install would not give one.
    path = Path(str(root))
    if not path.is_dir():
        raise JumpdeckError(f"jumpdeck's package data {package} is not a folder on disk ({path}): "
                            "install jumpdeck from its wheel with pip or pipx, not as a zip.")
    return path


@cache
def migrations_dir() -> Path:
    """The Alembic script folder of the metadata store."""
    return _directory("jumpdeck.database")


@cache
def playbooks_dir() -> Path:
    """The folder of the provisioning playbooks."""
    return _directory("jumpdeck.playbooks")
