"""Undo: a person takes back their own last decision on the review page, each undo audited.

What can be taken back: a saved field (corrected, confirmed, confirmed as written) while its form is still in review
or READY and not yet claimed by a robot (the form goes back to review), and a form they set aside (rejected). A
blind entry (ベリファイ) is not taken back: the point of it is that the first entry stands as typed; nor is an
audit-sample field once settled, whose outcome the trust estimate has counted.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit import append_audit
from ledger.models import AuditEntry, FieldValue, Form
from ledger.review_repo import AUDIT_SAMPLE_REASON, REVIEW, reasons_of
from ledger.states import FormState, transition, utc_now
from ledger.values import decode_value

FIELD_ACTIONS = ("review.correct", "review.confirm", "review.confirm_as_written")
FORM_ACTIONS = ("review.reject",)
UNDO_ACTION = "review.undo"
UNDO_WINDOW = timedelta(hours=2)  # a decision of the morning is not "just made": it goes through the supervisor


class NothingToUndo(Exception):
    """Nothing of this person's can be taken back now (with the reason in Japanese)."""


@dataclass(frozen=True)
class Undone:
    form_pk: int
    field_name: str | None  # None: the rejection of the whole form was taken back
    message: str


def _subject_parts(subject: str) -> tuple[int, str | None]:
    form_part, _, field_part = subject.partition("/")
    return int(form_part.removeprefix("form:")), (field_part.removeprefix("field:") or None)


def last_decision(session: Session, user: str) -> AuditEntry | None:
    """The person's newest decision that no undo has taken back yet, within the window."""
    since = utc_now() - UNDO_WINDOW
    rows = list(session.scalars(select(AuditEntry).where(
        AuditEntry.actor == user, AuditEntry.at >= since,
        AuditEntry.action.in_((*FIELD_ACTIONS, *FORM_ACTIONS, UNDO_ACTION))).order_by(AuditEntry.id.desc())))
    undone = {json.loads(row.after or "{}").get("undoes") for row in rows if row.action == UNDO_ACTION}
    return next((row for row in rows if row.action != UNDO_ACTION and row.id not in undone), None)


def undo_last(session: Session, user: str) -> Undone:
    decision = last_decision(session, user)
    if decision is None:
        raise NothingToUndo("元に戻せる操作はありません（直近2時間のご自身の確定・差し戻しのみ戻せます）")
    form_pk, field_name = _subject_parts(decision.subject)
    form = session.scalars(select(Form).where(Form.id == form_pk).with_for_update()
                           .execution_options(populate_existing=True)).one()
    if decision.action in FORM_ACTIONS:
        return _undo_reject(session, form, decision, user)
    return _undo_field(session, form, field_name or "", decision, user)


def _undo_reject(session: Session, form: Form, decision: AuditEntry, user: str) -> Undone:
    if form.state != FormState.QUARANTINED:
        raise NothingToUndo(f"様式 {form.id} は差し戻し（保留）の状態ではないため戻せません")
    transition(session, form, FormState.NEEDS_REVIEW, actor=user, reason=f"差し戻しを取り消し / rejection undone by {user}",
               undo=True)
    append_audit(session, actor=user, action=UNDO_ACTION, subject=decision.subject,
                 before={"state": FormState.QUARANTINED.value},
                 after={"undoes": decision.id, "action": decision.action, "state": FormState.NEEDS_REVIEW.value})
    session.flush()
    return Undone(form.id, None, f"様式 {form.id} の差し戻しを取り消しました。確認待ちに戻りました。")


def _undo_field(session: Session, form: Form, name: str, decision: AuditEntry, user: str) -> Undone:
    if form.state not in (FormState.NEEDS_REVIEW, FormState.READY):
        raise NothingToUndo(f"様式 {form.id} はすでにロボットが入力を始めたため戻せません（状態 {form.state}）")
    field = session.scalars(select(FieldValue).where(FieldValue.form_pk == form.id, FieldValue.name == name)
                            .with_for_update().execution_options(populate_existing=True)).one()
    if field.status != "corrected" or field.corrected_by != user:
        raise NothingToUndo(f"{name} はその後ほかの人が確定したため戻せません")
    if AUDIT_SAMPLE_REASON in reasons_of(field):
        raise NothingToUndo("抜き取り検査の項目は集計済みのため戻せません。監督者に相談してください")
    was = decode_value(field.corrected_value)
    field.status, field.corrected_value, field.corrected_by, field.corrected_at = REVIEW, None, None, None
    reopened_form = form.state == FormState.READY
    if reopened_form:
        transition(session, form, FormState.NEEDS_REVIEW, actor=user,
                   reason=f"確定を取り消し / undone by {user}: {name}", undo=True)
    append_audit(session, actor=user, action=UNDO_ACTION, subject=decision.subject, before={"value": was},
                 after={"undoes": decision.id, "action": decision.action, "reopened_form": reopened_form})
    session.flush()
    return Undone(form.id, name, "直前の確定を取り消しました。もう一度確認してください。"
                  + ("（様式は確認待ちに戻りました）" if reopened_form else ""))
