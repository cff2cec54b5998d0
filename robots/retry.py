"""How often and how patiently the robot tries a step again."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    tries: int = 5
    backoff_seconds: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)  # before the 2nd, 3rd, ... try; the last repeats

    def pause_before(self, next_try: int) -> float:
        """Seconds to wait before try number `next_try` (2 or more)."""
        return self.backoff_seconds[min(next_try - 2, len(self.backoff_seconds) - 1)]


# Against a system that drops one request in ten at its peak, enough tries that a step rarely fails for luck alone;
# a lasting outage still ends each form within about 8 s of pauses.
DEFAULT_RETRY = RetryPolicy(tries=5, backoff_seconds=(0.5, 1.0, 2.0, 4.0))
