"""`enter-ready`: the scheduled entry run. Puts back claims of robots that died, then has `enter` take READY forms,
holding one of the legacy system's licensed sessions (a Prefect global concurrency limit shared by every machine).

The legacy system's credentials come from the environment of the machine that runs it (`taxintake.config`), never
from deployment parameters, which the Prefect UI shows.
"""
from __future__ import annotations

from datetime import timedelta

from prefect import flow, get_run_logger

from flows.intake import reader_id
from ledger import repo
from ledger.db import init_db, make_engine, session_scope
from taxintake.credentials import legacy_password

# The global concurrency limit named here has as many slots as the legacy system allows sessions at once.
LEGACY_SESSIONS_LIMIT = "legacy-system-sessions"
DEFAULT_STALE_AFTER_S = 30 * 60
# A killed holder's slot comes back after this long (the lease is renewed while the holder lives).
SESSION_LEASE_S = 60


@flow(name="enter-ready", log_prints=False)
def enter_ready(limit: int = 500, stale_after_s: float = DEFAULT_STALE_AFTER_S,
                session_wait_s: float = 120.0):
    from prefect.concurrency.sync import concurrency

    from flows.enter import enter_ready_forms
    from taxintake.config import load_settings

    logger = get_run_logger()
    settings = load_settings()
    engine = make_engine(settings.ledger_url)
    init_db(engine)
    with session_scope(engine) as session:
        released = repo.release_stale_claims(session, timedelta(seconds=stale_after_s))
    if released:
        logger.warning("%d forms claimed by a robot that stopped went back to READY", released)
    robot_id = f"robot@{reader_id()}"
    with concurrency(LEGACY_SESSIONS_LIMIT, occupy=1, timeout_seconds=session_wait_s,
                     lease_duration=SESSION_LEASE_S):
        # A plain call, not the `enter` flow: the password must never become a recorded flow-run parameter.
        password = settings.legacy_password or legacy_password()  # the environment, else a Prefect Secret block
        return enter_ready_forms(settings.ledger_url, settings.legacy_url,
                                 [(settings.legacy_user, password)], robot_id=robot_id,
                                 limit=limit, evidence_dir=str(settings.evidence), logger=logger)
