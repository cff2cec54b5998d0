"""Settings from the environment: one place that says where things live and how to reach the legacy system."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path  # working folder: inbox, archive, results, the SQLite ledger by default
    ledger_url: str
    legacy_url: str
    legacy_user: str
    legacy_password: str
    robot_sessions: int

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def archive(self) -> Path:
        return self.home / "archive"

    @property
    def results(self) -> Path:
        return self.home / "results"

    @property
    def evidence(self) -> Path:
        return self.home / "evidence"

    @property
    def reports(self) -> Path:
        return self.home / "reports"


def load_settings(home: Path | None = None) -> Settings:
    home = (home or Path(os.environ.get("TAXINTAKE_HOME", "var"))).resolve()
    return Settings(
        home=home,
        ledger_url=os.environ.get("TAXINTAKE_LEDGER_URL", f"sqlite:///{home / 'ledger.sqlite3'}"),
        legacy_url=os.environ.get("TAXINTAKE_LEGACY_URL", "http://127.0.0.1:8765"),
        legacy_user=os.environ.get("TAXINTAKE_LEGACY_USER", "robot01"),
        # No default: the password comes from the environment or a Prefect Secret block (taxintake.credentials).
        legacy_password=os.environ.get("TAXINTAKE_LEGACY_PASSWORD", ""),
        robot_sessions=int(os.environ.get("TAXINTAKE_ROBOT_SESSIONS", "1")),
    )


def city_templates_folder() -> Path | None:
    """Where a city's own templates are written (`template new`, the editor): the first TAXINTAKE_TEMPLATES folder."""
    from ocr.templates import template_roots

    roots = template_roots()
    return roots[0] if len(roots) > 1 else None
