"""Ledger operations as plain functions over a Session; claims are made in the database, never in memory."""
from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import timedelta
from pathlib import PurePosixPath, PureWindowsPath

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ledger.db import BEGIN_IMMEDIATE, is_sqlite
from ledger.models import Batch, FieldValue, Form, ScanFile, Transition
from ledger.privacy import mask_personal_numbers
from ledger.states import (FormState, IllegalTransition, audit_state_change, check_transition, transition,
                           utc_now)
from ledger.summary import BatchSummary, batch_summary
from ledger.trust import AuditSampler, draw_audit_samples, record_evidence
from ledger.values import FieldValueType, decode_value, encode_field_value, idempotency_key, reveal_value
from ocr.result import FieldReading, ReadResult

__all__ = [
    "Batch", "ScanFile", "Form", "FieldValue", "Transition", "FormState", "BatchSummary", "ClaimLost",
    "create_batch", "finish_batch", "latest_batch_id", "register_scan_file", "scan_file_is_read",
    "record_read_result", "claim_ready_forms", "release_stale_claims", "mark_entered", "mark_entry_failed",
    "send_back_to_review", "release_claim", "correct_field", "form_values_for_entry", "batch_summary",
]


class ClaimLost(IllegalTransition):
    """A robot reports on a form it no longer holds (its claim was released and maybe taken by another)."""


# ---- batches and files -------------------------------------------------------------------------------------------

def create_batch(session: Session, label: str, source: str | None) -> Batch:
    batch = Batch(label=label, source=source, created_at=utc_now())
    session.add(batch)
    session.flush()
    return batch


def finish_batch(session: Session, batch_id: int) -> Batch:
    batch = session.get_one(Batch, batch_id)
    batch.finished_at = utc_now()
    session.flush()
    return batch


def latest_batch_id(session: Session) -> int | None:
    return session.scalar(select(func.max(Batch.id)))


def register_scan_file(session: Session, batch: Batch, original_name: str, archived_path: str, sha256: str,
                       page_count: int) -> tuple[ScanFile, bool]:
    """The scan file with this content, created if new; the bool says whether this call created it."""
    sha256 = sha256.lower()
    existing = _scan_file_by_sha256(session, sha256)
    if existing is not None:
        return existing, False
    if page_count < 0:
        raise ValueError(f"page_count must not be negative, got {page_count}")
    scan_file = ScanFile(batch_id=batch.id, original_name=original_name,
                         archived_path=_relative_archive_path(archived_path), sha256=sha256, page_count=page_count,
                         received_at=utc_now())
    try:
        with session.begin_nested():
            session.add(scan_file)
    except IntegrityError:  # another process registered the same content a moment ago
        existing = _scan_file_by_sha256(session, sha256)
        if existing is None:
            raise
        return existing, False
    return scan_file, True


def scan_file_is_read(session: Session, sha256: str) -> bool:
    """True when a file with this content is known and every one of its pages is in the ledger."""
    scan_file = _scan_file_by_sha256(session, sha256.lower())
    if scan_file is None:
        return False
    recorded = session.scalar(select(func.count(Form.id)).where(Form.scan_file_id == scan_file.id)) or 0
    return recorded >= scan_file.page_count


def _scan_file_by_sha256(session: Session, sha256: str) -> ScanFile | None:
    return session.scalars(select(ScanFile).where(ScanFile.sha256 == sha256)).one_or_none()


def _relative_archive_path(archived_path: str) -> str:
    posix = archived_path.replace("\\", "/")
    if not posix or PurePosixPath(posix).is_absolute() or PureWindowsPath(archived_path).drive:
        raise ValueError(f"archived_path must be relative to the archive root, not {archived_path!r}")
    if ".." in PurePosixPath(posix).parts:
        raise ValueError(f"archived_path must stay inside the archive root: {archived_path!r}")
    return str(PurePosixPath(posix))


# ---- reading into the ledger -------------------------------------------------------------------------------------

def record_read_result(session: Session, batch: Batch, scan_file: ScanFile, result: ReadResult, *,
                       actor: str = "system", required_fields: Iterable[str] | None = None,
                       audit_sampler: AuditSampler | None = None, engine: str | None = None,
                       calibration_version: str | None = None) -> Form:
    """The form for this page of this file, recorded once: RECEIVED → READ → READY | NEEDS_REVIEW, or QUARANTINED.

    `required_fields` defaults to the template's required fields. The reader's evidence per field (engine score,
    kind) is kept where the result carries it, with the `calibration_version` that judged it. With an
    `audit_sampler`, accepted fields are drawn for a blind check before the form is routed (ledger.trust).
    """
    if result.page < 1:
        raise ValueError(f"pages are 1-based, got {result.page}")
    existing = _form_at(session, scan_file.id, result.page)
    if existing is not None:
        return existing

    form = Form(batch_id=batch.id, scan_file_id=scan_file.id, page=result.page, form_id=result.form_id,
                template_version=result.template_version, read_json=_read_json_at_rest(result),
                created_at=utc_now())
    try:
        with session.begin_nested():
            transition(session, form, FormState.RECEIVED, actor=actor)
    except IntegrityError:  # another process recorded this page a moment ago
        existing = _form_at(session, scan_file.id, result.page)
        if existing is None:
            raise
        return existing

    problem = _unreadable_reason(result)
    required = (set(required_fields) if required_fields is not None
                else _template_required_fields(result.form_id, result.template_version))
    if problem is None and required is None:
        problem = f"様式の定義がありません（{result.form_id}）/ no template for form_id {result.form_id!r}"
    # A set-aside page keeps what was read, without padding: its missing fields are not review work.
    flagged = _add_field_values(session, form, result.fields, required if problem is None and required else set())
    if problem is not None:
        transition(session, form, FormState.QUARANTINED, actor=actor, reason=problem)
        return form
    transition(session, form, FormState.READ, actor=actor)
    kinds_by_name = _template_kinds(result.form_id)
    record_evidence(session, form, result.fields, kinds_by_name, engine=engine,
                    calibration_version=calibration_version)

    # A 個人番号 enters the key as its keyed hash, under every configured key: a form read before a key rotation is
    # still found (each form keeps the key it was given, which robots rely on to never enter it twice).
    keys = _idempotency_keys(result.form_id, result.fields, form.fields)
    key = keys[0]
    duplicate_of = session.scalar(select(Form.id).where(Form.idempotency_key.in_(keys)).order_by(Form.id).limit(1))
    if duplicate_of is not None:
        transition(session, form, FormState.QUARANTINED, actor=actor,
                   reason=f"同じ様式・同じ内容の帳票が既にあります（帳票 {duplicate_of}、二重提出の可能性）/ "
                          f"same form and values as form {duplicate_of} (a second copy of one submission?)")
        return form
    form.idempotency_key = key
    if audit_sampler is not None:
        # Drawn before routing: a form never goes READY → NEEDS_REVIEW, it waits for its blind check instead.
        flagged += draw_audit_samples(session, form, kinds_by_name, audit_sampler, actor=actor)
    if flagged:
        transition(session, form, FormState.NEEDS_REVIEW, actor=actor, reason="to review: " + "; ".join(flagged))
    else:
        transition(session, form, FormState.READY, actor=actor)
    session.flush()
    return form


def _idempotency_keys(form_id: str | None, readings: dict[str, FieldReading], rows: list[FieldValue]) -> list[str]:
    from ledger import crypto

    personal = crypto.personal_fields(form_id)
    ring = crypto.keyring()
    keys: list[str] = []
    for key_id in [ring.current_id, *sorted(set(ring.keys) - {ring.current_id})]:
        values: dict[str, FieldValueType] = {}
        for row in rows:
            plain = readings[row.name].value if row.name in readings else None
            if row.name in personal and isinstance(plain, str) and plain:
                values[row.name] = f"#{key_id}:{crypto.number_hash(plain, key_id)}"
            else:
                values[row.name] = decode_value(row.value)
        keys.append(idempotency_key(form_id or "", values))
    return keys


def _read_json_at_rest(result: ReadResult) -> str:
    """The read result as the ledger keeps it: 個人番号 fields masked (their values live sealed in field_values)
    and any other 12-digit run masked too (a file name, a misread field)."""
    from ledger import crypto

    personal = crypto.personal_fields(result.form_id)
    kept = result.model_copy(deep=True)
    for name, reading in kept.fields.items():
        if name in personal and isinstance(reading.value, str) and reading.value:
            reading.value = crypto._masked(reading.value)
    return mask_personal_numbers(kept.model_dump_json()) or ""


def _form_at(session: Session, scan_file_id: int, page: int) -> Form | None:
    return session.scalars(select(Form).where(Form.scan_file_id == scan_file_id, Form.page == page)).one_or_none()


def _unreadable_reason(result: ReadResult) -> str | None:
    if result.error:
        return result.error
    if result.form_id is None:
        return "様式を判別できません / form not recognised"
    return None


def _template_required_fields(form_id: str | None, version: str | None = None) -> set[str] | None:
    """Required field names of the template, or None where there is no usable template."""
    if form_id is None:
        return set()
    from ocr.templates import TemplateError, load_template

    try:
        template = load_template(form_id, version)  # the version the page was read with
    except (TemplateError, OSError):
        try:
            template = load_template(form_id)
        except (TemplateError, OSError):
            return None
    return {spec.name for spec in template.fields if spec.required}


def _template_kinds(form_id: str | None) -> dict[str, str]:
    """Field name → kind for the template, empty where there is none."""
    from ocr.templates import TemplateError, load_template

    if form_id is None:
        return {}
    try:
        return {spec.name: spec.kind for spec in load_template(form_id).fields}
    except (TemplateError, OSError):
        return {}


def _add_field_values(session: Session, form: Form, readings: dict[str, FieldReading],
                      required: set[str]) -> list[str]:
    """Store one row per field; returns 'name (reasons)' for each field that needs a person."""
    flagged: list[str] = []
    for name in [*readings, *sorted(required - readings.keys())]:
        reading = readings.get(name) or FieldReading(value=None, confidence=0.0, status="empty", reasons=[])
        status, reasons = reading.status, list(reading.reasons)
        if name in required and (status == "empty" or reading.value in (None, "")):
            status = "review"
            if "required_missing" not in reasons:
                reasons.append("required_missing")
        if status not in ("accepted", "empty"):
            flagged.append(f"{name} ({', '.join(reasons) or status})")
        form.fields.append(FieldValue(name=name, value=encode_field_value(form.form_id, name, reading.value),
                                      confidence=reading.confidence,
                                      status=status, reasons=json.dumps(
                                          [mask_personal_numbers(r) for r in reasons], ensure_ascii=False)))
    session.flush()
    return flagged


# ---- entry by robots ---------------------------------------------------------------------------------------------

def claim_ready_forms(session: Session, robot_id: str, limit: int,
                      form_ids: Collection[str] | None = None) -> list[Form]:
    """Move up to `limit` READY forms to ENTERING for `robot_id`; returns only the forms this call claimed.

    `form_ids` limits the claim to the kinds of form the robot has screens for; the others stay READY.

    Safe with several processes and machines: PostgreSQL skips rows other claimers hold locked; SQLite runs the
    whole claim inside BEGIN IMMEDIATE. Either way each row moves only if it is still READY.
    """
    if limit <= 0:
        return []
    check_transition(FormState.READY, FormState.ENTERING)
    _ensure_write_lock(session)
    from ledger.claims import register_holder

    register_holder(session, robot_id)
    candidates = select(Form.id).where(Form.state == FormState.READY).order_by(Form.id).limit(limit)
    if form_ids is not None:
        candidates = candidates.where(Form.form_id.in_(list(form_ids)))
    if not is_sqlite(session):
        candidates = candidates.with_for_update(skip_locked=True)
    now = utc_now()
    claimed: list[int] = []
    for form_pk in session.scalars(candidates).all():
        moved = session.execute(
            update(Form)
            .where(Form.id == form_pk, Form.state == FormState.READY)
            .values(state=FormState.ENTERING, state_reason=None, claimed_by=robot_id, claimed_at=now,
                    updated_at=now, version=Form.version + 1)
            .execution_options(synchronize_session=False))
        if moved.rowcount == 1:
            claimed.append(form_pk)
            session.add(Transition(form_pk=form_pk, from_state=FormState.READY, to_state=FormState.ENTERING,
                                   actor=robot_id, at=now))
            audit_state_change(session, form_pk, FormState.READY, FormState.ENTERING, actor=robot_id)
    session.flush()
    if not claimed:
        return []
    return list(session.scalars(
        select(Form).where(Form.id.in_(claimed)).order_by(Form.id).options(selectinload(Form.fields))
        .execution_options(populate_existing=True)))


def _ensure_write_lock(session: Session) -> None:
    """On SQLite, begin the claim's transaction with BEGIN IMMEDIATE (no lock upgrade half-way, no lost race)."""
    if not is_sqlite(session):
        return
    if not session.in_transaction():
        session.connection(execution_options={BEGIN_IMMEDIATE: True})
        return
    if not session.connection().get_execution_options().get(BEGIN_IMMEDIATE, False):
        raise RuntimeError("on SQLite claim in a writing session (session_scope(engine)) or a fresh one, "
                           "so that the claim holds the write lock from its first read")


def release_stale_claims(session: Session, older_than: timedelta) -> int:
    """Put ENTERING forms claimed longer ago than `older_than` back to READY (a robot crashed); returns how many."""
    _ensure_write_lock(session)
    cutoff = utc_now() - older_than
    stale = select(Form).where(Form.state == FormState.ENTERING, Form.claimed_at < cutoff).order_by(Form.id)
    if not is_sqlite(session):
        stale = stale.with_for_update(skip_locked=True)
    released = 0
    for form in session.scalars(stale.execution_options(populate_existing=True)).all():
        age = utc_now() - form.claimed_at if form.claimed_at else older_than
        transition(session, form, FormState.READY, actor="system",
                   reason=f"claim by {form.claimed_by} released after {_minutes(age)} min without an outcome")
        released += 1
    session.flush()
    return released


def _minutes(age: timedelta) -> int:
    return int(age.total_seconds() // 60)


def mark_entered(session: Session, form_pk: int, receipt: str | None, actor: str) -> Form:
    form = _claimed_form(session, form_pk, actor)
    form.entry_receipt = receipt
    transition(session, form, FormState.ENTERED, actor=actor)
    session.flush()
    return form


def mark_entry_failed(session: Session, form_pk: int, reason: str, actor: str) -> Form:
    form = _claimed_form(session, form_pk, actor)
    transition(session, form, FormState.ENTRY_FAILED, actor=actor, reason=reason)
    session.flush()
    return form


def send_back_to_review(session: Session, form_pk: int, reason: str, actor: str) -> Form:
    """The robot could not decide (homonyms, nobody found): the form goes back to people."""
    form = _claimed_form(session, form_pk, actor)
    transition(session, form, FormState.NEEDS_REVIEW, actor=actor, reason=reason)
    session.flush()
    return form


def _claimed_form(session: Session, form_pk: int, actor: str) -> Form:
    """The form, row-locked where the database can, if it is ENTERING under `actor`'s claim."""
    form = session.scalars(select(Form).where(Form.id == form_pk).with_for_update()
                           .execution_options(populate_existing=True)).one_or_none()
    if form is None:
        raise LookupError(f"no form {form_pk} in the ledger")
    if form.state != FormState.ENTERING or form.claimed_by != actor:
        raise ClaimLost(f"form {form_pk} is {form.state} (claimed by {form.claimed_by}); {actor} does not hold it")
    return form


# ---- review ------------------------------------------------------------------------------------------------------

def correct_field(session: Session, form_pk: int, name: str, value: FieldValueType, corrected_by: str) -> FieldValue:
    """A person's value for one field (the read value is kept beside it)."""
    field = session.scalars(select(FieldValue).where(FieldValue.form_pk == form_pk, FieldValue.name == name)
                            ).one_or_none()
    if field is None:
        raise LookupError(f"form {form_pk} has no field {name!r}")
    form_id = session.scalar(select(Form.form_id).where(Form.id == form_pk))
    field.corrected_value = encode_field_value(form_id, name, value)
    field.corrected_by = corrected_by
    field.corrected_at = utc_now()
    field.status = "corrected"
    session.flush()
    return field


def form_values_for_entry(form: Form) -> dict[str, FieldValueType]:
    """What to type per field: a person's correction where there is one, else the value read (a 個人番号 is
    decrypted here, for the robot that types it)."""
    return {field.name: reveal_value(field.corrected_value if field.status == "corrected" else field.value)
            for field in form.fields}


def release_claim(session: Session, form_pk: int, reason: str, actor: str) -> Form:
    """The robot gives a claimed form back untouched (the target system was closed): READY again, for a later run."""
    form = _claimed_form(session, form_pk, actor)
    transition(session, form, FormState.READY, actor=actor, reason=reason)
    session.flush()
    return form
