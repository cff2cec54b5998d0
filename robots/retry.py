"""How often and how patiently the robot tries a step again."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    tries: int = 3
    backoff_seconds: tuple[float, ...] = (0.5, 1.5)  # before the 2nd, 3rd, ... try; the last repeats

    def pause_before(self, next_try: int) -> float:
        """Seconds to wait before try number `next_try` (2 or more)."""
        return self.backoff_seconds[min(next_try - 2, len(self.backoff_seconds) - 1)]


DEFAULT_RETRY = RetryPolicy()
