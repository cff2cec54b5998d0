"""`taxintake export-labelled --out DIR`: the review history as a labelled set for later improvement.

For every judged field a person decided (reviewed, or drawn for an audit sample and settled): its crop, cut from the
archived original registered to its template again (`<form>_<field>.png`, never a value in a name), and a line of
`labels.jsonl` with the agreed value, the reading, whether they agree, the kind, the engine score, where the label
came from (review or audit sample) and the calibration version that judged it.

Retention: only forms received within `--retention-days` (default TAXINTAKE_RETENTION_DAYS, the setting
`taxintake retention` deletes by; one of them is required) and whose archived scan is still kept; 個人番号 never leave: fields that hold one are left out, every crop has the page's
個人番号 boxes greyed out, and a label that looks like one (12 digits) is left out too.
"""
from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from taxintake.commands.retention import RETENTION_DAYS_ENV as RETENTION_ENV


@dataclass
class ExportCounts:
    written: int = 0
    personal: int = 0  # left out: a 個人番号
    expired: int = 0  # left out: older than the retention period
    unavailable: int = 0  # left out: the archived scan is gone or no longer registers


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="出力先フォルダ / folder for crops and labels.jsonl")
    parser.add_argument("--retention-days", type=int, default=None,
                        help=f"保存期間（日）/ retention in days (default ${RETENTION_ENV})")


def run(args: argparse.Namespace) -> int:
    from ledger.db import init_db, make_engine
    from taxintake.config import load_settings

    settings = load_settings()
    engine = make_engine(settings.ledger_url)
    init_db(engine)
    retention = args.retention_days if args.retention_days is not None else _days_from_environment()
    if retention is None:
        print(f"保存日数を --retention-days か {RETENTION_ENV} で指定してください / give --retention-days or "
              f"{RETENTION_ENV}")
        return 2
    counts = export_labelled(engine, settings.archive, settings.home / "review_cache", args.out, retention)
    print(f"labelled set: {counts.written} crops with labels in {args.out / 'labels.jsonl'}; left out "
          f"{counts.personal} 個人番号, {counts.expired} past retention ({retention} days), "
          f"{counts.unavailable} without their scan")
    return 0


def _days_from_environment() -> int | None:
    value = os.environ.get(RETENTION_ENV, "").strip()
    return int(value) if value.isdigit() else None


def export_labelled(engine, archive_root: Path, cache_dir: Path, out: Path, retention_days: int) -> ExportCounts:
    from sqlalchemy import select

    from ledger.db import session_scope
    from ledger.models import AuditSample, FieldValue, Form, FormCalibration, ReadEvidence, ScanFile
    from ledger.privacy import mask_personal_numbers
    from ledger.states import utc_now
    from ledger.values import decode_value
    from review.fields import holds_personal_number
    from review.images import ImageUnavailable, PageImages, PageKey
    from review.viewmodel import personal_boxes, spec_of, template_for

    out.mkdir(parents=True, exist_ok=True)
    images = PageImages(archive_root, cache_dir)
    cutoff = utc_now() - timedelta(days=retention_days)
    counts = ExportCounts()
    lines = []
    with session_scope(engine, write=False) as session:
        rows = session.execute(
            select(ReadEvidence, FieldValue, Form, ScanFile, AuditSample, FormCalibration.calibration_version)
            .join(FieldValue, (FieldValue.form_pk == ReadEvidence.form_pk)
                  & (FieldValue.name == ReadEvidence.field_name))
            .join(Form, Form.id == ReadEvidence.form_pk).join(ScanFile, ScanFile.id == Form.scan_file_id)
            .outerjoin(AuditSample, (AuditSample.form_pk == ReadEvidence.form_pk)
                       & (AuditSample.field_name == ReadEvidence.field_name))
            .outerjoin(FormCalibration, FormCalibration.form_pk == Form.id)
            .where(FieldValue.status == "corrected").order_by(Form.id, FieldValue.id)).tuples().all()
        for evidence, field_row, form, scan, sample, version in rows:
            if sample is not None and sample.outcome == "pending":
                continue
            template = template_for(form.form_id)
            spec = spec_of(template, field_row.name)
            label, read = decode_value(field_row.corrected_value), decode_value(field_row.value)
            if template is None or spec is None:
                counts.unavailable += 1
                continue
            if holds_personal_number(spec) or any(isinstance(v, str) and mask_personal_numbers(v) != v
                                                  for v in (label, read)):
                counts.personal += 1
                continue
            if form.created_at < cutoff:
                counts.expired += 1
                continue
            key = PageKey(scan.sha256, scan.archived_path, form.page, template.form_id)
            try:
                png = images.crop_png(key, template, spec.box, personal_boxes(template))
            except ImageUnavailable:
                counts.unavailable += 1
                continue
            image_name = f"{form.id}_{field_row.name}.png"
            (out / image_name).write_bytes(png)
            lines.append({"image": image_name, "form_id": form.form_id, "field": field_row.name, "kind": spec.kind,
                          "label": label, "read": read, "right": label == read,
                          "engine_score": evidence.engine_score, "passed_checks": evidence.passed_checks,
                          "source": "audit_sample" if sample is not None else "review",
                          "calibration_version": version, "received_at": form.created_at.isoformat()})
            counts.written += 1
    (out / "labels.jsonl").write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines),
                                      encoding="utf-8")
    return counts
