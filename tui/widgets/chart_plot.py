"""A textual-plotext plot whose figure is built in a thread, once per drawing and size.

`PlotextPlot.render` builds the whole figure (plotext's layout, then its ANSI text
parsed back into Rich) on every repaint, on the event loop: 150-200 ms for a year of
daily totals here, during which no key is handled. This plot builds the figure once
after the data changes, in a thread, lines included, and repaints from that; a resize
rebuilds it in a thread too, with the old figure up meanwhile.
"""

from __future__ import annotations

import asyncio
import threading

from rich.segment import Segment
from rich.text import Text
from textual.strip import Strip
from textual_plotext import PlotextPlot


class ChartPlot(PlotextPlot):
    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._built: Text | None = None
        self._lines: list[Strip] | None = None  # the built figure, line by line (from `build`)
        self._lines_for: tuple | None = None
        self._figures: dict[tuple, tuple[Text, list[Strip]]] = {}  # oldest first
        self._content: object = None
        self._built_for: tuple | None = None
        self.building = False  # data changed, the figure is not built yet
        self.builds = 0
        self._generation = 0
        # plotext's figure is one mutable object: the builder thread and the code that sets
        # the data (`with plot.lock:`) take turns. A cancelled build's thread runs to its end.
        self.lock = threading.Lock()

    def _key(self) -> tuple:
        return (self.size, self.app.theme, self.theme)

    @property
    def settled(self) -> bool:
        """No build pending and the figure on screen was built for the plot's size."""
        return not self.building and (self._built is None or self._built_for == self._key())

    def invalidate(self) -> None:
        """The data changed: the next figure must be built (see `build`)."""
        self._built_for = None
        self._lines = None
        self.building = True
        self._generation += 1

    def render_line(self, y: int) -> Strip:
        lines = self._lines
        if lines is not None and self._lines_for == self._key():
            line = lines[y] if y < len(lines) else Strip.blank(self.size.width)
            return line.apply_style(self.rich_style)
        return super().render_line(y)

    def render(self):  # noqa: ANN201
        if self._built is not None and (self._built_for == self._key() or self.building):
            return self._built  # while a build runs, the previous figure stays up
        if self.building:
            return Text("")
        if self._built is not None:
            # A size the figure was not built for (a resize): rebuild it in a thread;
            # the old figure stays up meanwhile.
            self.building = True
            self._generation += 1
            self.run_worker(self.build(self._content), group="chart-plot-resize", exclusive=True)
            return self._built
        with self.lock:  # the very first paint (an empty plot: cheap)
            text = super().render()
        self._built, self._built_for = text, self._key()
        return text

    FIGURES_KEPT = 8  # built figures remembered by what they show (a cached range switch reuses one)

    async def build(self, content: object = None) -> None:
        """Build the figure for the current size in a thread, then show it. `content`
        (hashable) names what the plot shows; a figure already built for the same
        content, size and theme is shown at once."""
        size, key, plot, generation = self.size, self._key(), self._plot, self._generation
        self._content = content
        remembered = (content, key) if content is not None else None
        figures = self._figures
        if remembered in figures:
            self._show(*figures[remembered], key)
            return
        theme = self._get_plotext_theme_name(self.app.theme)

        console, width = self.app.console, size.width

        def make() -> tuple[Text, list[Strip]]:
            with self.lock:
                plot.plotsize(size.width, size.height)
                plot._set_size(size.width, size.height)  # as PlotextPlot.render does (its issue #5)
                plot.theme(theme)
                figure = plot.build()
            text = Text.from_ansi(figure)
            # The lines as the repaint wants them, so it only places them.
            lines = [Strip(Segment.adjust_line_length(list(line.render(console)), width), width)
                     for line in text.split("\n", allow_blank=True)]
            return text, lines

        text, lines = await asyncio.to_thread(make)
        if generation != self._generation:
            return  # the data changed meanwhile: a newer build follows
        if remembered is not None:
            while len(figures) >= self.FIGURES_KEPT:
                figures.pop(next(iter(figures)))
            figures[remembered] = (text, lines)
        self._show(text, lines, key)

    def _show(self, text: Text, lines: list[Strip], key: tuple) -> None:
        self.building = False
        self._built, self._built_for, self._lines, self._lines_for = text, key, lines, key
        self.builds += 1
        self.refresh()
