"""Retention: delete page images and crops older than a configured number of days; the ledger and its audit stay.

What goes: an archived original scan once it is older than the cut-off and every form on it is finished (ENTERED or
QUARANTINED), and image files (evidence screenshots, crops, page renderings) older than the cut-off in the image
folders. What stays: every ledger row (forms, values, transitions, audit), so the record of who did what outlives
the pictures. Each deletion is itself an audit row.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ledger.audit import append_audit
from ledger.db import session_scope
from ledger.models import Form, ScanFile
from ledger.states import FormState, utc_now

FINISHED_STATES = frozenset({FormState.ENTERED, FormState.QUARANTINED})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp", ".pdf"})
RETENTION_ACTOR = "retention"


@dataclass
class RetentionOutcome:
    cutoff: datetime
    scans_deleted: int = 0
    scans_kept_in_work: int = 0  # older than the cut-off, but a form on them still waits for people or robots
    images_deleted: int = 0
    bytes_freed: int = 0
    images_by_folder: dict[str, int] = field(default_factory=dict)


def apply_retention(engine: Engine, archive_root: Path, image_folders: list[Path], days: int, *,
                    now: datetime | None = None, dry_run: bool = False) -> RetentionOutcome:
    if days < 0:
        raise ValueError("保存日数は 0 以上で指定してください / days must be 0 or more")
    cutoff = (now or utc_now()) - timedelta(days=days)
    outcome = RetentionOutcome(cutoff=cutoff)
    with session_scope(engine) as session:
        for scan_file in _old_scan_files(session, cutoff):
            if not _all_forms_finished(session, scan_file):
                outcome.scans_kept_in_work += 1
                continue
            freed = _delete_regular_file_inside(archive_root / scan_file.archived_path, archive_root, dry_run)
            if freed is None:
                continue  # deleted by an earlier run
            outcome.scans_deleted += 1
            outcome.bytes_freed += freed
            if not dry_run:
                append_audit(session, actor=RETENTION_ACTOR, action="retention_delete",
                             subject=f"scan_file:{scan_file.id}",
                             before={"archived_path": scan_file.archived_path, "sha256": scan_file.sha256},
                             after={"deleted": True, "cutoff": cutoff.isoformat()})
        for folder in image_folders:
            count = 0
            for path in _old_images(folder, cutoff):
                freed = _delete_regular_file_inside(path, folder, dry_run)
                if freed is not None:
                    count += 1
                    outcome.bytes_freed += freed
            outcome.images_by_folder[str(folder)] = count
            outcome.images_deleted += count
            if count and not dry_run:
                append_audit(session, actor=RETENTION_ACTOR, action="retention_delete_images",
                             subject=f"folder:{folder.name}", after={"files": count, "cutoff": cutoff.isoformat()})
        if dry_run:
            session.rollback()
    return outcome


def _old_scan_files(session: Session, cutoff: datetime) -> list[ScanFile]:
    return list(session.scalars(select(ScanFile).where(ScanFile.received_at < cutoff).order_by(ScanFile.id)))


def _all_forms_finished(session: Session, scan_file: ScanFile) -> bool:
    states = session.scalars(select(Form.state).where(Form.scan_file_id == scan_file.id)).all()
    return len(states) >= scan_file.page_count and all(FormState(s) in FINISHED_STATES for s in states)


def _old_images(folder: Path, cutoff: datetime) -> list[Path]:
    found: list[Path] = []
    cutoff_ts = cutoff.timestamp()
    for root, dir_names, file_names in os.walk(folder, followlinks=False):
        dir_names.sort()
        for name in sorted(file_names):
            path = Path(root) / name
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and path.suffix.lower() in IMAGE_SUFFIXES and info.st_mtime < cutoff_ts:
                found.append(path)
    return found


def _delete_regular_file_inside(path: Path, root: Path, dry_run: bool) -> int | None:
    """Bytes freed, or None when there is nothing to delete. Never follows a link out of `root`."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    real_root = Path(os.path.realpath(root))
    real_parent = Path(os.path.realpath(path.parent))
    if not stat.S_ISREG(info.st_mode) or not (real_parent == real_root or real_root in real_parent.parents):
        return None
    if not dry_run:
        path.unlink()
    return info.st_size
