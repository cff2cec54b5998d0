"""Confirm as written (記載どおり確定): a supervisor accepts a value that fails a check because the paper says so
(電話 11-3972-7885 written that way), with a reason from a short list; audited, and listed in the batch report.
A clerk may not: the check is the clerk's safety net."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import AuditEntry, Form

ACTION = "review.confirm_as_written"
REFUSED_ACTION = "review.confirm_as_written_refused"
REASONS = {
    "written_so": "用紙にそのとおり記載されている（読取・入力の誤りではない）",
    "confirmed_with_filer": "提出者（事業所）に確認した",
    "attached_document": "添付書類・前年の届出で確認した",
    "legacy_format": "旧い番号・表記のまま受け付ける（システムにそのまま入力）",
}


def reason_text(code: str) -> str | None:
    return REASONS.get(code)


@dataclass(frozen=True)
class AsWritten:
    form_pk: int
    field_name: str
    by: str
    at: datetime
    reason: str  # the reason's words
    problems: list[str]


def confirmed_as_written(session: Session, batch_id: int) -> list[AsWritten]:
    """The values of a batch's forms that a supervisor confirmed as written, oldest first."""
    form_pks = set(session.scalars(select(Form.id).where(Form.batch_id == batch_id)))
    rows = []
    for row in session.scalars(select(AuditEntry).where(AuditEntry.action == ACTION).order_by(AuditEntry.id)):
        form_part, _, field_part = row.subject.partition("/")
        form_pk = int(form_part.removeprefix("form:"))
        if form_pk not in form_pks:
            continue
        after = json.loads(row.after or "{}")
        rows.append(AsWritten(form_pk, field_part.removeprefix("field:"), row.actor, row.at,
                               REASONS.get(after.get("reason", ""), after.get("reason", "")),
                               list(after.get("problems", []))))
    return rows
