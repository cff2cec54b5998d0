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
# The stand-in legacy system's development robot account (legacy_sim/settings.py), given as an operator gives the
# real one: in the environment. The code itself has no default password.
os.environ.setdefault("TAXINTAKE_LEGACY_PASSWORD", "robot01-pass")
# Audit sampling draws 2% of accepted fields at random in production; tests that route forms must know which forms
# need people, so the suite draws none unless a test asks for it (tests/test_trust*.py do).
os.environ.setdefault("TAXINTAKE_AUDIT_SHARE", "0")
# The ledger's keys (taxintake.keys) come from the environment in production too; these are the suite's own, fixed
# so that subprocesses and servers the tests start open what the test process sealed. Never used outside tests.
os.environ.setdefault("TAXINTAKE_MYNUMBER_KEY", "test-k1:dGF4aW50YWtlLXRlc3Qta2V5LW9uZS0zMmJ5dGVzISE=")
os.environ.setdefault("TAXINTAKE_AUDIT_KEY", "taxintake-test-audit-key-at-least-32-bytes")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def prefect_server():
    """A real Prefect server (SQLite, offline) shared by every test that runs a flow."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


# ---- the ledger on SQLite and on PostgreSQL ------------------------------------------------------------------------
# `make test` starts Debian's PostgreSQL on loopback (`make postgres`); each test gets a database of its own.
PG_ADMIN_URL_ENV = "TAXINTAKE_TEST_PG_URL"
PG_ADMIN_URL_DEFAULT = "postgresql://taxintake:taxintake@127.0.0.1:5432/postgres"


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL database for one test (dropped afterwards); its URL."""
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    admin_url = make_url(os.environ.get(PG_ADMIN_URL_ENV, PG_ADMIN_URL_DEFAULT))
    conninfo = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"taxintake_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as error:
        raise RuntimeError(f"PostgreSQL is not reachable at {admin_url!r}: run `make postgres` "
                           f"(or set {PG_ADMIN_URL_ENV}) — {error}") from error
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path):
    """The ledger's URL, once on a SQLite file and once on a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    return request.getfixturevalue("postgres_url")
