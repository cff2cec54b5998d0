"""`nightly` (02:00 Asia/Tokyo): everything complete in the inbox as one batch, then entry, then the batch report."""
from __future__ import annotations

from prefect import flow, get_run_logger

from flows.enter_ready import enter_ready
from flows.intake import DEFAULT_STALE_AFTER_S, IntakeOutcome, read_queued
from flows.report import report_flow
from flows.watch import watch


@flow(name="nightly", log_prints=False)
def nightly(settle_seconds: float = 5.0, helpers: int = 0,
            stale_after_s: float = DEFAULT_STALE_AFTER_S) -> IntakeOutcome | None:
    logger = get_run_logger()
    outcome = watch(settle_seconds=settle_seconds, helpers=helpers, stale_after_s=stale_after_s)
    if outcome is None:  # nothing new, but files left behind by a reader that died are read now
        read_queued(stale_after_s=stale_after_s)
    enter_ready(stale_after_s=stale_after_s)
    if outcome is None:
        logger.info("nothing new in the inbox: no batch to report")
        return None
    report_flow(batch_id=outcome.batch_id)
    return outcome
