"""`intake`: scans in a folder → archived originals → read pages → ledger."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prefect import flow, get_run_logger, task

from flows.archive import ArchivedScan, archive_scan
from ledger import repo
from ledger.db import init_db, make_engine, session_scope
from ocr.batch import read_files, scan_files
from ocr.result import ReadResult


@dataclass
class IntakeOutcome:
    batch_id: int
    files_seen: int
    files_already_known: int
    pages_recorded: int


@task
def archive_inbox_files(inbox: str, archive_root: str) -> list[tuple[str, ArchivedScan]]:
    """(where it lay in the inbox, its archived copy) for each scan."""
    return [(str(path), archive_scan(path, Path(archive_root))) for path in scan_files([Path(inbox)])]


@task
def read_and_record(batch_id: int, scans: list[ArchivedScan], archive_root: str, ledger_url: str,
                    results_dir: str | None) -> int:
    """Read the new scans on every core and record each file's pages as soon as it is read."""
    engine = make_engine(ledger_url)
    by_path = {str(scan.path(Path(archive_root))): scan for scan in scans}
    recorded = 0
    for path, results in read_files([Path(p) for p in by_path]):
        scan = by_path[str(path)]
        recorded += _record(engine, batch_id, scan, results)
        if results_dir:
            _write_results(Path(results_dir), scan, results)
    return recorded


def _record(engine, batch_id: int, scan: ArchivedScan, results: list[ReadResult]) -> int:
    with session_scope(engine) as session:
        batch = session.get(repo.Batch, batch_id)
        scan_file, _ = repo.register_scan_file(session, batch, scan.original_name, scan.relative_path, scan.sha256,
                                               len(results))
        for result in results:
            # Results name the original file, not the archive copy.
            result.source = scan.original_name
            repo.record_read_result(session, batch, scan_file, result)
    return len(results)


def _write_results(results_dir: Path, scan: ArchivedScan, results: list[ReadResult]) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    for result in results:
        (results_dir / result.output_name()).write_text(result.model_dump_json(indent=1), encoding="utf-8")


@flow(name="intake", log_prints=False)
def intake(inbox: str, archive_root: str, ledger_url: str, label: str = "intake",
           results_dir: str | None = None, remove_from_inbox: bool = True) -> IntakeOutcome:
    logger = get_run_logger()
    engine = make_engine(ledger_url)
    init_db(engine)
    archived = archive_inbox_files(inbox, archive_root)
    scans = [scan for _, scan in archived]
    with session_scope(engine) as session:
        batch = repo.create_batch(session, label=label, source=inbox)
        batch_id = batch.id
        known = {s.sha256 for s in scans if repo.scan_file_is_read(session, s.sha256)}
    # The same content twice in one drop is read once.
    new_scans = list({s.sha256: s for s in scans if s.sha256 not in known}.values())
    logger.info("batch %s: %d files, %d already read before", batch_id, len(scans), len(known))
    pages = read_and_record(batch_id, new_scans, archive_root, ledger_url, results_dir) if new_scans else 0
    if remove_from_inbox:
        for inbox_path, _ in archived:  # every one is safely archived and recorded (or known) by now
            Path(inbox_path).unlink(missing_ok=True)
    with session_scope(engine) as session:
        repo.finish_batch(session, batch_id)
    logger.info("batch %s: %d pages recorded", batch_id, pages)
    return IntakeOutcome(batch_id, len(scans), len(known), pages)
