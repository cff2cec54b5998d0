"""`watch`: notice a complete drop in the inbox and read it as one batch (a deployment runs this every minute)."""
from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from flows import inbox as inbox_rules
from flows.intake import DEFAULT_STALE_AFTER_S, IntakeOutcome, intake, queued_work, read_queue


@flow(name="watch", log_prints=False)
def watch(inbox: str | None = None, settle_seconds: float = 5.0, poll_seconds: float = 1.0,
          max_wait_seconds: float = 600.0, wait_for_first_seconds: float = 0.0, helpers: int = 0,
          stale_after_s: float = DEFAULT_STALE_AFTER_S) -> IntakeOutcome | None:
    """One look at the inbox: the complete files of the drop there now become one intake batch (None if empty)."""
    from taxintake.config import load_settings

    settings = load_settings()
    inbox_path = Path(inbox) if inbox else settings.inbox
    files = inbox_rules.settled_files(inbox_path, settle_seconds=settle_seconds, poll_seconds=poll_seconds,
                                      max_wait_seconds=max_wait_seconds,
                                      wait_for_first_seconds=wait_for_first_seconds)
    if not files:
        if queued_work(settings.ledger_url):  # left by a reader that died: read it now, not at the next drop
            read_queue(settings.ledger_url, str(settings.archive), results_dir=str(settings.results),
                       stale_after_s=stale_after_s)
        get_run_logger().info("inbox empty")
        return None
    return intake(inbox=str(inbox_path), files=[str(p) for p in files], label="watch", helpers=helpers,
                  stale_after_s=stale_after_s, results_dir=str(settings.results))
