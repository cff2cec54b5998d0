"""What one legacy_sim instance runs with: faults, session time-outs, the seeded robot account."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from legacy_sim.faults import FaultSpec

# Development-only account of the simulator; a real system's credentials come from the environment.
DEV_ROBOT_USER = "robot01"
DEV_ROBOT_PASSWORD = "robot01-pass"


@dataclass(frozen=True)
class SimSettings:
    faults: FaultSpec = field(default_factory=FaultSpec)
    idle_timeout_seconds: float = 1800.0  # legacy systems log out after 15–30 idle minutes
    seed: int | None = None  # seeds the fault RNG
    robot_user: str = DEV_ROBOT_USER
    robot_password: str = DEV_ROBOT_PASSWORD

    @classmethod
    def from_env(cls, **overrides: object) -> "SimSettings":
        """Settings with the robot account from TAXINTAKE_LEGACY_USER / TAXINTAKE_LEGACY_PASSWORD."""
        values: dict[str, object] = {
            "robot_user": os.environ.get("TAXINTAKE_LEGACY_USER", DEV_ROBOT_USER),
            "robot_password": os.environ.get("TAXINTAKE_LEGACY_PASSWORD", DEV_ROBOT_PASSWORD),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
