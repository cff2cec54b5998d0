"""How a step against the legacy system can go wrong, sorted by what the robot does about it."""
from __future__ import annotations


class RobotError(Exception):
    """Base of the robot's own errors. Messages name fields and screens, never values."""


class TransientError(RobotError):
    """Goes away when tried again: HTTP 5xx, a time-out, a record locked at another desk, a stale screen."""


class ServerBusy(TransientError):
    """HTTP 5xx: the server did not serve the request. A page that only reads may be asked for again at once."""


class SessionLost(TransientError):
    """The login page came back: the system dropped the session. Log in again, then try again."""


class LoginRefused(RobotError):
    """The system refused the robot's account; trying again will not help."""


class ScreenRejected(RobotError):
    """The system refused the values with its own messages."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" / ".join(messages) or "入力エラー")
        self.messages = messages


class LastingFailure(RobotError):
    """A step still failed after every try."""

    def __init__(self, phase: str, reason: str, tries: int) -> None:
        super().__init__(f"{phase}: {reason}（{tries}回試行）")
        self.phase = phase
        self.reason = reason


class SystemClosed(RobotError):
    """The system is closed (its night batch window): nothing can be entered now; the form waits for a later run."""
