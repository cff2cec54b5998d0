"""`enter`: claim READY forms in the ledger and have the robots enter them into the legacy system.

Each form's outcome is written to the ledger (its state) and to the audit trail (what the robot did and every value
it typed, 個人番号 masked) as soon as the robot is done with it, in one transaction, so a crash loses at most the
form in hand; that one is found in the legacy system and not entered twice when it is tried again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from prefect import flow, get_run_logger
from pydantic import SecretStr

from ledger import repo
from ledger.audit import append_audit
from ledger.claims import release_dead_entries
from ledger.db import init_db, make_engine, session_scope
from ledger.secrets_at_rest import retire_form_numbers
from taxintake.keys import retention_days as _retention_days

log = logging.getLogger("taxintake.flows.enter")


@dataclass
class EnterOutcome:
    claimed: int = 0
    entered: int = 0
    already_entered: int = 0
    failed: int = 0
    sent_back: int = 0
    deferred: int = 0
    closed: str | None = None  # the target system's closed window when the run entered nothing for it
    failures: dict[int, str] = field(default_factory=dict)
    sent_back_reasons: dict[int, str] = field(default_factory=dict)
    readback_ok: int = 0
    seconds: float = 0.0


def enter_ready_forms(ledger_url: str, legacy_url: str, credentials: list[tuple[str, str]], *,
                      robot_id: str = "robot-1", limit: int = 500, evidence_dir: str | None = None,
                      sessions: int = 1, screen_map: str | None = None, retry=None,
                      logger: logging.Logger | logging.LoggerAdapter | None = None) -> EnterOutcome:
    """The `enter` flow's work as a plain function (benchmarks and tests call it without a Prefect run)."""
    from robots.entry import EntryOutcome, EntryRequest, enter_forms
    from robots.screen_map import load_screen_map

    logger = logger or log
    started = datetime.now()
    map_path = Path(screen_map) if screen_map else None
    screens = load_screen_map(map_path)
    outcome = EnterOutcome()
    closed = screens.closed_at(started.time())
    if closed is not None:
        outcome.closed = closed
        logger.info("the legacy system takes no entry during %s: nothing claimed", closed)
        return outcome
    engine = make_engine(ledger_url)
    init_db(engine)
    # Only the kinds of form the target system's screen map describes; the others wait READY for their screens.
    enterable = sorted(screens.forms)
    with session_scope(engine) as session:
        released = release_dead_entries(session)
    if released:
        logger.warning("止まったロボットの %d 件を入力待ちに戻しました / %d forms of a robot whose process is gone "
                       "went back to READY", released, released)
    with session_scope(engine) as session:
        claimed = repo.claim_ready_forms(session, robot_id, limit, form_ids=enterable)
        requests = [EntryRequest(form_ref=str(form.id), form_id=form.form_id,
                                 values=repo.form_values_for_entry(form), idempotency_key=form.idempotency_key,
                                 template_version=form.template_version)
                    for form in claimed]
    outcome.claimed = len(requests)
    if not requests:
        logger.info("no READY forms to enter")
        return outcome

    def record(result: EntryOutcome) -> None:
        # Each result in its own transaction: one lost claim must not undo the marks of the others.
        try:
            with session_scope(engine) as session:
                _record_outcome(session, result, robot_id, outcome)
        except repo.ClaimLost:
            logger.warning("form %s: claim lost before its outcome was recorded", result.form_ref)

    enter_forms(requests, base_url=legacy_url, credentials=credentials, robot_id=robot_id, screen_map=map_path,
                evidence_dir=Path(evidence_dir) if evidence_dir else None, sessions=sessions, on_outcome=record,
                retry=retry)
    outcome.seconds = round((datetime.now() - started).total_seconds(), 1)
    logger.info("entered %d, already there %d, failed %d, back to review %d, deferred %d (%.0f s)",
                outcome.entered, outcome.already_entered, outcome.failed, outcome.sent_back, outcome.deferred,
                outcome.seconds)
    return outcome


@flow(name="enter", log_prints=False)
def enter(ledger_url: str, legacy_url: str, legacy_user: str, legacy_password: SecretStr | None = None,
          robot_id: str = "robot-1", limit: int = 500, evidence_dir: str | None = None,
          sessions: int = 1, more_accounts: list[list[str]] | None = None,
          screen_map: str | None = None) -> EnterOutcome:
    """`sessions` robots at once, each with its own account: `legacy_user` and then `more_accounts`
    ([[user], ...]); the legacy system allows one session per account.

    Passwords: leave them out and taxintake.credentials reads the environment or a Prefect Secret block. Prefect
    stores every flow run's parameters and shows them in its UI, so a password passed as a plain string would be
    kept in clear; a SecretStr is stored as `**********`.
    """
    from taxintake.credentials import legacy_password as configured_password

    password = (legacy_password.get_secret_value() if legacy_password is not None else "") \
        or configured_password()
    credentials = [(legacy_user, password),
                   *((account[0], account[1] if len(account) > 1 else configured_password(account[0]))
                     for account in more_accounts or [])]
    return enter_ready_forms(ledger_url, legacy_url, credentials, robot_id=robot_id, limit=limit,
                             evidence_dir=evidence_dir, sessions=sessions, screen_map=screen_map,
                             logger=get_run_logger())


def _record_outcome(session, result, robot_id: str, outcome: EnterOutcome) -> None:
    form_pk = int(result.form_ref)
    if result.status in ("entered", "already_entered"):
        repo.mark_entered(session, form_pk, result.receipt_no, robot_id)
        if result.readback_ok and _retention_days() == 0:
            # Typed and read back equal: the 個人番号 are no longer needed in clear (keyed hash and mask stay).
            retire_form_numbers(session, form_pk, robot_id)
        outcome.entered += result.status == "entered"
        outcome.already_entered += result.status == "already_entered"
        outcome.readback_ok += bool(result.readback_ok)
    elif result.status == "needs_people":
        repo.send_back_to_review(session, form_pk, result.reason or "needs_people", robot_id)
        outcome.sent_back += 1
        outcome.sent_back_reasons[form_pk] = result.reason or "needs_people"
    elif result.status == "deferred":
        repo.release_claim(session, form_pk, result.reason or "deferred", robot_id)
        outcome.deferred += 1
    else:
        repo.mark_entry_failed(session, form_pk, result.reason or "unknown", robot_id)
        outcome.failed += 1
        outcome.failures[form_pk] = result.reason or "unknown"
    append_audit(session, actor=robot_id, action=f"robot_{result.status}", subject=f"form:{form_pk}", after={
        "legacy_user": result.robot_user, "receipt_no": result.receipt_no, "reason": result.reason,
        "readback_ok": result.readback_ok, "seconds": result.seconds, "keys": result.keys})
