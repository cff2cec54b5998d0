"""Form states and the one function allowed to move a form between them."""
from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum
from typing import TYPE_CHECKING

from ledger.privacy import mask_personal_numbers

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ledger.models import Form


class FormState(StrEnum):
    RECEIVED = "RECEIVED"
    READ = "READ"
    NEEDS_REVIEW = "NEEDS_REVIEW"
    READY = "READY"
    ENTERING = "ENTERING"
    ENTERED = "ENTERED"
    ENTRY_FAILED = "ENTRY_FAILED"
    QUARANTINED = "QUARANTINED"


ALLOWED_TRANSITIONS: dict[FormState, frozenset[FormState]] = {
    FormState.RECEIVED: frozenset({FormState.READ, FormState.QUARANTINED}),
    FormState.READ: frozenset({FormState.NEEDS_REVIEW, FormState.READY, FormState.QUARANTINED}),
    FormState.NEEDS_REVIEW: frozenset({FormState.READY, FormState.QUARANTINED}),
    FormState.READY: frozenset({FormState.ENTERING}),
    # NEEDS_REVIEW: the robot found homonyms or nobody, so people decide; READY: a crashed robot's claim released.
    FormState.ENTERING: frozenset({FormState.ENTERED, FormState.ENTRY_FAILED, FormState.NEEDS_REVIEW,
                                   FormState.READY}),
    FormState.ENTRY_FAILED: frozenset({FormState.READY}),
    FormState.ENTERED: frozenset(),
    FormState.QUARANTINED: frozenset(),
}


# A person taking back their own decision at once (review/undo.py): a form they just made READY, before a robot
# claims it, or one they just set aside. Only `transition(..., undo=True)` may make these moves.
UNDO_TRANSITIONS: dict[FormState, frozenset[FormState]] = {
    FormState.READY: frozenset({FormState.NEEDS_REVIEW}),
    FormState.QUARANTINED: frozenset({FormState.NEEDS_REVIEW}),
}


class IllegalTransition(Exception):
    """A move between states that the state machine does not allow."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def check_transition(from_state: FormState | None, to_state: FormState, *, undo: bool = False) -> None:
    if from_state is None:
        if to_state is not FormState.RECEIVED:
            raise IllegalTransition(f"a new form starts RECEIVED, not {to_state}")
        return
    if undo and to_state in UNDO_TRANSITIONS.get(FormState(from_state), frozenset()):
        return
    if to_state not in ALLOWED_TRANSITIONS[FormState(from_state)]:
        raise IllegalTransition(f"{from_state} → {to_state} is not allowed")


def transition(session: Session, form: Form, to_state: FormState, *, actor: str,
               reason: str | None = None, undo: bool = False) -> Form:
    """Move `form` to `to_state`, writing its transition row and its hash-chained audit row (actor, UTC time,
    before/after state, reason with 個人番号 masked).

    Entering ENTERING records `actor` as the claimer; leaving it clears the claim.
    """
    from ledger.models import Transition

    to_state = FormState(to_state)
    from_state = FormState(form.state) if form.state is not None else None
    check_transition(from_state, to_state, undo=undo)
    if not actor:
        raise ValueError("a transition needs an actor: 'system', a robot id or a user name")
    now = utc_now()
    safe_reason = mask_personal_numbers(reason)
    form.state = to_state
    form.state_reason = safe_reason
    form.updated_at = now
    if to_state is FormState.ENTERING:
        form.claimed_by, form.claimed_at = actor, now
    elif from_state is FormState.ENTERING:
        form.claimed_by, form.claimed_at = None, None
    if form.id is None:
        session.add(form)
        session.flush()
    session.add(Transition(form_pk=form.id, from_state=from_state, to_state=to_state, actor=actor, at=now,
                           reason=safe_reason))
    audit_state_change(session, form.id, from_state, to_state, actor=actor, reason=safe_reason)
    return form


def audit_state_change(session: Session, form_pk: int, from_state: FormState | None, to_state: FormState, *,
                       actor: str, reason: str | None = None) -> None:
    """The hash-chained audit row for one state change (`transition` writes it; so must any bulk move)."""
    from ledger.audit import append_audit

    append_audit(session, actor=actor, action="state_change", subject=f"form:{form_pk}",
                 before={"state": from_state.value if from_state is not None else None},
                 after={"state": FormState(to_state).value, "reason": mask_personal_numbers(reason)})
