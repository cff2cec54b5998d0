"""The append-only audit trail: every state change, correction, reveal and robot entry, hash-chained.

Each row's hash covers its own content and the hash of the row before it, so an edited row breaks its own hash and
a removed row breaks its successor's `prev_hash`. The hash is an HMAC-SHA256 under the audit key (taxintake.keys:
TAXINTAKE_AUDIT_KEY or a Prefect Secret block, never in the database), so someone who can write the database but not
read the key cannot recompute the chain after a forgery. Rows written before the chain was keyed (plain SHA-256)
verify as `unkeyed` problems until `taxintake audit rekey` re-seals them (after checking their plain chain). Rows are appended under the database's write lock (SQLite: the
writing session's BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock), so the chain never forks.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ledger.models import AuditEntry
from ledger.privacy import mask_personal_numbers
from ledger.states import utc_now

GENESIS_HASH = "0" * 64
_AUDIT_LOCK_ID = 0x7A71_0002


def _masked_json(value: Any) -> str | None:
    if value is None:
        return None
    return mask_personal_numbers(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))


def _canonical(prev_hash: str, at: datetime, actor: str, action: str, subject: str, before: str | None,
               after: str | None) -> bytes:
    return json.dumps([prev_hash, at.isoformat(timespec="microseconds"), actor, action, subject, before, after],
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _audit_key() -> bytes:
    from taxintake.keys import audit_key  # kept apart from the database, beside the other settings

    return audit_key()


def _row_hash(prev_hash: str, at: datetime, actor: str, action: str, subject: str, before: str | None,
              after: str | None, *, key: bytes | None = None) -> str:
    canonical = _canonical(prev_hash, at, actor, action, subject, before, after)
    return hmac.new(key if key is not None else _audit_key(), canonical, hashlib.sha256).hexdigest()


def _unkeyed_row_hash(prev_hash: str, at: datetime, actor: str, action: str, subject: str, before: str | None,
                      after: str | None) -> str:
    """The chain as it was before it was keyed: anyone can recompute it, so it proves nothing against a forger."""
    return hashlib.sha256(_canonical(prev_hash, at, actor, action, subject, before, after)).hexdigest()


def append_audit(session: Session, *, actor: str, action: str, subject: str, before: Any = None,
                 after: Any = None) -> AuditEntry:
    """Add one audit row in `session`'s transaction; `before`/`after` are JSON-able and stored with 個人番号 masked."""
    if not actor or not action or not subject:
        raise ValueError("an audit row needs an actor, an action and a subject")
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:lock_id)"), {"lock_id": _AUDIT_LOCK_ID})
    last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one_or_none()
    prev_hash = last.row_hash if last is not None else GENESIS_HASH
    # Microsecond precision is what both databases keep, so the hash recomputes from the stored value.
    at = utc_now()
    before_json, after_json = _masked_json(before), _masked_json(after)
    safe_subject = mask_personal_numbers(subject) or subject
    entry = AuditEntry(at=at, actor=actor, action=action, subject=safe_subject, before=before_json,
                       after=after_json, prev_hash=prev_hash,
                       row_hash=_row_hash(prev_hash, at, actor, action, safe_subject, before_json, after_json))
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditProblem:
    row_id: int
    problem: str  # "edited" | "removed_before" | "broken_link" | "unkeyed"
    message: str


def verify_audit(session: Session) -> list[AuditProblem]:
    """Walk the chain in id order; an empty list means no row was edited or removed (except, unavoidably, the last)."""
    problems: list[AuditProblem] = []
    expected_prev = GENESIS_HASH
    previous_id = 0
    key = _audit_key()
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        if entry.prev_hash != expected_prev:
            kind = "removed_before" if entry.id != previous_id + 1 else "broken_link"
            problems.append(AuditProblem(entry.id, kind,
                                         f"監査ログ {entry.id} の前の行が削除または改ざんされています "
                                         f"(row {entry.id}: the row before it was removed or changed)"))
        fields = (entry.prev_hash, entry.at, entry.actor, entry.action, entry.subject, entry.before, entry.after)
        if hmac.compare_digest(_row_hash(*fields, key=key), entry.row_hash):
            pass
        elif _unkeyed_row_hash(*fields) == entry.row_hash:
            # Either written before the chain was keyed, or forged by someone who recomputed plain hashes.
            problems.append(AuditProblem(entry.id, "unkeyed",
                                         f"監査ログ {entry.id} は鍵なしのハッシュです（鍵導入前の行なら "
                                         f"`taxintake audit rekey` で再封印、そうでなければ改ざん）/ row {entry.id} "
                                         f"has an unkeyed hash: a row from before keying (run `taxintake audit "
                                         f"rekey`) or a forgery"))
        else:
            problems.append(AuditProblem(entry.id, "edited",
                                         f"監査ログ {entry.id} の内容が書き換えられています (row {entry.id} was edited)"))
        expected_prev = entry.row_hash
        previous_id = entry.id
    return problems


def rekey_audit(session: Session, actor: str) -> int:
    """Migrate a chain written before keying: check every row's plain SHA-256 chain first (refusing if any row was
    edited or removed), then re-seal the whole chain with the audit key and audit that it was done. Returns how
    many rows were unkeyed."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:lock_id)"), {"lock_id": _AUDIT_LOCK_ID})
    key = _audit_key()
    entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    expected_prev, unkeyed = GENESIS_HASH, 0
    for entry in entries:
        fields = (entry.prev_hash, entry.at, entry.actor, entry.action, entry.subject, entry.before, entry.after)
        keyed_ok = hmac.compare_digest(_row_hash(*fields, key=key), entry.row_hash)
        if entry.prev_hash != expected_prev or not (keyed_ok or _unkeyed_row_hash(*fields) == entry.row_hash):
            raise ValueError(f"監査ログ {entry.id} が壊れているため再封印しません / row {entry.id} does not verify "
                             f"(edited or removed): not re-sealing over it")
        unkeyed += not keyed_ok
        expected_prev = entry.row_hash
    prev = GENESIS_HASH
    for entry in entries:
        entry.prev_hash = prev
        entry.row_hash = _row_hash(prev, entry.at, entry.actor, entry.action, entry.subject, entry.before,
                                   entry.after, key=key)
        prev = entry.row_hash
    session.flush()
    append_audit(session, actor=actor, action="audit.rekeyed", subject="audit_log",
                 after={"rows": len(entries), "unkeyed_rows": unkeyed})
    return unkeyed


def forms_with_unaudited_transitions(session: Session) -> list[int]:
    """Forms with more transition rows than state-change audit rows: a state change the trail lost (a removed last
    row, which the chain alone cannot see) or one written around `transition()`."""
    from sqlalchemy import func

    from ledger.models import Transition

    transitions = dict(session.execute(select(Transition.form_pk, func.count()).group_by(Transition.form_pk)).all())
    audited: dict[int, int] = {}
    for subject in session.scalars(select(AuditEntry.subject).where(AuditEntry.action == "state_change")):
        if subject.startswith("form:") and subject[5:].isdigit():
            audited[int(subject[5:])] = audited.get(int(subject[5:]), 0) + 1
    return sorted(form_pk for form_pk, count in transitions.items() if audited.get(form_pk, 0) < count)


def audit_head(session: Session) -> AuditEntry | None:
    """The last row: keep its id and hash somewhere else to detect rows cut from the end later."""
    return session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one_or_none()
