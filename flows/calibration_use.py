"""The calibration the reader uses for a batch: the newest version in the ledger (written out as a file under the
calibration folder, named by its version), else the committed one (`ocr/calibration.json`), else none."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ledger.calibrations import latest_version
from ledger.db import session_scope
from ledger.models import CalibrationVersion
from ocr import calibration


def default_calibration_dir() -> Path:
    from taxintake.config import load_settings

    return load_settings().home / "calibration"


def write_version_file(row: CalibrationVersion, folder: Path) -> Path:
    """The version's file in `folder` (written if missing or different): what the reader's processes load."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / row.file_name
    if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != row.sha256:
        partial = path.with_suffix(".partial")
        partial.write_text(row.content, encoding="utf-8")
        partial.replace(path)
    return path


@contextmanager
def calibration_in_use(engine, folder: Path | None = None) -> Iterator[str]:
    """Point the reader (this process and the workers it starts) at the calibration in use; yields its version."""
    with session_scope(engine, write=False) as session:
        row = latest_version(session)
        path = write_version_file(row, folder or default_calibration_dir()) if row is not None else None
    if path is None:
        yield calibration.calibration_version(calibration.load_calibration())
        return
    before = os.environ.get(calibration.CALIBRATION_ENV)
    os.environ[calibration.CALIBRATION_ENV] = str(path)
    try:
        yield calibration.calibration_version(calibration.load_calibration(path))
    finally:
        if before is None:
            os.environ.pop(calibration.CALIBRATION_ENV, None)
        else:
            os.environ[calibration.CALIBRATION_ENV] = before
