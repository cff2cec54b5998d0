"""Blind double entry (ベリファイ): how each flagged field is reviewed, and what a blind entry decides.

A field is entered blind when its kind is configured for it (a 個人番号, an amount) or when it was drawn for an
audit sample. The first person types it without seeing the reading: equal to the reading, it is accepted;
different, it goes to a second person, who also types blind. The second entry is accepted when it equals the
reading or the first entry; otherwise the field is a conflict and a supervisor decides with everything in view.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from ledger import review_repo
from ledger.models import BlindEntry
from ledger.review_repo import AUDIT_SAMPLE_REASON
from ledger.values import FieldValueType, reveal_value

Mode = Literal["form", "blind", "audit_sample", "second", "waiting", "conflict"]


def review_mode(kind: str, reasons: list[str], entries: list[BlindEntry], blind_kinds: frozenset[str],
                user: str) -> Mode:
    """How `user` reviews this flagged field now."""
    blind = AUDIT_SAMPLE_REASON in reasons or kind in blind_kinds
    if not blind:
        return "form"
    if any(entry.outcome == "conflict" for entry in entries):
        return "conflict"
    if entries and entries[-1].outcome == "mismatch":
        return "waiting" if any(entry.user_name == user for entry in entries) else "second"
    return "audit_sample" if AUDIT_SAMPLE_REASON in reasons else "blind"


def entrants(entries: list[BlindEntry]) -> set[str]:
    return {entry.user_name for entry in entries}


def may_decide_conflict(user: str, is_supervisor: bool, entries: list[BlindEntry]) -> bool:
    """A conflict is decided by a third person: a supervisor who made neither blind entry (one of the two deciding
    between their own entry and the other's would simply keep their own)."""
    return is_supervisor and user not in entrants(entries)


def entry_mode(reasons: list[str]) -> str:
    """The mode recorded with a blind entry and its seconds on screen."""
    return "audit_sample" if AUDIT_SAMPLE_REASON in reasons else "blind"


@dataclass(frozen=True)
class BlindDecision:
    outcome: Literal["matched_reading", "matched_entry", "mismatch", "conflict"]
    accepted: bool  # the field is resolved with the typed value

    @property
    def message(self) -> str:
        return {
            "matched_reading": "読取値と一致しました。確定します。",
            "matched_entry": "1人目の入力と一致しました。確定します。",
            "mismatch": "読取値と一致しません。2人目の確認者に回します。",
            "conflict": "2人の入力と読取値が食い違います。監督者が判断します。",
        }[self.outcome]


def decide(typed: FieldValueType, reading: FieldValueType, entries: list[BlindEntry]) -> BlindDecision:
    """What a blind entry of `typed` decides, given the reading and the entries before it."""
    if typed == reading:
        return BlindDecision("matched_reading", True)
    earlier = [reveal_value(entry.value) for entry in entries if entry.outcome == "mismatch"]
    if not earlier:
        return BlindDecision("mismatch", False)
    if typed in earlier:
        return BlindDecision("matched_entry", True)
    return BlindDecision("conflict", False)


def enter_blind(session: Session, form_pk: int, name: str, user: str, typed: FieldValueType,
                reading: FieldValueType, reasons: list[str], entries: list[BlindEntry],
                seconds: float = 0.0) -> tuple[BlindDecision, bool]:
    """Record `user`'s blind entry of a flagged field (already checked as typed) and what it decides: resolved with
    the typed value, or sent to a second person or a supervisor. Returns the decision and whether the form became
    READY."""
    mode = entry_mode(reasons)
    decision = decide(typed, reading, entries)
    review_repo.add_blind_entry(session, form_pk, name, user, mode, typed, decision.outcome)
    review_repo.record_review_time(session, form_pk, name, user, mode, seconds)
    if decision.accepted:
        ready = review_repo.resolve_field(session, form_pk, name, typed, user, action="review.blind_match",
                                          audit_extra={"mode": mode, "outcome": decision.outcome})
        return decision, ready
    review_repo.add_reason(session, form_pk, name, "blind_mismatch" if decision.outcome == "mismatch"
                           else "blind_conflict")
    review_repo.append_blind_outcome(session, form_pk, name, user, decision.outcome, mode, typed, reading)
    return decision, False
