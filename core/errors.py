"""The error family of jumpdeck.

Every error an operator can meet carries a sentence saying what went wrong and, where
there is one, a remedy. Faces (TUI, CLI) print `str(error)`; they never show a traceback.
"""

from __future__ import annotations


class JumpdeckError(Exception):
    """Base of every error jumpdeck raises on purpose."""

    title: str = "Error"

    def __init__(self, message: str, *, remedy: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy

    def __str__(self) -> str:
        if self.remedy:
            return f"{self.message} {self.remedy}"
        return self.message


class ConfigError(JumpdeckError):
    """A configuration value is missing or not allowed. The CLI exits with code 2."""

    title = "Configuration error"


class ValidationError(JumpdeckError):
    """Input that a service refuses, with the field it concerns."""

    title = "Invalid input"

    def __init__(self, message: str, *, field: str | None = None, remedy: str | None = None) -> None:
        super().__init__(message, remedy=remedy)
        self.field = field


class PermissionDenied(JumpdeckError):
    """The actor's role or status does not allow the operation."""

    title = "Not allowed"


class NotFound(JumpdeckError):
    title = "Not found"


class Conflict(JumpdeckError):
    """The operation clashes with the current state (a duplicate name, work in progress)."""

    title = "Conflict"


class StoreError(JumpdeckError):
    title = "Store error"


class StoreReadOnly(StoreError):
    """The shared store is unreachable: jumpdeck reads its local snapshot and refuses writes."""

    title = "Store read-only"


class StoreUnreachable(StoreError):
    """The shared store is unreachable and this host has no snapshot of it: jumpdeck
    cannot start (the CLI exits with code 2)."""


class SecretError(JumpdeckError):
    """A secret cannot be decrypted (wrong or missing key). Never carries the secret."""

    title = "Secret error"
