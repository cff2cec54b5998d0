"""Real forms in a real ledger for the review page's tests, its screenshot and its benchmark.

Scans are read by the real reader once; each form is then recorded with chosen fields flagged (as the reader
flags a low score), so a test knows exactly what is waiting without depending on today's recogniser scores.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flows.archive import ArchivedScan, archive_scan
from ledger import repo, review_repo
from ledger.db import init_db, make_engine, session_scope
from ocr.result import ReadResult
from review.auth import hash_password

REPO = Path(__file__).resolve().parent.parent
SCANS = REPO / "samples" / "scans"
PASSWORD = "correct-horse-battery"


@dataclass
class ReadScan:
    path: Path
    result: ReadResult


def read_scan(name: str) -> ReadScan:
    from ocr.read import read_path
    from ocr.recognize import make_recognizer

    path = SCANS / name
    results = list(read_path(path, make_recognizer("rapidocr")))
    return ReadScan(path, results[0])


def flagged_copy(result: ReadResult, flags: dict[str, list[str]], values: dict[str, object] | None = None
                 ) -> ReadResult:
    """The reading with exactly `flags` flagged (name → reasons) and every other field accepted or empty."""
    copied = copy.deepcopy(result)
    for name, reading in copied.fields.items():
        if values and name in values:
            reading.value = values[name]  # type: ignore[assignment]
        if name in flags:
            reading.status, reading.reasons = "review", list(flags[name])
        else:
            reading.status = "empty" if reading.value in (None, "") else "accepted"
            reading.reasons = []
    return copied


def make_ledger(url: str) -> object:
    engine = make_engine(url)
    init_db(engine)
    return engine


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return hash_password(PASSWORD)  # one argon2 hash (salted) serves every test user: hashing is slow on purpose


def add_users(engine, users: dict[str, str]) -> None:
    with session_scope(engine) as session:
        for name, role in users.items():
            review_repo.create_user(session, name, f"{name} さん", role, _password_hash())


def record_form(engine, archive_root: Path, scan: ReadScan, result: ReadResult, label: str = "review test") -> int:
    """Archive the scan and record `result` as its page 1 in a new batch; returns the form's primary key."""
    archived: ArchivedScan = archive_scan(scan.path, archive_root)
    with session_scope(engine) as session:
        batch = repo.create_batch(session, label=label, source=str(scan.path.parent))
        scan_file, _ = repo.register_scan_file(session, batch, scan.path.name, archived.relative_path,
                                               archived.sha256, 1)
        form = repo.record_read_result(session, batch, scan_file, result)
        return form.id
