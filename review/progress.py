"""How far a person, a form and a batch have come: today's forms and fields for the person, where this form stands in
the queue, the batch's remaining work, and per-person figures for supervisors from `review_times` (seconds per
field) and the audit trail (corrections)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ledger.models import AuditEntry, FieldValue, Form, ReviewTime
from ledger.review_repo import REVIEW
from ledger.states import FormState, utc_now

JST = ZoneInfo("Asia/Tokyo")
FIELD_DECISIONS = ("review.correct", "review.confirm", "review.confirm_as_written", "review.blind_match",
                   "review.blind_mismatch", "review.blind_conflict")


def start_of_today(now: datetime | None = None) -> datetime:
    local = (now or utc_now()).astimezone(JST)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class PersonToday:
    forms: int  # forms this person finished (made READY) or set aside today
    fields: int  # field decisions (saves and blind entries)
    corrections: int  # of which the value differed from the reading


def person_today(session: Session, user: str, now: datetime | None = None) -> PersonToday:
    """From the person's own audit rows of today (one index range: actor, time)."""
    since = start_of_today(now)
    rows = session.execute(select(AuditEntry.action, AuditEntry.subject, AuditEntry.after).where(
        AuditEntry.actor == user, AuditEntry.at >= since,
        AuditEntry.action.in_((*FIELD_DECISIONS, "state_change")))).all()
    finished = {subject for action, subject, after in rows if action == "state_change"
                and json.loads(after or "{}").get("state") in (FormState.READY.value, FormState.QUARANTINED.value)}
    fields = sum(1 for action, _, _ in rows if action in FIELD_DECISIONS)
    corrections = sum(1 for action, _, _ in rows if action == "review.correct")
    return PersonToday(len(finished), fields, corrections)


@dataclass(frozen=True)
class QueuePlace:
    position: int  # this form's place among the forms waiting, oldest first (0 when it is not waiting)
    waiting: int


def queue_place(session: Session, form: Form) -> QueuePlace:
    waiting = session.scalar(select(func.count(Form.id)).where(Form.state == FormState.NEEDS_REVIEW)) or 0
    if form.state != FormState.NEEDS_REVIEW:
        return QueuePlace(0, waiting)
    before = session.scalar(select(func.count(Form.id)).where(
        Form.state == FormState.NEEDS_REVIEW,
        or_(Form.created_at < form.created_at, and_(Form.created_at == form.created_at, Form.id < form.id)))) or 0
    return QueuePlace(before + 1, waiting)


@dataclass(frozen=True)
class BatchLeft:
    forms: int
    fields: int


def batch_left(session: Session, batch_id: int) -> BatchLeft:
    forms = session.scalar(select(func.count(Form.id)).where(Form.batch_id == batch_id,
                                                             Form.state == FormState.NEEDS_REVIEW)) or 0
    fields = session.scalar(select(func.count(FieldValue.id)).join(Form, Form.id == FieldValue.form_pk).where(
        Form.batch_id == batch_id, Form.state == FormState.NEEDS_REVIEW, FieldValue.status == REVIEW)) or 0
    return BatchLeft(forms, fields)


@dataclass(frozen=True)
class PersonFigures:
    user: str
    fields: int  # fields with seconds on screen recorded
    seconds: float
    corrections: int
    as_written: int

    @property
    def seconds_per_field(self) -> float | None:
        return self.seconds / self.fields if self.fields else None


def people_figures(session: Session, days: int = 7, now: datetime | None = None) -> list[PersonFigures]:
    """Per person over the last `days` (today counted as one): fields reviewed and seconds on screen from
    review_times (field rows only: a form's own row is its reading time, not a field's), corrections from the
    audit trail."""
    since = start_of_today(now) - timedelta(days=days - 1)
    times = {user: (count, seconds or 0.0) for user, count, seconds in session.execute(
        select(ReviewTime.user_name, func.count(ReviewTime.id), func.sum(ReviewTime.seconds))
        .where(ReviewTime.ended_at >= since, ReviewTime.field_name.is_not(None)).group_by(ReviewTime.user_name))}
    decisions: dict[tuple[str, str], int] = {(actor, action): count for actor, action, count in session.execute(
        select(AuditEntry.actor, AuditEntry.action, func.count(AuditEntry.id)).where(
            AuditEntry.at >= since, AuditEntry.action.in_(("review.correct", "review.confirm_as_written")))
        .group_by(AuditEntry.actor, AuditEntry.action))}
    users = sorted(set(times) | {actor for actor, _ in decisions})
    return [PersonFigures(user, times.get(user, (0, 0.0))[0], round(times.get(user, (0, 0.0))[1], 1),
                          decisions.get((user, "review.correct"), 0),
                          decisions.get((user, "review.confirm_as_written"), 0)) for user in users]
