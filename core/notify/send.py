"""Handing one message to one apprise target, off the event loop, with a hard deadline.

apprise is blocking (requests underneath). Each delivery runs in its own daemon thread,
not the loop's default executor: a target that never answers would otherwise hold an
executor thread that `asyncio.run` waits for at exit, and the command would hang there
instead of reporting a failed notification. The socket timeouts are set to the deadline
just past the deadline, so such a thread ends by itself soon after.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass

from jumpdeck.core.secrets import Secret


@dataclass(frozen=True)
class Delivery:
    ok: bool
    reason: str = ""  # why it failed, in words that never quote the URL


def quiet_apprise_logging() -> None:
    """apprise logs the URLs it handles; with no handler of its own, Python would print
    its warnings on stderr (the TUI's screen) and a root handler would keep them. Its
    records go nowhere: the activity log says what happened, with the redacted form."""
    logger = logging.getLogger("apprise")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    logger.propagate = False


def _deliver_blocking(url: Secret, title: str, body: str, timeout: float) -> Delivery:
    import apprise

    plugin = apprise.Apprise.instantiate(url.reveal())
    if plugin is None:
        return Delivery(False, "apprise no longer accepts this target's URL")
    # A little past the deadline, so that the deadline is what reports a silent target
    # and the thread still ends by itself soon after.
    plugin.socket_connect_timeout = timeout + 2
    plugin.socket_read_timeout = timeout + 2
    try:
        ok = plugin.notify(body=body, title=title)
    except Exception as exc:  # a plugin's own bug: its message may quote the URL, so only its type
        return Delivery(False, f"the {plugin.service_name} plugin failed ({type(exc).__name__})")
    return Delivery(True) if ok else Delivery(False, f"{plugin.service_name} did not accept the message")


def _load_apprise() -> None:
    import apprise  # noqa: F401 - a second or more on a busy host, once per process

    quiet_apprise_logging()


async def deliver(url: Secret, title: str, body: str, *, timeout: float) -> Delivery:
    """Send one message; a target that has not finished within `timeout` is a failure.
    Importing apprise comes first and outside the deadline: it is local work that always
    ends, and counting it would fail a process's first message on a loaded host."""
    await asyncio.to_thread(_load_apprise)
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Delivery] = loop.create_future()

    def settle(result: Delivery) -> None:
        if not done.done():
            done.set_result(result)

    def work() -> None:
        try:
            result = _deliver_blocking(url, title, body, timeout)
        except Exception as exc:  # never the message: it may hold the URL
            result = Delivery(False, f"sending failed ({type(exc).__name__})")
        try:
            loop.call_soon_threadsafe(settle, result)
        except RuntimeError:  # the loop closed while this thread waited: nobody is listening
            pass

    threading.Thread(target=work, name="jumpdeck-notify", daemon=True).start()
    try:
        return await asyncio.wait_for(asyncio.shield(done), timeout)
    except asyncio.TimeoutError:
        return Delivery(False, f"no answer within {timeout:g} s")
