"""What one legacy_sim instance runs with: faults, session time-outs, the seeded accounts and population."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from legacy_sim.faults import FaultSpec
from samples.population import POPULATION_SEED

# Development-only accounts of the simulator; a real system's credentials come from the environment.
DEV_ROBOT_USER = "robot01"
DEV_ROBOT_PASSWORD = "robot01-pass"
DEV_CLERK_USER = "kanri01"  # a tax clerk: may search by 個人番号, edits 宛名 (and locks the person meanwhile)
DEV_CLERK_PASSWORD = "kanri01-pass"


def dev_robot_accounts(count: int) -> list[tuple[str, str]]:
    """robot01 … robotNN with their development passwords: one per licensed robot session."""
    return [(f"robot{n:02d}", f"robot{n:02d}-pass") for n in range(1, count + 1)]


@dataclass(frozen=True)
class SimSettings:
    faults: FaultSpec = field(default_factory=FaultSpec)
    idle_timeout_seconds: float = 1800.0  # legacy systems log out after 15–30 idle minutes
    seed: int | None = None  # seeds the fault RNG
    robot_user: str = DEV_ROBOT_USER
    robot_password: str = DEV_ROBOT_PASSWORD
    robot_accounts: int = 4  # robot01 … robot04: the licence's number of robot sessions
    population_seed: int = POPULATION_SEED

    @classmethod
    def from_env(cls, **overrides: object) -> "SimSettings":
        """Settings with the first robot account from TAXINTAKE_LEGACY_USER / TAXINTAKE_LEGACY_PASSWORD."""
        values: dict[str, object] = {
            "robot_user": os.environ.get("TAXINTAKE_LEGACY_USER", DEV_ROBOT_USER),
            "robot_password": os.environ.get("TAXINTAKE_LEGACY_PASSWORD", DEV_ROBOT_PASSWORD),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def accounts(self) -> list[tuple[str, str, str]]:
        """(user, password, role) of every account to seed."""
        robots = dev_robot_accounts(self.robot_accounts)
        robots[0:1] = [(self.robot_user, self.robot_password)]
        return [(user, password, "robot") for user, password in robots] + [
            (DEV_CLERK_USER, DEV_CLERK_PASSWORD, "kanri")]
