"""What one batch did, in numbers an operator acts on."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.models import Batch, FieldValue, Form
from ledger.privacy import mask_personal_numbers
from ledger.states import FormState


@dataclass
class BatchSummary:
    batch_id: int
    forms_total: int
    forms_by_state: dict[str, int]  # state value → count, states with no forms left out
    fields_total: int
    fields_accepted: int
    fields_review: int  # flagged for a person: still to review, or reviewed and corrected
    fields_empty: int
    fields_corrected: int
    forms_entered: int
    forms_failed: int  # ENTRY_FAILED now
    straight_through: float  # fields accepted without a person: accepted / (accepted + flagged)
    failure_reasons: dict[int, str] = field(default_factory=dict)  # form pk → reason of the failure
    quarantine_reasons: dict[int, str] = field(default_factory=dict)  # form pk → why it was set aside


def batch_summary(session: Session, batch_id: int) -> BatchSummary:
    if session.get(Batch, batch_id) is None:
        raise LookupError(f"no batch {batch_id} in the ledger")
    forms_by_state = {FormState(state).value: count for state, count in session.execute(
        select(Form.state, func.count(Form.id)).where(Form.batch_id == batch_id).group_by(Form.state))}
    fields_by_status: dict[str, int] = dict(session.execute(  # type: ignore[arg-type]
        select(FieldValue.status, func.count(FieldValue.id)).join(Form, FieldValue.form_pk == Form.id)
        .where(Form.batch_id == batch_id).group_by(FieldValue.status)).tuples().all())
    set_aside = session.execute(
        select(Form.id, Form.state, Form.state_reason).where(
            Form.batch_id == batch_id, Form.state.in_([FormState.ENTRY_FAILED, FormState.QUARANTINED]))
        .order_by(Form.id)).all()
    corrected = fields_by_status.get("corrected", 0)
    accepted = fields_by_status.get("accepted", 0)
    flagged = fields_by_status.get("review", 0) + corrected
    return BatchSummary(
        batch_id=batch_id,
        forms_total=sum(forms_by_state.values()),
        forms_by_state=forms_by_state,
        fields_total=sum(fields_by_status.values()),
        fields_accepted=accepted,
        fields_review=flagged,
        fields_empty=fields_by_status.get("empty", 0),
        fields_corrected=corrected,
        forms_entered=forms_by_state.get(FormState.ENTERED.value, 0),
        forms_failed=forms_by_state.get(FormState.ENTRY_FAILED.value, 0),
        straight_through=accepted / (accepted + flagged) if accepted + flagged else 0.0,
        failure_reasons={pk: mask_personal_numbers(reason) or "" for pk, state, reason in set_aside
                         if state == FormState.ENTRY_FAILED},
        quarantine_reasons={pk: mask_personal_numbers(reason) or "" for pk, state, reason in set_aside
                            if state == FormState.QUARANTINED},
    )
