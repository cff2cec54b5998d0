"""Fault injection: the ways a real legacy system breaks a robot, switched on by a spec string.

Spec: comma-separated `name=value` parts, e.g. ``503=0.1,slow=0.05:3,expire=60,lock=0.02,maintenance=02:00-03:00``.

- ``503=RATE``: that share of requests is answered ``503 Service Unavailable`` before any work is done.
- ``slow=RATE:SECONDS``: that share of requests is held SECONDS before it is served (the Feb–Mar peak).
- ``expire=SECONDS``: a session ends SECONDS after login, however busy it is (forced re-login).
- ``lock=RATE``: that share of 登録 requests finds the record locked by another desk.
- ``maintenance=HH:MM-HH:MM``: the night batch window; every screen says online entry is closed.
"""
from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time


@dataclass(frozen=True)
class SlowFault:
    rate: float
    seconds: float


@dataclass(frozen=True)
class MaintenanceWindow:
    start: time
    end: time

    def covers(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end  # a window across midnight


@dataclass(frozen=True)
class FaultSpec:
    unavailable_rate: float = 0.0
    slow: SlowFault | None = None
    session_lifetime_seconds: float | None = None
    lock_rate: float = 0.0
    maintenance: MaintenanceWindow | None = None

    @property
    def is_empty(self) -> bool:
        return self == FaultSpec()


def _rate(name: str, text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise ValueError(f"fault {name}: {text!r} is not a number") from None
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"fault {name}: rate {rate} must lie between 0 and 1")
    return rate


def _seconds(name: str, text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError(f"fault {name}: {text!r} is not a number of seconds") from None
    if seconds < 0:
        raise ValueError(f"fault {name}: seconds must not be negative")
    return seconds


def _clock(name: str, text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ValueError(f"fault {name}: {text!r} is not a HH:MM time") from None


def parse_fault_spec(spec: str | None) -> FaultSpec:
    """Parse a fault spec string; an empty or None spec means no faults."""
    parts: dict[str, object] = {}
    seen: set[str] = set()
    for raw in (spec or "").split(","):
        raw = raw.strip()
        if not raw:
            continue
        name, sep, value = raw.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not value:
            raise ValueError(f"fault {raw!r}: expected name=value")
        if name in seen:
            raise ValueError(f"fault {name} given twice")
        seen.add(name)
        if name == "503":
            parts["unavailable_rate"] = _rate(name, value)
        elif name == "slow":
            rate, colon, seconds = value.partition(":")
            if not colon:
                raise ValueError("fault slow: expected slow=RATE:SECONDS")
            parts["slow"] = SlowFault(_rate(name, rate), _seconds(name, seconds))
        elif name == "expire":
            parts["session_lifetime_seconds"] = _seconds(name, value)
        elif name == "lock":
            parts["lock_rate"] = _rate(name, value)
        elif name == "maintenance":
            start, dash, end = value.partition("-")
            if not dash:
                raise ValueError("fault maintenance: expected maintenance=HH:MM-HH:MM")
            parts["maintenance"] = MaintenanceWindow(_clock(name, start), _clock(name, end))
        else:
            raise ValueError(f"unknown fault {name!r} (known: 503, slow, expire, lock, maintenance)")
    return FaultSpec(**parts)  # type: ignore[arg-type]


class FaultInjector:
    """Draws faults from seeded RNGs so that a run with a seed can be replayed; counts what it injected.

    Each (fault, "METHOD path") pair has its own RNG: a browser loads frames in parallel, and one shared RNG
    would hand out its draws in whatever order the requests happened to arrive.
    """

    def __init__(self, spec: FaultSpec, seed: int | None = None) -> None:
        self.spec = spec
        self._seed = seed if seed is not None else random.SystemRandom().randrange(2**63)
        self._rngs: dict[tuple[str, str], random.Random] = {}
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def _draw(self, fault: str, request_key: str, rate: float) -> bool:
        if rate <= 0.0:
            return False
        with self._lock:
            rng = self._rngs.get((fault, request_key))
            if rng is None:
                rng = self._rngs[(fault, request_key)] = random.Random(f"{self._seed}:{fault}:{request_key}")
            hit = rng.random() < rate
            if hit:
                self.counts[fault] += 1
            return hit

    def unavailable(self, request_key: str) -> bool:
        return self._draw("503", request_key, self.spec.unavailable_rate)

    def delay_seconds(self, request_key: str) -> float:
        slow = self.spec.slow
        if slow is None or not self._draw("slow", request_key, slow.rate):
            return 0.0
        return slow.seconds

    def record_locked(self, request_key: str) -> bool:
        return self._draw("lock", request_key, self.spec.lock_rate)

    def in_maintenance(self, now: datetime) -> bool:
        window = self.spec.maintenance
        hit = window is not None and window.covers(now.time())
        if hit:
            with self._lock:
                self.counts["maintenance"] += 1
        return hit
