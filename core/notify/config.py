"""Notification settings: targets (encrypted), rules, quiet period, windows.

They live in the settings row's `extra` JSON under "notify", so no migration is needed
and every jump host on a shared store reads the same. A target is kept as a Fernet
token of its URL plus its redacted form: listing targets never needs the key, and
nothing but the sender ever decrypts one. Changing any of it is admin-only and audited
(with the redacted form only). Ids count up and are never handed out twice: the
activity log names them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from jumpdeck.core import activity
from jumpdeck.core.errors import NotFound, ValidationError
from jumpdeck.core.identity import Actor, Operation, require
from jumpdeck.core.notify.events import EventKind
from jumpdeck.core.notify.targets import check_url
from jumpdeck.core.text_checks import storable_text

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from jumpdeck.core.secrets import SecretBox
    from jumpdeck.core.store.engine import Store

EXTRA_KEY = "notify"
MAX_TARGETS = 50
MAX_WINDOWS = 500


@dataclass(frozen=True)
class Target:
    id: int
    token: str  # the URL, encrypted; never leaves this package unopened but to the store
    shown: str  # redacted: scheme and host only
    service: str

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "target": self.shown, "service": self.service}


@dataclass(frozen=True)
class Rule:
    enabled: bool = True
    # SERVER_DOWN only: how many checks in a row must fail before it is news.
    after_failures: int = 1


@dataclass(frozen=True)
class Window:
    """A maintenance window: events for this server, or for servers with this tag,
    between `starts` and `ends` (UTC) are muted."""

    id: int
    starts: datetime
    ends: datetime
    server: str | None = None
    tag: str | None = None
    reason: str = ""

    def covers(self, at: datetime, server: str | None, tags: tuple[str, ...]) -> bool:
        if not (self.starts <= at < self.ends):
            return False
        return (self.server is not None and self.server == server) or (self.tag is not None and self.tag in tags)

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "server": self.server, "tag": self.tag, "starts": self.starts.isoformat(timespec="minutes"),
                "ends": self.ends.isoformat(timespec="minutes"), "reason": self.reason}


def default_rules() -> dict[EventKind, Rule]:
    return {kind: Rule(after_failures=3 if kind is EventKind.SERVER_DOWN else 1) for kind in EventKind}


@dataclass(frozen=True)
class NotifyConfig:
    targets: tuple[Target, ...] = ()
    rules: dict[EventKind, Rule] = field(default_factory=default_rules)
    # No two messages for one event key within this many seconds (a flapping server).
    quiet_seconds: int = 300
    # The same kind for the same key again only after this long (a failure that lasts).
    repeat_seconds: int = 3600
    # A target that has not taken the message by then is a failed delivery.
    timeout_seconds: float = 10.0
    windows: tuple[Window, ...] = ()
    next_target_id: int = 1
    next_window_id: int = 1

    def rule(self, kind: EventKind) -> Rule:
        return self.rules.get(kind, default_rules()[kind])

    def muted_by(self, at: datetime, server: str | None, tags: tuple[str, ...]) -> Window | None:
        return next((w for w in self.windows if w.covers(at, server, tags)), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "targets": [asdict(t) for t in self.targets],
            "rules": {kind.value: asdict(rule) for kind, rule in self.rules.items()},
            "quiet_seconds": self.quiet_seconds, "repeat_seconds": self.repeat_seconds,
            "timeout_seconds": self.timeout_seconds,
            "windows": [{**asdict(w), "starts": w.starts.isoformat(), "ends": w.ends.isoformat()} for w in self.windows],
            "next_target_id": self.next_target_id, "next_window_id": self.next_window_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> NotifyConfig:
        if not data:
            return cls()
        rules = default_rules()
        for name, rule in (data.get("rules") or {}).items():
            if name in EventKind._value2member_map_:
                rules[EventKind(name)] = Rule(**rule)
        return cls(
            targets=tuple(Target(**t) for t in data.get("targets", [])),
            rules=rules,
            quiet_seconds=int(data.get("quiet_seconds", 300)),
            repeat_seconds=int(data.get("repeat_seconds", 3600)),
            timeout_seconds=float(data.get("timeout_seconds", 10.0)),
            windows=tuple(Window(**{**w, "starts": datetime.fromisoformat(w["starts"]),
                                    "ends": datetime.fromisoformat(w["ends"])}) for w in data.get("windows", [])),
            next_target_id=int(data.get("next_target_id", 1)),
            next_window_id=int(data.get("next_window_id", 1)),
        )


# Limits of the numbers an admin sets: name -> (low, high).
TIMING_LIMITS: dict[str, tuple[float, float]] = {
    "quiet_seconds": (0, 7 * 86400), "repeat_seconds": (0, 30 * 86400), "timeout_seconds": (1, 120),
}


def read_in(session: Session) -> NotifyConfig:
    from jumpdeck.core.settings import _load_row

    return NotifyConfig.from_json((_load_row(session).extra or {}).get(EXTRA_KEY))


def _write_in(session: Session, config: NotifyConfig) -> None:
    from jumpdeck.core.settings import _load_row

    row = _load_row(session)
    row.extra = {**(row.extra or {}), EXTRA_KEY: config.to_json()}


def reencrypt_in(session: Session, old: SecretBox, new: SecretBox) -> int:
    """For `rotate-key`: the targets' tokens under the new key, in its transaction."""
    config = read_in(session)
    if not config.targets:
        return 0
    targets = tuple(replace(t, token=new.encrypt(old.decrypt(t.token))) for t in config.targets)
    _write_in(session, replace(config, targets=targets))
    return len(targets)


def _without(items: tuple, item_id: int, noun: str) -> tuple:
    """`items` less the one with this id, or NotFound naming it."""
    if not any(item.id == item_id for item in items):
        raise NotFound(f"There is no {noun} {item_id}.", remedy="`jumpdeck notify ls` lists them.")
    return tuple(item for item in items if item.id != item_id)


class NotifyConfigService:
    """Reading is for anyone who may view jumpdeck (targets come redacted); changing is
    the admin's, like every setting."""

    def __init__(self, store: Store, secrets: SecretBox) -> None:
        self.store = store
        self.secrets = secrets

    async def get(self) -> NotifyConfig:
        return await self.store.run(read_in)

    async def _change(self, actor: Actor, change, action: str, target_id: object, detail) -> NotifyConfig:  # noqa: ANN001
        """Read, change and write the config under the settings lock, so two admins (or
        a `settings set`) changing things at once never write over each other."""
        require(actor, Operation.EDIT_SETTINGS)

        def apply(session: Session) -> NotifyConfig:
            from jumpdeck.core.store.locks import write_lock

            write_lock(session, "settings")
            before = read_in(session)
            after = change(before)
            _write_in(session, after)
            activity.record(session, actor, action, "NOTIFY", target_id(after) if callable(target_id) else target_id,
                            detail(before, after) if callable(detail) else detail)
            return after

        return await self.store.run(apply)

    async def add_target(self, actor: Actor, url: str) -> Target:
        require(actor, Operation.EDIT_SETTINGS)
        checked = check_url(url)
        token = self.secrets.encrypt(url.strip())

        def change(config: NotifyConfig) -> NotifyConfig:
            if len(config.targets) >= MAX_TARGETS:
                raise ValidationError(f"There are already {MAX_TARGETS} notification targets.",
                                      remedy="Remove one first (`jumpdeck notify rm-target N`).")
            target = Target(config.next_target_id, token, checked.shown, checked.service)
            return replace(config, targets=config.targets + (target,), next_target_id=target.id + 1)

        after = await self._change(actor, change, "NOTIFY_ADD_TARGET", lambda c: f"target:{c.targets[-1].id}",
                                   f"{checked.service} {checked.shown}")
        return after.targets[-1]

    async def remove_target(self, actor: Actor, target_id: int) -> None:
        def change(config: NotifyConfig) -> NotifyConfig:
            return replace(config, targets=_without(config.targets, target_id, "notification target"))

        await self._change(actor, change, "NOTIFY_REMOVE_TARGET", f"target:{target_id}",
                           lambda before, _after: next(t.shown for t in before.targets if t.id == target_id))

    async def set_rule(self, actor: Actor, kind: EventKind, *, enabled: bool | None = None,
                       after_failures: int | None = None) -> Rule:
        if after_failures is not None and not (1 <= after_failures <= 1000):
            raise ValidationError(f"--after must be from 1 to 1000 checks; got {after_failures}.", field="after")

        def change(config: NotifyConfig) -> NotifyConfig:
            rule = config.rule(kind)
            rule = replace(rule, **{k: v for k, v in (("enabled", enabled), ("after_failures", after_failures)) if v is not None})
            return replace(config, rules={**config.rules, kind: rule})

        after = await self._change(actor, change, "NOTIFY_SET_RULE", kind.value,
                                   lambda _b, a: f"enabled={a.rule(kind).enabled} after={a.rule(kind).after_failures}")
        return after.rule(kind)

    async def set_timing(self, actor: Actor, name: str, value: float) -> NotifyConfig:
        if name not in TIMING_LIMITS:
            raise ValidationError(f"There is no notification timing named '{name}'.", field=name,
                                  remedy="Known: " + ", ".join(TIMING_LIMITS) + ".")
        low, high = TIMING_LIMITS[name]
        if not (low <= value <= high):
            raise ValidationError(f"{name} must be from {low:g} to {high:g}; got {value:g}.", field=name)
        typed = float(value) if name == "timeout_seconds" else int(value)
        return await self._change(actor, lambda c: replace(c, **{name: typed}), "NOTIFY_SET_TIMING", name,
                                  lambda b, a: f"{name}: {getattr(b, name)!r} -> {getattr(a, name)!r}")

    async def add_window(self, actor: Actor, *, starts: datetime, ends: datetime, server: str | None = None,
                         tag: str | None = None, reason: str = "") -> Window:
        if (server is None) == (tag is None):
            raise ValidationError("A maintenance window is for one server or one tag.",
                                  remedy="Give --server NAME or --tag TAG.")
        if ends <= starts:
            raise ValidationError("A maintenance window must end after it starts.", field="ends")
        for label, value in (("server", server), ("tag", tag), ("reason", reason)):
            if value is not None:
                storable_text(value, label=label, field=label)
                if len(value) > 200:
                    raise ValidationError(f"The {label} is limited to 200 characters.", field=label)

        def change(config: NotifyConfig) -> NotifyConfig:
            if len(config.windows) >= MAX_WINDOWS:
                raise ValidationError(f"There are already {MAX_WINDOWS} maintenance windows.",
                                      remedy="Remove old ones first (`jumpdeck notify window rm N`).")
            window = Window(config.next_window_id, starts, ends, server, tag, reason)
            return replace(config, windows=config.windows + (window,), next_window_id=window.id + 1)

        def detail(_before: NotifyConfig, after: NotifyConfig) -> str:
            w = after.windows[-1]
            return f"{'server ' + w.server if w.server else 'tag ' + str(w.tag)} {w.starts:%Y-%m-%d %H:%M}-{w.ends:%Y-%m-%d %H:%M} UTC {reason}".strip()

        after = await self._change(actor, change, "NOTIFY_ADD_WINDOW", lambda c: f"window:{c.windows[-1].id}", detail)
        return after.windows[-1]

    async def remove_window(self, actor: Actor, window_id: int) -> None:
        def change(config: NotifyConfig) -> NotifyConfig:
            return replace(config, windows=_without(config.windows, window_id, "maintenance window"))

        await self._change(actor, change, "NOTIFY_REMOVE_WINDOW", f"window:{window_id}", "")
