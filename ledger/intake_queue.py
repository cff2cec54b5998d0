"""The intake work queue: archived scans wait QUEUED, a reader claims them (READING), the pages go to the ledger.

Claims live in the database, never in memory: PostgreSQL skips rows another reader holds locked (FOR UPDATE SKIP
LOCKED), SQLite takes the write lock at BEGIN. Recording a file's pages and marking it READ happen in one
transaction, so a reader killed at any point leaves either nothing of that file or all of it; its claim is released
and another reader takes the file again (at once when the reader's process on this machine is gone, `ledger.claims`;
else once the claim ages out), and the ledger's unique (file, page) keeps any page from being recorded
twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger import claims, repo
from ledger.db import is_sqlite
from ledger.models import Batch, IntakeFile, ScanFile
from ledger.privacy import mask_personal_numbers
from ledger.states import utc_now
from ledger.trust import AuditSampler
from ocr.result import ReadResult

QUEUED, READING, READ, FAILED = "QUEUED", "READING", "READ", "FAILED"
# A file whose reader died this many times is set aside: it is more likely the file kills readers than bad luck.
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Enqueued:
    intake_file_id: int
    created: bool  # False: the same content was dropped before (in this batch or an earlier one)
    state: str


def enqueue_file(session: Session, batch_id: int, original_name: str, archived_path: str, sha256: str) -> Enqueued:
    """Queue an archived scan for reading, once per content: a second drop of the same bytes is only recognised."""
    sha256 = sha256.lower()
    existing = _by_sha256(session, sha256)
    if existing is not None:
        return Enqueued(existing.id, False, existing.state)
    # Files read before this queue existed are known by their scan_files row.
    already_read = session.scalar(select(ScanFile.id).where(ScanFile.sha256 == sha256)) is not None
    row = IntakeFile(batch_id=batch_id, sha256=sha256, original_name=original_name,
                     archived_path=repo._relative_archive_path(archived_path),
                     state=READ if already_read else QUEUED, queued_at=utc_now(),
                     finished_at=utc_now() if already_read else None)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another watcher queued the same content a moment ago
        existing = _by_sha256(session, sha256)
        if existing is None:
            raise
        return Enqueued(existing.id, False, existing.state)
    return Enqueued(row.id, not already_read, row.state)


def _by_sha256(session: Session, sha256: str) -> IntakeFile | None:
    return session.scalars(select(IntakeFile).where(IntakeFile.sha256 == sha256)).one_or_none()


def claim_files(session: Session, reader_id: str, limit: int, batch_id: int | None = None) -> list[IntakeFile]:
    """Move up to `limit` QUEUED files to READING for `reader_id`; only the files this call claimed."""
    if limit <= 0:
        return []
    repo._ensure_write_lock(session)
    claims.register_holder(session, reader_id)
    candidates = select(IntakeFile.id).where(IntakeFile.state == QUEUED).order_by(IntakeFile.id).limit(limit)
    if batch_id is not None:
        candidates = candidates.where(IntakeFile.batch_id == batch_id)
    if not is_sqlite(session):
        candidates = candidates.with_for_update(skip_locked=True)
    now = utc_now()
    claimed: list[int] = []
    for file_id in session.scalars(candidates).all():
        moved = session.execute(
            update(IntakeFile).where(IntakeFile.id == file_id, IntakeFile.state == QUEUED)
            .values(state=READING, claimed_by=reader_id, claimed_at=now, attempts=IntakeFile.attempts + 1)
            .execution_options(synchronize_session=False))
        if moved.rowcount == 1:
            claimed.append(file_id)
    session.flush()
    if not claimed:
        return []
    return list(session.scalars(select(IntakeFile).where(IntakeFile.id.in_(claimed)).order_by(IntakeFile.id)
                                .execution_options(populate_existing=True)))


def record_pages(session: Session, intake_file_id: int, reader_id: str, results: list[ReadResult], *,
                 audit_sampler: AuditSampler | None = None, engine: str | None = None,
                 calibration_version: str | None = None) -> int:
    """Record the file's pages and mark it READ, in the caller's one transaction; returns pages newly recorded.

    A reader whose claim aged out and was taken over may still finish: the pages are recorded once either way.
    """
    row = session.scalars(select(IntakeFile).where(IntakeFile.id == intake_file_id).with_for_update()
                          .execution_options(populate_existing=True)).one()
    if row.state == READ:
        return 0
    batch = session.get_one(Batch, row.batch_id)
    scan_file, _ = repo.register_scan_file(session, batch, row.original_name, row.archived_path, row.sha256,
                                           len(results))
    known_pages = set(session.scalars(select(repo.Form.page).where(repo.Form.scan_file_id == scan_file.id)))
    for result in results:
        result.source = row.original_name  # results name the original file, not the archive copy
        repo.record_read_result(session, batch, scan_file, result, audit_sampler=audit_sampler, engine=engine,
                                calibration_version=calibration_version)
    row.state, row.pages, row.read_by, row.finished_at = READ, len(results), reader_id, utc_now()
    row.claimed_by = row.claimed_at = None
    session.flush()
    return len({r.page for r in results} - known_pages)


def fail_file(session: Session, intake_file_id: int, reader_id: str, error: str) -> None:
    """The file could not be read at all (the reader raised on it): set aside with the reason, kept in the archive."""
    row = session.get_one(IntakeFile, intake_file_id)
    if row.state == READ:
        return
    row.state, row.error, row.read_by, row.finished_at = FAILED, mask_personal_numbers(error), reader_id, utc_now()
    row.claimed_by = row.claimed_at = None
    session.flush()


def requeue_file(session: Session, intake_file_id: int, reader_id: str) -> str:
    """The reader process died under the file (and its siblings with it): back in the queue, or FAILED with the reason
    once it has been tried MAX_ATTEMPTS times (then it is more likely the file that kills readers). Returns the state."""
    row = session.get_one(IntakeFile, intake_file_id)
    if row.state != READING or row.claimed_by != reader_id:
        return row.state
    if row.attempts >= MAX_ATTEMPTS:
        row.state, row.finished_at, row.read_by = FAILED, utc_now(), reader_id
        row.error = f"読み取り処理が{row.attempts}回とも異常終了しました（ファイルの破損の可能性）/ the reader " \
                    f"process died {row.attempts} times on this file"
    else:
        row.state = QUEUED
    row.claimed_by = row.claimed_at = None
    session.flush()
    return row.state


def release_stale_reads(session: Session, older_than: timedelta) -> int:
    """Put READING files claimed longer ago than `older_than` back in the queue (their reader died)."""
    repo._ensure_write_lock(session)
    stale = select(IntakeFile).where(IntakeFile.state == READING, IntakeFile.claimed_at < utc_now() - older_than)
    return put_back_reads(session, stale, MAX_ATTEMPTS, lambda row: (
        f"読取が{row.attempts}回とも終わりませんでした / reading stopped {row.attempts} times without finishing "
        f"(last reader {row.claimed_by})"))


def put_back_reads(session: Session, reading_files, max_attempts: int, gave_up: Callable[[IntakeFile], str]) -> int:
    """The READING files this query selects (skipping rows another worker holds) back in the queue, or FAILED with
    `gave_up(row)` as the reason once they have been tried `max_attempts` times; returns how many."""
    if not is_sqlite(session):
        reading_files = reading_files.with_for_update(skip_locked=True)
    released = 0
    for row in session.scalars(reading_files.execution_options(populate_existing=True)).all():
        if row.attempts >= max_attempts:
            row.state, row.finished_at, row.error = FAILED, utc_now(), gave_up(row)
        else:
            row.state = QUEUED
        row.claimed_by = row.claimed_at = None
        released += 1
    session.flush()
    return released


def queue_counts(session: Session, batch_id: int | None = None) -> dict[str, int]:
    """Files per queue state (optionally of one batch)."""
    query = select(IntakeFile.state, func.count(IntakeFile.id)).group_by(IntakeFile.state)
    if batch_id is not None:
        query = query.where(IntakeFile.batch_id == batch_id)
    return {state: count for state, count in session.execute(query).all()}


def release_dead_reads(session: Session) -> int:
    """Put back the files of readers on this machine whose process is gone (kill -9, crash): no 30-minute wait."""
    return claims.release_dead_reads(session, MAX_ATTEMPTS)
