"""Ledger queries and writes of the review page: users, sign-in sessions, the queue, resolving flagged fields,
blind entries, rejections and the seconds on screen. Every person's decision is written to the audit here."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ledger.audit import append_audit
from ledger.models import (USER_ROLES, Batch, BlindEntry, FieldValue, Form, ReviewSession, ReviewTime, ScanFile,
                           User)
from ledger.repo import correct_field
from ledger.states import FormState, transition, utc_now
from ledger.trust import settle_audit_sample
from ledger.values import FieldValueType, encode_field_value, reveal_value

REVIEW = "review"
REVIEW_MODES = ("form", "group", "blind", "audit_sample")
MAX_SECONDS_ON_SCREEN = 4 * 3600  # a tab left open overnight is not review time
AUDIT_SAMPLE_REASON = "audit_sample"


class AlreadyResolved(Exception):
    """The field was resolved by someone else (or the form left review) since the page was shown."""


# ---- users and sessions ------------------------------------------------------------------------------------------

_USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,63}")


def create_user(session: Session, name: str, display_name: str, role: str, password_hash: str,
                actor: str = "system") -> User:
    if not _USER_NAME.fullmatch(name):
        raise ValueError("利用者名は英数字と . _ - で2〜64文字にしてください / user names are 2–64 of A-Z a-z 0-9 . _ -")
    if role not in USER_ROLES:
        raise ValueError(f"役割は {', '.join(USER_ROLES)} のいずれかです / role must be one of {USER_ROLES}")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise ValueError(f"利用者 {name} は既にいます / user {name} exists")
    user = User(name=name, display_name=display_name or name, role=role, password_hash=password_hash, active=True,
                created_at=utc_now())
    session.add(user)
    session.flush()
    append_audit(session, actor=actor, action="user.create", subject=f"user:{name}", after={"role": role})
    return user


def user_by_name(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).one_or_none()


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def start_session(session: Session, user: User, token_hash: str, csrf_token: str, lifetime: timedelta) -> ReviewSession:
    now = utc_now()
    review_session = ReviewSession(token_hash=token_hash, user_id=user.id, csrf_token=csrf_token, created_at=now,
                                   expires_at=now + lifetime)
    session.add(review_session)
    session.flush()
    return review_session


def live_session(session: Session, token_hash: str) -> ReviewSession | None:
    """The signed-in session with this token hash, if it is not expired, ended, or of a disabled user."""
    found = session.scalars(select(ReviewSession).options(selectinload(ReviewSession.user))
                            .where(ReviewSession.token_hash == token_hash)).one_or_none()
    if found is None or found.ended_at is not None or found.expires_at <= utc_now() or not found.user.active:
        return None
    return found


def end_session(session: Session, token_hash: str) -> None:
    found = session.scalars(select(ReviewSession).where(ReviewSession.token_hash == token_hash)).one_or_none()
    if found is not None and found.ended_at is None:
        found.ended_at = utc_now()
        session.flush()


# ---- the queue ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueRow:
    form_pk: int
    batch_id: int
    batch_label: str
    form_id: str | None
    created_at: datetime
    flagged: int
    state_reason: str | None


def review_queue(session: Session, limit: int = 50, offset: int = 0) -> list[QueueRow]:
    """Forms waiting for people, oldest first, with their number of flagged fields.

    The page of forms is chosen first and its flags counted after, so a long queue costs one index range, not a
    count over every field of every waiting form."""
    page = session.execute(
        select(Form.id, Form.batch_id, Batch.label, Form.form_id, Form.created_at, Form.state_reason)
        .join(Batch, Batch.id == Form.batch_id)
        .where(Form.state == FormState.NEEDS_REVIEW)
        .order_by(Form.created_at, Form.id).limit(limit).offset(offset)).all()
    ids = [row[0] for row in page]
    counts = dict(session.execute(
        select(FieldValue.form_pk, func.count(FieldValue.id))
        .where(FieldValue.form_pk.in_(ids), FieldValue.status == REVIEW).group_by(FieldValue.form_pk)).all()
    ) if ids else {}
    return [QueueRow(pk, batch_id, label, form_id, created_at, counts.get(pk, 0), reason)
            for pk, batch_id, label, form_id, created_at, reason in page]


def queue_size(session: Session) -> tuple[int, int]:
    """(forms waiting, flagged fields in them)."""
    forms = session.scalar(select(func.count(Form.id)).where(Form.state == FormState.NEEDS_REVIEW)) or 0
    fields = session.scalar(select(func.count(FieldValue.id)).join(Form, Form.id == FieldValue.form_pk)
                            .where(Form.state == FormState.NEEDS_REVIEW, FieldValue.status == REVIEW)) or 0
    return forms, fields


def next_form_pk(session: Session, skip: Iterable[int] = ()) -> int | None:
    """The oldest form waiting for review, other than those in `skip`."""
    query = select(Form.id).where(Form.state == FormState.NEEDS_REVIEW).order_by(Form.created_at, Form.id).limit(1)
    skip = [pk for pk in skip if pk]
    if skip:
        query = query.where(Form.id.not_in(skip))
    return session.scalar(query)


def form_for_review(session: Session, form_pk: int) -> Form | None:
    return session.scalars(select(Form).where(Form.id == form_pk)
                           .options(selectinload(Form.fields), selectinload(Form.scan_file),
                                    selectinload(Form.batch))).one_or_none()


def scan_file_of(session: Session, form: Form) -> ScanFile:
    return session.get_one(ScanFile, form.scan_file_id)


def blind_entries(session: Session, form_pk: int) -> dict[str, list[BlindEntry]]:
    entries: dict[str, list[BlindEntry]] = {}
    for entry in session.scalars(select(BlindEntry).where(BlindEntry.form_pk == form_pk).order_by(BlindEntry.id)):
        entries.setdefault(entry.field_name, []).append(entry)
    return entries


# ---- group verification ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FlaggedCount:
    batch_id: int
    batch_label: str
    form_id: str
    field_name: str
    count: int


def _without(reason: str | None):
    """Fields not held for `reason` (the reasons are a JSON list of strings: the code appears quoted)."""
    return FieldValue.reasons.not_like(f'%"{reason}"%') if reason else FieldValue.id.is_not(None)


def flagged_field_counts(session: Session, without_reason: str | None = None) -> list[FlaggedCount]:
    """Flagged fields of forms in review, counted per batch, form kind and field name (leaving out those held for
    `without_reason`: the group page leaves out audit samples, which are entered blind one at a time)."""
    rows = session.execute(
        select(Form.batch_id, Batch.label, Form.form_id, FieldValue.name, func.count(FieldValue.id))
        .join(Form, Form.id == FieldValue.form_pk).join(Batch, Batch.id == Form.batch_id)
        .where(Form.state == FormState.NEEDS_REVIEW, FieldValue.status == REVIEW, Form.form_id.is_not(None),
               _without(without_reason))
        .group_by(Form.batch_id, Batch.label, Form.form_id, FieldValue.name)
        .order_by(Form.batch_id, Form.form_id, FieldValue.name))
    return [FlaggedCount(*row) for row in rows]


def flagged_fields(session: Session, batch_id: int, names_by_form_id: dict[str, list[str]],
                   limit: int = 60, without_reason: str | None = None) -> list[tuple[FieldValue, Form]]:
    """Flagged fields of one batch whose (form kind, name) is listed, oldest form first."""
    wanted = [and_(Form.form_id == form_id, FieldValue.name.in_(names))
              for form_id, names in names_by_form_id.items() if names]
    if not wanted:
        return []
    rows = session.execute(
        select(FieldValue, Form).join(Form, Form.id == FieldValue.form_pk)
        .where(Form.batch_id == batch_id, Form.state == FormState.NEEDS_REVIEW, FieldValue.status == REVIEW,
               or_(*wanted), _without(without_reason))
        .order_by(Form.created_at, Form.id, FieldValue.id).limit(limit))
    return [(field, form) for field, form in rows]


# ---- resolving fields --------------------------------------------------------------------------------------------

def reasons_of(field: FieldValue) -> list[str]:
    try:
        reasons = json.loads(field.reasons or "[]")
    except json.JSONDecodeError:
        return [field.reasons]
    return [str(reason) for reason in reasons] if isinstance(reasons, list) else [str(reasons)]


def _locked_field(session: Session, form_pk: int, name: str) -> FieldValue:
    field = session.scalars(select(FieldValue).where(FieldValue.form_pk == form_pk, FieldValue.name == name)
                            .with_for_update().execution_options(populate_existing=True)).one_or_none()
    if field is None:
        raise LookupError(f"form {form_pk} has no field {name!r}")
    return field


def _form_in_review(session: Session, form_pk: int) -> Form:
    form = session.scalars(select(Form).where(Form.id == form_pk).execution_options(populate_existing=True)
                           ).one_or_none()
    if form is None:
        raise LookupError(f"no form {form_pk} in the ledger")
    if form.state != FormState.NEEDS_REVIEW:
        raise AlreadyResolved(f"様式 {form_pk} は確認待ちではありません（{form.state}）/ form {form_pk} is {form.state}")
    return form


def resolve_field(session: Session, form_pk: int, name: str, value: FieldValueType, user: str, *,
                  action: str | None = None, audit_extra: dict | None = None) -> bool:
    """A person's value for a flagged field: stored beside the reading, audited; the form goes READY when this was
    its last flag. Returns whether the form became READY."""
    form = _form_in_review(session, form_pk)
    field = _locked_field(session, form_pk, name)
    if field.status != REVIEW:
        raise AlreadyResolved(f"{name} は {field.corrected_by or '他の人'} が確認済みです / already resolved")
    read = reveal_value(field.value)  # compared with what the person typed (a 個人番号 opened only here)
    changed = value != read
    correct_field(session, form_pk, name, value, corrected_by=user)
    after = {"value": value, **(audit_extra or {})}
    append_audit(session, actor=user, action=action or ("review.correct" if changed else "review.confirm"),
                 subject=f"form:{form_pk}/field:{name}",
                 before={"value": read, "reasons": reasons_of(field)}, after=after)
    if AUDIT_SAMPLE_REASON in reasons_of(field):
        settle_audit_sample(session, form_pk, name, read, value, user)
    return finish_if_resolved(session, form, user)


def finish_if_resolved(session: Session, form: Form, user: str) -> bool:
    open_flags = session.scalar(select(func.count(FieldValue.id))
                                .where(FieldValue.form_pk == form.id, FieldValue.status == REVIEW)) or 0
    if open_flags:
        return False
    transition(session, form, FormState.READY, actor=user, reason="確認済み / reviewed")
    session.flush()
    return True


def confirm_form_without_flags(session: Session, form_pk: int, user: str) -> bool:
    """A form sent back to people with no field flagged (say the robot found homonyms): the person confirms it."""
    form = _form_in_review(session, form_pk)
    return finish_if_resolved(session, form, user)


def reject_form(session: Session, form_pk: int, user: str, reason: str) -> Form:
    """The form cannot be used as it is (illegible, wrong form, missing page): set aside with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("差し戻しの理由を入力してください / a rejection needs a reason")
    form = _form_in_review(session, form_pk)
    append_audit(session, actor=user, action="review.reject", subject=f"form:{form_pk}", after={"reason": reason})
    transition(session, form, FormState.QUARANTINED, actor=user, reason=f"差し戻し / rejected by {user}: {reason}")
    session.flush()
    return form


def record_reveal(session: Session, form_pk: int, name: str, user: str, what: str) -> None:
    append_audit(session, actor=user, action="review.reveal", subject=f"form:{form_pk}/field:{name}",
                 after={"shown": what})


def record_reveal_refused(session: Session, form_pk: int, name: str, user: str) -> None:
    append_audit(session, actor=user, action="review.reveal_refused", subject=f"form:{form_pk}/field:{name}")


def revealed_since(session: Session, form_pk: int, name: str, user: str, since: datetime) -> bool:
    from ledger.models import AuditEntry

    return session.scalar(select(AuditEntry.id).where(
        AuditEntry.action == "review.reveal", AuditEntry.actor == user,
        AuditEntry.subject == f"form:{form_pk}/field:{name}", AuditEntry.at >= since).limit(1)) is not None


# ---- blind entries -----------------------------------------------------------------------------------------------

def add_blind_entry(session: Session, form_pk: int, name: str, user: str, mode: str, value: FieldValueType,
                    outcome: str) -> BlindEntry:
    form_id = session.scalar(select(Form.form_id).where(Form.id == form_pk))
    entry = BlindEntry(form_pk=form_pk, field_name=name, user_name=user, mode=mode,
                       value=encode_field_value(form_id, name, value),
                       outcome=outcome, entered_at=utc_now())
    session.add(entry)
    session.flush()
    return entry


def append_blind_outcome(session: Session, form_pk: int, name: str, user: str, outcome: str, mode: str,
                         typed: FieldValueType, reading: FieldValueType) -> None:
    """Audit a blind entry that did not settle the field: sent to a second person, or to a supervisor."""
    append_audit(session, actor=user, action=f"review.blind_{outcome}", subject=f"form:{form_pk}/field:{name}",
                 before={"value": reading}, after={"value": typed, "mode": mode})


def add_reason(session: Session, form_pk: int, name: str, reason: str) -> None:
    field = _locked_field(session, form_pk, name)
    reasons = reasons_of(field)
    if reason not in reasons:
        field.reasons = json.dumps([*reasons, reason], ensure_ascii=False)
        session.flush()


def mark_for_audit_sample(session: Session, form_pk: int, name: str) -> FieldValue:
    """Draw an auto-accepted field for a blind check: it goes back to review in `audit_sample` mode (the reviewer
    types it without seeing the reading). The caller keeps the form out of entry (NEEDS_REVIEW) meanwhile."""
    field = _locked_field(session, form_pk, name)
    reasons = reasons_of(field)
    if AUDIT_SAMPLE_REASON not in reasons:
        reasons.append(AUDIT_SAMPLE_REASON)
    field.reasons = json.dumps(reasons, ensure_ascii=False)
    field.status = REVIEW
    session.flush()
    return field


# ---- seconds on screen -------------------------------------------------------------------------------------------

def record_review_time(session: Session, form_pk: int, field_name: str | None, user: str, mode: str,
                       seconds: float) -> ReviewTime | None:
    if mode not in REVIEW_MODES:
        raise ValueError(f"mode must be one of {REVIEW_MODES}")
    if not seconds or seconds <= 0:
        return None
    seconds = min(float(seconds), MAX_SECONDS_ON_SCREEN)
    ended = utc_now()
    row = ReviewTime(form_pk=form_pk, field_name=field_name, user_name=user, mode=mode,
                     started_at=ended - timedelta(seconds=seconds), ended_at=ended, seconds=round(seconds, 3))
    session.add(row)
    session.flush()
    return row
