"""Where a screen's stylesheet is: package data next to its module, found with
importlib.resources, so an installed wheel reads the copy in site-packages and nothing
depends on the checkout (Textual is given the absolute path)."""

from __future__ import annotations

from importlib.resources import files


def stylesheet(package: str, name: str) -> str:
    """The path of the `.tcss` file `name` shipped in `package`."""
    return str(files(package) / name)
