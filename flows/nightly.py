"""`nightly` (02:00 Asia/Tokyo): everything complete in the inbox as one batch, then entry, then the batch report;
then the 個人番号 past their retention are retired and the ledger and archive are backed up."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, get_run_logger

from flows.enter_ready import enter_ready
from flows.intake import DEFAULT_STALE_AFTER_S, IntakeOutcome, read_queued
from flows.report import report_flow
from flows.watch import watch

BACKUP_DIR_ENV = "TAXINTAKE_BACKUP_DIR"


@flow(name="nightly", log_prints=False)
def nightly(settle_seconds: float = 5.0, helpers: int = 0,
            stale_after_s: float = DEFAULT_STALE_AFTER_S, backup_dir: str | None = None) -> IntakeOutcome | None:
    logger = get_run_logger()
    outcome = watch(settle_seconds=settle_seconds, helpers=helpers, stale_after_s=stale_after_s)
    if outcome is None:  # nothing new, but files left behind by a reader that died are read now
        read_queued(stale_after_s=stale_after_s)
    enter_ready(stale_after_s=stale_after_s)
    if outcome is None:
        logger.info("nothing new in the inbox: no batch to report")
    else:
        report_flow(batch_id=outcome.batch_id)
    retire_and_back_up(backup_dir)
    return outcome


def retire_and_back_up(backup_dir: str | None = None) -> Path:
    """Retire the 個人番号 kept past TAXINTAKE_MYNUMBER_RETENTION_DAYS, then take a backup into
    `backup_dir` (default TAXINTAKE_BACKUP_DIR, else <home>/backups), one folder per run."""
    import os

    from ledger.backup import backup
    from ledger.db import init_db, make_engine, session_scope
    from ledger.secrets_at_rest import retire_due
    from taxintake.config import load_settings
    from taxintake.keys import retention_days

    logger = get_run_logger()
    settings = load_settings()
    engine = make_engine(settings.ledger_url)
    init_db(engine)
    with session_scope(engine) as session:
        retired = retire_due(session, retention_days(), actor="nightly")
    engine.dispose()
    root = Path(backup_dir or os.environ.get(BACKUP_DIR_ENV) or settings.home / "backups")
    summary = backup(settings.ledger_url, settings.archive,
                     root / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
    logger.info("retired %d 個人番号 past retention; backup in %s (%d archived files, %d missing)", retired,
                summary.folder, summary.archive_files, len(summary.missing_scans))
    return summary.folder
