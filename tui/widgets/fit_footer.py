"""The footer, with whole keys only.

Textual's footer lays its keys out in one row and cuts the row at the right edge, so at
80 columns an operator read `k Trust key  s ▏`: half a label, a key whose meaning is
gone. This footer shows the keys that fit whole, in their order, and leaves the rest to
`?` (which lists every key, and always has its place here) and the palette. It measures what Textual laid out and only
hides or shows its own children, so the keys themselves stay Textual's.
"""

from __future__ import annotations

from textual.widgets import Footer


class FitFooter(Footer):
    def __init__(self) -> None:
        super().__init__()
        self._widths: dict[int, int] = {}  # a child's laid-out width, kept while it is hidden

    async def recompose(self) -> None:
        self._widths.clear()
        await super().recompose()
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit)

    def _width(self, child) -> int:  # noqa: ANN001
        if child.display and child.outer_size.width:
            self._widths[id(child)] = child.outer_size.width
        return self._widths.get(id(child), 0)

    def _fit(self) -> None:
        children = list(self.children)
        kept = [c for c in children if c.has_class("-command-palette") or getattr(c, "key", "") == "question_mark"]
        room = self.size.width - sum(self._width(c) for c in kept)
        used, full = 0, False
        for child in children:
            if child in kept:
                continue
            width = self._width(child)
            full = full or used + width > room
            child.display = not full
            if not full:
                used += width
