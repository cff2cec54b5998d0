"""`enter`: claim READY forms in the ledger and have the robots enter them into the legacy system."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, get_run_logger

from ledger import repo
from ledger.db import init_db, make_engine, session_scope


@dataclass
class EnterOutcome:
    claimed: int = 0
    entered: int = 0
    already_entered: int = 0
    failed: int = 0
    sent_back: int = 0
    failures: dict[int, str] = field(default_factory=dict)


@flow(name="enter", log_prints=False)
def enter(ledger_url: str, legacy_url: str, legacy_user: str, legacy_password: str,
          robot_id: str = "robot-1", limit: int = 500, evidence_dir: str | None = None) -> EnterOutcome:
    from robots.entry import EntryRequest, enter_forms
    from robots.screen_map import load_screen_map

    logger = get_run_logger()
    engine = make_engine(ledger_url)
    init_db(engine)
    # Only the kinds of form the target system's screen map describes; the others wait READY for their screens.
    enterable = sorted(load_screen_map().forms)
    with session_scope(engine) as session:
        claimed = repo.claim_ready_forms(session, robot_id, limit, form_ids=enterable)
        requests = [EntryRequest(form_ref=str(form.id), form_id=form.form_id,
                                 values=repo.form_values_for_entry(form), idempotency_key=form.idempotency_key)
                    for form in claimed]
    outcome = EnterOutcome(claimed=len(requests))
    if not requests:
        logger.info("no READY forms to enter")
        return outcome
    results = enter_forms(requests, base_url=legacy_url, credentials=(legacy_user, legacy_password),
                          robot_id=robot_id, evidence_dir=Path(evidence_dir) if evidence_dir else None)
    for result in results:
        # Each result in its own transaction: one lost claim must not undo the marks of the others.
        try:
            with session_scope(engine) as session:
                _record_outcome(session, result, robot_id, outcome)
        except repo.ClaimLost:
            logger.warning("form %s: claim lost before its outcome was recorded", result.form_ref)
    logger.info("entered %d, already there %d, failed %d, back to review %d",
                outcome.entered, outcome.already_entered, outcome.failed, outcome.sent_back)
    return outcome


def _record_outcome(session, result, robot_id: str, outcome: EnterOutcome) -> None:
    form_pk = int(result.form_ref)
    if result.status in ("entered", "already_entered"):
        repo.mark_entered(session, form_pk, result.receipt_no, robot_id)
        outcome.entered += result.status == "entered"
        outcome.already_entered += result.status == "already_entered"
    elif result.status == "needs_people":
        repo.send_back_to_review(session, form_pk, result.reason or "needs_people", robot_id)
        outcome.sent_back += 1
    else:
        repo.mark_entry_failed(session, form_pk, result.reason or "unknown", robot_id)
        outcome.failed += 1
        outcome.failures[form_pk] = result.reason or "unknown"
