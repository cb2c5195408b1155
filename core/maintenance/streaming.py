"""Run blocking work in a thread and hand its events to async code as they happen."""

from __future__ import annotations

import asyncio
import threading
from typing import AsyncIterator, Callable, TypeVar

E = TypeVar("E")
_DONE = object()


class Cancelled(Exception):
    """Raised inside the worker thread when the consumer went away or asked to stop."""


class Emitter:
    """What the worker thread gets: `emit(event)` and a `cancelled` flag to poll."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
        self._loop = loop
        self._queue = queue
        self._stop = threading.Event()

    def emit(self, event: object) -> None:
        self._loop.call_soon_threadsafe(self._queue.put_nowait, event)

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def raise_if_cancelled(self) -> None:
        if self._stop.is_set():
            raise Cancelled("stopped")

    def cancel(self) -> None:
        self._stop.set()


async def stream(work: Callable[[Emitter], None]) -> AsyncIterator[E]:
    """Yield what `work(emitter)` emits; re-raise what it raises. Closing the iterator
    early sets `emitter.cancelled` and waits for the thread to notice."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    emitter = Emitter(loop, queue)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            work(emitter)
        except BaseException as exc:  # handed to the consumer below
            failure.append(exc)
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, _DONE)

    thread = threading.Thread(target=run, name="maintenance", daemon=True)
    thread.start()
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                break
            yield item
    finally:
        emitter.cancel()
        await asyncio.to_thread(thread.join)
    if failure:
        raise failure[0]
