"""A textual-plotext plot whose figure is built in a thread, once per drawing and size.

`PlotextPlot.render` builds the whole figure (plotext's layout, then its ANSI text
parsed back into Rich) on every repaint, on the event loop: 150-200 ms for a year of
daily totals here, during which no key is handled. This plot builds the figure once
after the data changes, in a thread, and repaints from that; only a size the figure was
not built for (a resize) is built in place.
"""

from __future__ import annotations

import asyncio
import threading

from rich.text import Text
from textual_plotext import PlotextPlot


class ChartPlot(PlotextPlot):
    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._built: Text | None = None
        self._built_for: tuple | None = None
        self.building = False  # data changed, the figure is not built yet
        self.builds = 0
        self._generation = 0
        # plotext's figure is one mutable object: the builder thread and the code that sets
        # the data (`with plot.lock:`) take turns. A cancelled build's thread runs to its end.
        self.lock = threading.Lock()

    def _key(self) -> tuple:
        return (self.size, self.app.theme, self.theme)

    def invalidate(self) -> None:
        """The data changed: the next figure must be built (see `build`)."""
        self._built_for = None
        self.building = True
        self._generation += 1

    def render(self):  # noqa: ANN201
        if self._built is not None and (self._built_for == self._key() or self.building):
            return self._built  # while a build runs, the previous figure stays up
        if self.building:
            return Text("")
        with self.lock:
            text = super().render()
        self._built, self._built_for = text, self._key()
        return text

    async def build(self) -> None:
        """Build the figure for the current size in a thread, then show it."""
        size, key, plot, generation = self.size, self._key(), self._plot, self._generation
        theme = self._get_plotext_theme_name(self.app.theme)

        def make() -> Text:
            with self.lock:
                plot.plotsize(size.width, size.height)
                plot._set_size(size.width, size.height)  # as PlotextPlot.render does (its issue #5)
                plot.theme(theme)
                figure = plot.build()
            return Text.from_ansi(figure)

        text = await asyncio.to_thread(make)
        if generation != self._generation:
            return  # the data changed meanwhile: a newer build follows
        self.building = False
        self._built, self._built_for = text, key
        self.builds += 1
        self.refresh()
