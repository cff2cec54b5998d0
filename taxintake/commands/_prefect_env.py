"""Prefect settings for command-line runs, set before Prefect is imported."""
from __future__ import annotations

import os


def quiet_prefect() -> None:
    """No analytics, warnings only on the console (the progress bars say what happens)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
