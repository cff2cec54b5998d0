"""Ledger tables: batch ─< scan file ─< form ─< field value, and the transition audit trail."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (Boolean, DateTime, Enum, Float, ForeignKey, Index, Integer, String, Text, TypeDecorator,
                        UniqueConstraint)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ledger.states import FormState, utc_now


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out; SQLite keeps no offset, so it stores naive UTC and gets it back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the ledger stores timezone-aware datetimes only")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


STATE_TYPE = Enum(FormState, native_enum=False, length=16, validate_strings=True,
                  values_callable=lambda states: [s.value for s in states])


class Base(DeclarativeBase):
    pass


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    label: Mapped[str] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(1000))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    scan_files: Mapped[list[ScanFile]] = relationship(back_populates="batch", order_by="ScanFile.id")
    forms: Mapped[list[Form]] = relationship(back_populates="batch", order_by="Form.id")


class ScanFile(Base):
    __tablename__ = "scan_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(500))
    archived_path: Mapped[str] = mapped_column(String(1000))  # relative to the archive root, POSIX separators
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    page_count: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    batch: Mapped[Batch] = relationship(back_populates="scan_files")
    forms: Mapped[list[Form]] = relationship(back_populates="scan_file", order_by="Form.page")


class Form(Base):
    __tablename__ = "forms"
    __table_args__ = (
        UniqueConstraint("scan_file_id", "page", name="uq_forms_scan_file_page"),
        Index("ix_forms_state_claimed_at", "state", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    scan_file_id: Mapped[int] = mapped_column(ForeignKey("scan_files.id"))
    page: Mapped[int] = mapped_column(Integer)  # 1-based
    form_id: Mapped[str | None] = mapped_column(String(100))  # template id; None when not recognised
    template_version: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[FormState] = mapped_column(STATE_TYPE)
    state_reason: Mapped[str | None] = mapped_column(Text)
    read_json: Mapped[str | None] = mapped_column(Text)
    # Unique where set: NULLs never collide, on SQLite and PostgreSQL alike.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    entry_receipt: Mapped[str | None] = mapped_column(String(200))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
    # Optimistic lock: a flush over a row another process changed meanwhile fails instead of overwriting it.
    version: Mapped[int] = mapped_column(Integer, default=1)

    batch: Mapped[Batch] = relationship(back_populates="forms")
    scan_file: Mapped[ScanFile] = relationship(back_populates="forms")
    fields: Mapped[list[FieldValue]] = relationship(back_populates="form", order_by="FieldValue.id",
                                                    cascade="all, delete-orphan")
    transitions: Mapped[list[Transition]] = relationship(back_populates="form", order_by="Transition.id")

    __mapper_args__: dict[str, Any] = {"version_id_col": version}


class FieldValue(Base):
    __tablename__ = "field_values"
    __table_args__ = (UniqueConstraint("form_pk", "name", name="uq_field_values_form_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_pk: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    value: Mapped[str | None] = mapped_column(Text)  # JSON-encoded (see ledger.values)
    confidence: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))  # accepted | review | empty | corrected
    reasons: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of reason codes
    corrected_value: Mapped[str | None] = mapped_column(Text)  # JSON-encoded
    corrected_by: Mapped[str | None] = mapped_column(String(200))
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    form: Mapped[Form] = relationship(back_populates="fields")


class Transition(Base):
    __tablename__ = "transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_pk: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    from_state: Mapped[FormState | None] = mapped_column(STATE_TYPE)  # None for the form's creation
    to_state: Mapped[FormState] = mapped_column(STATE_TYPE)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    reason: Mapped[str | None] = mapped_column(Text)

    form: Mapped[Form] = relationship(back_populates="transitions")


class AuditEntry(Base):
    """One append-only audit row; `row_hash` chains it to the row before (see ledger.audit)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(300))  # e.g. "form:12", "form:12/field:my_number", "user:sato"
    before: Mapped[str | None] = mapped_column(Text)  # JSON, 個人番号 masked
    after: Mapped[str | None] = mapped_column(Text)  # JSON, 個人番号 masked
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class ReviewTime(Base):
    """How long a person had a flagged field (or a whole form, `field_name` None) on screen: the report's review time."""

    __tablename__ = "review_times"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_pk: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    field_name: Mapped[str | None] = mapped_column(String(100))
    user_name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(32), default="form")  # form | group | blind | audit_sample
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seconds: Mapped[float] = mapped_column(Float)


class StageTime(Base):
    """Wall time of one stage's run over one batch (`archive`, `intake`, `enter`, ...), for stages whose time the
    other ledger timestamps do not show; the report prefers these rows to what it derives from transitions."""

    __tablename__ = "stage_times"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200), default="system")  # flow run, worker or robot id
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seconds: Mapped[float] = mapped_column(Float)
    items: Mapped[int | None] = mapped_column(Integer)  # pages, forms or entries the run handled


USER_ROLES = ("clerk", "supervisor", "admin")


class User(Base):
    """A person who signs in to the review page; `role` is clerk, supervisor or admin (see review.auth)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # the sign-in name, also the actor in the audit
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # clerk | supervisor | admin
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, never the password
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class ReviewSession(Base):
    """A signed-in browser: the cookie holds a random token, the ledger only its sha256 (a stolen copy of the
    ledger signs nobody in); `csrf_token` must come back with every post."""

    __tablename__ = "review_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # signed out

    user: Mapped[User] = relationship()


class BlindEntry(Base):
    """One person's blind entry (ベリファイ) of a field, typed without seeing the reading.

    `mode` is `blind` (a flagged 個人番号 or amount) or `audit_sample` (an auto-accepted field drawn for a check);
    `outcome` says what the entry decided: matched_reading, matched_entry (a second person typed the same),
    mismatch (sent to a second person) or conflict (a second mismatch: a supervisor decides).
    """

    __tablename__ = "blind_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_pk: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    field_name: Mapped[str] = mapped_column(String(100))
    user_name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(32), default="blind")
    value: Mapped[str | None] = mapped_column(Text)  # JSON-encoded, as field_values.value
    outcome: Mapped[str] = mapped_column(String(16))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


# The review queue counts flagged fields (status 'review') among hundreds of thousands of field rows.
FIELD_STATUS_INDEX = Index("ix_field_values_status_form_pk", FieldValue.status, FieldValue.form_pk)
# A person's own decisions of today (the review page's progress line): the rows of one actor since a moment.
AUDIT_ACTOR_INDEX = Index("ix_audit_log_actor_at", AuditEntry.actor, AuditEntry.at)


class IntakeFile(Base):
    """One archived scan waiting to be read, being read (claimed by a reader) or done: the work queue of `intake`.

    Readers on any machine claim rows here (row locks), so a file is read by one reader at a time and a reader that
    dies leaves a claim that ages out and is taken again; the content hash makes a second drop of a file known.
    """

    __tablename__ = "intake_files"
    __table_args__ = (Index("ix_intake_files_state_claimed_at", "state", "claimed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(500))
    archived_path: Mapped[str] = mapped_column(String(1000))  # relative to the archive root, POSIX separators
    state: Mapped[str] = mapped_column(String(16), default="QUEUED")  # QUEUED | READING | READ | FAILED
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int | None] = mapped_column(Integer)
    read_by: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)  # masked; why the file could not be read
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ClaimHolder(Base):
    """Who a claim's holder is on its machine (a reader's files, a robot's forms): the host, its boot and the process,
    so that a holder killed on this machine is seen dead at once (its pid gone) instead of after the stale time."""

    __tablename__ = "claim_holders"

    holder: Mapped[str] = mapped_column(String(200), primary_key=True)  # the claimed_by of its rows
    host: Mapped[str] = mapped_column(String(255))
    boot_id: Mapped[str | None] = mapped_column(String(64))  # a reboot ends every process of the machine
    pid: Mapped[int] = mapped_column(Integer)
    process_started: Mapped[str | None] = mapped_column(String(32))  # /proc/<pid>/stat: a reused pid differs
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class ReadEvidence(Base):
    """What the reader judged one field on: its kind, the engine's (or mark's) own score, whether it passed every
    check, and the calibrated probability it was given. The features a re-fitted calibration learns from
    (`taxintake calibrate`); fields read empty (no score) have no row."""

    __tablename__ = "read_evidence"
    __table_args__ = (UniqueConstraint("form_pk", "field_name", name="uq_read_evidence_form_field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_pk: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    field_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    engine: Mapped[str | None] = mapped_column(String(32))
    engine_score: Mapped[float] = mapped_column(Float)
    passed_checks: Mapped[bool] = mapped_column(Boolean)
    probability: Mapped[float] = mapped_column(Float)  # the calibrated confidence the reader gave


class FormCalibration(Base):
    """Which calibration version judged a form's fields (`uncalibrated`, `base-…` for the committed fit, or a
    version `taxintake calibrate` wrote)."""

    __tablename__ = "form_calibrations"

    form_pk: Mapped[int] = mapped_column(ForeignKey("forms.id"), primary_key=True)
    calibration_version: Mapped[str] = mapped_column(String(64), index=True)
    engine: Mapped[str | None] = mapped_column(String(32))


class AuditSample(Base):
    """An auto-accepted field drawn at random (per batch and kind) for a blind check. `outcome` is `pending` until
    the blind entries settle it: `agreed` (the reading was right) or `disagreed` (the agreed value differs from the
    reading: an accepted field was wrong)."""

    __tablename__ = "audit_samples"
    __table_args__ = (UniqueConstraint("form_pk", "field_name", name="uq_audit_samples_form_field"),
                      Index("ix_audit_samples_batch_kind", "batch_id", "kind"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    form_pk: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    field_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    share: Mapped[float] = mapped_column(Float)  # the chance this field had of being drawn (its weight is 1/share)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    outcome: Mapped[str] = mapped_column(String(16), default="pending")  # pending | agreed | disagreed
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class CalibrationVersion(Base):
    """One calibration `taxintake calibrate` fitted from the ledger: its JSON (so every machine reads with the same
    one), where its file was written, what it was fitted on. The newest row is the one the intake reads with."""

    __tablename__ = "calibration_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    based_on: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    created_by: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(300))  # inside $TAXINTAKE_HOME/calibration/
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
