"""Calibration versions in the ledger: each one `taxintake calibrate` fitted, with its JSON, so that every machine
reading for this ledger reads with the same one (the newest)."""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.audit import append_audit
from ledger.models import CalibrationVersion
from ledger.states import utc_now


def latest_version(session: Session) -> CalibrationVersion | None:
    return session.scalars(select(CalibrationVersion).order_by(CalibrationVersion.id.desc()).limit(1)).one_or_none()


def next_version_name(session: Session) -> str:
    count = session.scalar(select(func.count(CalibrationVersion.id))) or 0
    return f"cal-{count + 1:04d}"


def content_text(calibration: dict) -> str:
    return json.dumps(calibration, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def save_version(session: Session, calibration: dict, *, created_by: str, summary: dict | None = None
                 ) -> CalibrationVersion:
    """Keep a fitted calibration (its `version` set) as the newest; audited with what it was fitted on."""
    text = content_text(calibration)
    row = CalibrationVersion(version=calibration["version"], based_on=calibration.get("based_on", ""),
                             created_at=utc_now(), created_by=created_by, file_name=f"{calibration['version']}.json",
                             sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), content=text)
    session.add(row)
    session.flush()
    append_audit(session, actor=created_by, action="calibration.fit", subject=f"calibration:{row.version}",
                 before={"version": row.based_on}, after={"version": row.version, "sha256": row.sha256,
                                                          **(summary or {})})
    return row
