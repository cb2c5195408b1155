"""Deciding whether an event is news, sending it, and auditing every delivery.

The memory of what was sent is the activity log itself: the last NOTIFY_SENT row for an
event key says when and of which kind, so every jump host on a shared store agrees on
the quiet period without a table of its own. Two hosts seeing one event at once are
kept to one message by a claim (a NOTIFY_DUE row written under a per-key store lock)
that counts as "being sent" for as long as a delivery may take.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable

from jumpdeck.core import activity
from jumpdeck.core.errors import NotFound, SecretError, StoreReadOnly
from jumpdeck.core.identity import Actor
from jumpdeck.core.notify.config import NotifyConfig, Target, read_in
from jumpdeck.core.notify.events import Event
from jumpdeck.core.notify.send import Delivery, deliver

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from jumpdeck.core.secrets import SecretBox
    from jumpdeck.core.store.engine import Store

log = logging.getLogger(__name__)

SENT, FAILED, DUE = "NOTIFY_SENT", "NOTIFY_FAILED", "NOTIFY_DUE"
TEST_KEY = "test"
# A claim outlives the delivery deadline by this much (clock skew between hosts, commit).
CLAIM_MARGIN = timedelta(seconds=5)


@dataclass(frozen=True)
class TargetResult:
    target_id: int
    shown: str
    ok: bool
    reason: str = ""


@dataclass(frozen=True)
class NotifyOutcome:
    key: str
    results: tuple[TargetResult, ...] = ()
    skipped: str = ""  # why nothing was sent (a rule, a window, the quiet period), or ""

    @property
    def sent(self) -> bool:
        return any(r.ok for r in self.results)


def _utcnow() -> datetime:
    from jumpdeck.core.store.models import utcnow

    return utcnow()


class Notifier:
    """`await notifier.notify(Event(...))` from any service or the watch. Never raises for
    a target that fails: that is a result, audited. `actor` is who the audit names (the
    process's operator, or the worker's run owner)."""

    def __init__(self, store: Store, secrets: SecretBox, actor: Actor, *,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self.store = store
        self.secrets = secrets
        self.actor = actor
        self.clock = clock

    async def config(self) -> NotifyConfig:
        return await self.store.run(read_in)

    async def notify(self, event: Event) -> NotifyOutcome:
        eligible = await self.store.run(lambda s: self._eligible(s, event))
        decision = eligible if isinstance(eligible, str) else await self.store.run(lambda s: self._claim(s, event))
        if isinstance(decision, str):
            log.info("notification %s (%s) not sent: %s", event.key, event.kind.value, decision)
            return NotifyOutcome(event.key, skipped=decision)
        results = await self._send_all(decision, event.title, event.body)
        await self._audit(event.key, event.kind.value, event.title, results)
        return NotifyOutcome(event.key, results)

    async def test(self, target_id: int | None = None) -> tuple[TargetResult, ...]:
        """A test message to every target, or to one: no rule, window or quiet period applies."""
        config = await self.store.run(read_in)
        targets = [t for t in config.targets if target_id is None or t.id == target_id]
        if target_id is not None and not targets:
            raise NotFound(f"There is no notification target {target_id}.", remedy="`jumpdeck notify ls` lists them.")
        from jumpdeck.core.identity import this_host

        title = "jumpdeck test notification"
        results = await self._send_all((config, targets), title,
                                       f"A test from jumpdeck on {this_host()}, sent by {self.actor.user}.")
        await self._audit(TEST_KEY, TEST_KEY, title, results)
        return results

    def _eligible(self, session: Session, event: Event) -> NotifyConfig | str:
        """The config when rules, targets and windows let the event through, else why not.
        Read-only: most calls (health looked at again, a rule that is off) end here."""
        config = read_in(session)
        if not config.rule(event.kind).enabled:
            return f"the rule for {event.kind.value} is off"
        if not config.targets:
            return "no notification targets are set"
        window = config.muted_by(self.clock(), event.server, event.tags)
        if window is not None:
            return f"maintenance window {window.id} mutes it until {window.ends:%Y-%m-%d %H:%M} UTC"
        return config

    def _claim(self, session: Session, event: Event) -> tuple[NotifyConfig, list[Target]] | str:
        """The config and targets when the event is due (and now claimed), else why not."""
        from jumpdeck.core.store.locks import write_lock

        # First statement of the transaction (SQLite takes its write lock here), so what
        # is read below cannot change before the claim commits.
        write_lock(session, f"notify:{event.key}")
        config = self._eligible(session, event)
        if isinstance(config, str):
            return config
        now = self.clock()
        last = _last(session, event.key, SENT)
        if last is not None:
            at, kind = last
            if now - at < timedelta(seconds=config.quiet_seconds):
                return f"within the quiet period of {config.quiet_seconds} s after the last message for {event.key}"
            if kind == event.kind.value and now - at < timedelta(seconds=config.repeat_seconds):
                return f"{event.kind.value} was sent for {event.key} less than {config.repeat_seconds} s ago"
        claim = _last(session, event.key, DUE)
        if claim is not None and now - claim[0] < timedelta(seconds=config.timeout_seconds) + CLAIM_MARGIN:
            if last is None or claim[0] > last[0]:
                return f"it is being sent for {event.key} by another process"
        activity.record(session, self.actor, DUE, "NOTIFY", event.key[:200], f"{event.kind.value}: {event.title}", at=now)
        return config, list(config.targets)

    async def _send_all(self, plan: tuple[NotifyConfig, list[Target]], title: str, body: str) -> tuple[TargetResult, ...]:
        config, targets = plan
        body = body or title  # apprise refuses a message without a body

        async def one(target: Target) -> TargetResult:
            try:
                url = self.secrets.decrypt(target.token)
            except SecretError:
                return TargetResult(target.id, target.shown, False, "its URL cannot be decrypted with this host's key")
            delivery: Delivery = await deliver(url, title, body, timeout=config.timeout_seconds)
            return TargetResult(target.id, target.shown, delivery.ok, delivery.reason)

        return tuple(await asyncio.gather(*(one(t) for t in targets)))

    async def _audit(self, key: str, kind: str, title: str, results: tuple[TargetResult, ...]) -> None:
        at = self.clock()

        def write(session: Session) -> None:
            for r in results:
                outcome = "sent" if r.ok else f"failed: {r.reason}"
                activity.record(session, self.actor, SENT if r.ok else FAILED, "NOTIFY", key[:200],
                                f"{kind}: {title} -> target {r.target_id} {r.shown}: {outcome}", at=at)

        try:
            await self.store.run(write)
        except StoreReadOnly:  # the message went out; its record waits for the store
            self.store.defer_until_back(write)


def _last(session: Session, key: str, action: str) -> tuple[datetime, str] | None:
    """When the newest `action` row for this key was written, and of which kind."""
    from sqlalchemy import select

    from jumpdeck.core.store.models import ActivityRow as A

    row = session.execute(select(A.at, A.detail).where(A.target_type == "NOTIFY", A.action == action,
                                                       A.target_id == key[:200]).order_by(A.id.desc()).limit(1)).first()
    if row is None:
        return None
    return row.at, row.detail.split(":", 1)[0]


