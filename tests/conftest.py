"""Shared test set-up: an isolated Prefect home and one Prefect test server for the whole session."""
from __future__ import annotations

import os
import tempfile

# Prefect reads these at import time: set them before anything imports prefect.
_PREFECT_HOME = tempfile.mkdtemp(prefix="taxintake-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def prefect_server():
    """A real Prefect server (SQLite, offline) shared by every test that runs a flow."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield
