"""The ledger's sealed 個人番号 over their life: retired once entered and read back, re-encrypted on key rotation.

Sealed values sit in three columns: field_values.value, field_values.corrected_value and blind_entries.value
(ledger.crypto says what a sealed value is). Free text (reasons, audit rows, read_json) holds them masked only.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ledger import crypto
from ledger.audit import append_audit
from ledger.models import BlindEntry, FieldValue, Form, Transition
from ledger.states import FormState, utc_now

_SEALED_LIKE = '{"$mynumber"%'


def _sealed_rows(session: Session, form_pks: list[int] | None = None):
    """(row, column name) for every sealed value, of the given forms or of all."""
    fields = select(FieldValue).where(or_(FieldValue.value.like(_SEALED_LIKE),
                                          FieldValue.corrected_value.like(_SEALED_LIKE)))
    blinds = select(BlindEntry).where(BlindEntry.value.like(_SEALED_LIKE))
    if form_pks is not None:
        fields = fields.where(FieldValue.form_pk.in_(form_pks))
        blinds = blinds.where(BlindEntry.form_pk.in_(form_pks))
    for row in session.scalars(fields.order_by(FieldValue.id)):
        for column in ("value", "corrected_value"):
            if crypto.is_sealed(getattr(row, column)):
                yield row, column
    for row in session.scalars(blinds.order_by(BlindEntry.id)):
        yield row, "value"


def retire_form_numbers(session: Session, form_pk: int, actor: str = "system") -> int:
    """Drop the ciphertext of an ENTERED form's 個人番号 (their keyed hash and masked form stay); audited."""
    state = session.scalar(select(Form.state).where(Form.id == form_pk))
    if state != FormState.ENTERED:
        raise ValueError(f"form {form_pk} is {state}: only an entered form's 個人番号 are retired")
    retired = 0
    for row, column in list(_sealed_rows(session, [form_pk])):
        stored = getattr(row, column)
        if not crypto.is_retired(stored):
            setattr(row, column, crypto.retire(stored))
            retired += 1
    if retired:
        session.flush()
        append_audit(session, actor=actor, action="mynumber.retired", subject=f"form:{form_pk}",
                     after={"values": retired})
    return retired


def retire_due(session: Session, retention_days: int, actor: str = "system") -> int:
    """Retire the 個人番号 of every form ENTERED at least `retention_days` ago; returns how many values."""
    cutoff = utc_now() - timedelta(days=retention_days)
    entered_at = (select(Transition.form_pk, func.max(Transition.at).label("at"))
                  .where(Transition.to_state == FormState.ENTERED).group_by(Transition.form_pk).subquery())
    due = session.scalars(
        select(Form.id).join(entered_at, entered_at.c.form_pk == Form.id)
        .where(Form.state == FormState.ENTERED, entered_at.c.at <= cutoff)
        .where(or_(Form.id.in_(select(FieldValue.form_pk).where(FieldValue.value.like('{"$mynumber"%"ct"%'))),
                   Form.id.in_(select(FieldValue.form_pk)
                               .where(FieldValue.corrected_value.like('{"$mynumber"%"ct"%'))),
                   Form.id.in_(select(BlindEntry.form_pk).where(BlindEntry.value.like('{"$mynumber"%"ct"%')))))
        .order_by(Form.id)).all()
    return sum(retire_form_numbers(session, form_pk, actor) for form_pk in due)


@dataclass
class Rotation:
    current_key: str
    reencrypted: int = 0
    already_current: int = 0
    retired: int = 0  # hash and masked form only: nothing to re-encrypt
    by_old_key: dict[str, int] = field(default_factory=dict)


def rotate_keys(session: Session, actor: str) -> Rotation:
    """Re-encrypt every sealed 個人番号 not under the current key; audited (key ids and counts, never keys)."""
    ring = crypto.keyring()
    rotation = Rotation(current_key=ring.current_id)
    old = Counter()
    for row, column in list(_sealed_rows(session)):
        stored = getattr(row, column)
        if crypto.is_retired(stored):
            rotation.retired += 1
        elif crypto.key_id_of(stored) == ring.current_id:
            rotation.already_current += 1
        else:
            old[crypto.key_id_of(stored)] += 1
            setattr(row, column, crypto.rotate_value(stored))
            rotation.reencrypted += 1
    rotation.by_old_key = dict(old)
    session.flush()
    append_audit(session, actor=actor, action="keys.rotate", subject="mynumber_keys", after={
        "current_key": ring.current_id, "reencrypted": rotation.reencrypted, "from_keys": rotation.by_old_key,
        "already_current": rotation.already_current, "retired": rotation.retired})
    return rotation


def sealed_counts(session: Session) -> dict[str, dict[str, int]]:
    """Key id -> {"sealed": n, "retired": m}: what each key still protects."""
    counts: dict[str, dict[str, int]] = {}
    for _row, column in _sealed_rows(session):
        stored = getattr(_row, column)
        entry = counts.setdefault(crypto.key_id_of(stored), {"sealed": 0, "retired": 0})
        entry["retired" if crypto.is_retired(stored) else "sealed"] += 1
    return counts
