"""Trust in production: the reader's evidence per field, audit samples of accepted fields, what they say about the
error among accepted fields, and the labelled readings a re-fitted calibration learns from.

- `record_evidence`: per judged field its kind, engine score, checks passed and calibrated probability, and per form
  the calibration version that judged it.
- `draw_audit_samples`: at intake, before a form is routed, each auto-accepted field is drawn with the share of its
  kind (default 2%, random per batch and kind): it goes to review blind (`audit_sample`), the form waits in
  NEEDS_REVIEW until the blind entries agree, and proceeds on the agreed value. The draws are gathered in few forms
  (cluster sampling): a form is drawn with the form share (default 10%), and in a drawn form each field with its
  share ÷ the form share, so each field is still drawn with its kind's share while a 65-field 第20号様式 is held
  10% of the time, not the 73% that independent 2% draws over 65 fields hold it.
- `settle_audit_sample`: when the blind entries settle a drawn field, the sample is `agreed` (the reading was right)
  or `disagreed` (an accepted field was wrong).
- `trust_by_kind`: per kind, audit samples settled, disagreements, the estimate with its Wilson 95% interval and the
  target; `warning` when the interval's lower bound is above the target.
- `labelled_readings`: reviewed and audited fields as `ocr.refit.LabelledReading`s.

Every draw and every settled sample is a row of the audit trail.
"""
from __future__ import annotations

import json
import os
import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit import append_audit
from ledger.models import AuditSample, FieldValue, Form, FormCalibration, ReadEvidence
from ledger.states import utc_now
from ledger.values import FieldValueType, comparable_value, decode_value
from ocr import calibration
from ocr.refit import LabelledReading, wilson_interval
from ocr.result import FieldReading

AUDIT_SAMPLE_REASON = "audit_sample"
DEFAULT_AUDIT_SHARE = 0.02
AUDIT_SHARE_ENV = "TAXINTAKE_AUDIT_SHARE"
DEFAULT_AUDIT_FORM_SHARE = 0.1
AUDIT_FORM_SHARE_ENV = "TAXINTAKE_AUDIT_FORM_SHARE"


# ---- the reader's evidence ---------------------------------------------------------------------------------------

def record_evidence(session: Session, form: Form, readings: Mapping[str, FieldReading],
                    kinds_by_name: Mapping[str, str], *, engine: str | None,
                    calibration_version: str | None) -> None:
    for name, reading in readings.items():
        if reading.engine_score is None or name not in kinds_by_name:
            continue
        session.add(ReadEvidence(form_pk=form.id, field_name=name, kind=kinds_by_name[name], engine=engine,
                                 engine_score=float(reading.engine_score),
                                 passed_checks=calibration.passed_checks(reading.reasons),
                                 probability=float(reading.confidence)))
    if calibration_version is not None:
        session.add(FormCalibration(form_pk=form.id, calibration_version=calibration_version, engine=engine))
    session.flush()


def calibration_versions_of(session: Session, form_pks: list[int]) -> dict[int, str]:
    """Which calibration version judged each of these forms (forms read before versions were recorded: absent)."""
    rows = session.execute(select(FormCalibration.form_pk, FormCalibration.calibration_version)
                           .where(FormCalibration.form_pk.in_(form_pks)))
    return dict(rows.tuples().all())


# ---- drawing audit samples ---------------------------------------------------------------------------------------

@dataclass
class AuditSampler:
    """Draws auto-accepted fields for a blind check: each with the share of its kind, gathered in a `form_share` of
    the forms (raised to the largest field share, so a share of 1 still draws every field). The default random
    source is the operating system's, so nobody can tell in advance which fields will be checked; give `rng` a
    seeded `random.Random` to reproduce a draw."""
    share: float = DEFAULT_AUDIT_SHARE
    share_by_kind: Mapping[str, float] = field(default_factory=dict)
    rng: random.Random = field(default_factory=secrets.SystemRandom)
    form_share: float = DEFAULT_AUDIT_FORM_SHARE

    def __post_init__(self) -> None:
        for value in [self.share, *self.share_by_kind.values(), self.form_share]:
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"監査抽出の割合は 0〜1 です / an audit share lies in 0..1, got {value}")
        self.form_share = max(self.form_share, self.share, *self.share_by_kind.values())

    def share_for(self, kind: str) -> float:
        """The chance a field of this kind is drawn at all (form draw × field draw): what its sample stands for."""
        return float(self.share_by_kind.get(kind, self.share))

    def draw_form(self) -> bool:
        """Whether this form's fields are drawn among at all."""
        return self.form_share >= 1.0 or (self.form_share > 0 and self.rng.random() < self.form_share)

    def draw(self, kind: str) -> bool:
        """Within a drawn form: one field, with its share ÷ the form share."""
        share = self.share_for(kind)
        return share > 0 and self.rng.random() < share / self.form_share


def parse_audit_share(text: str | None) -> tuple[float, dict[str, float]]:
    """`0.02` or `0.02,amount=0.05,text=0.1`: the default share and any per-kind shares."""
    default, by_kind = DEFAULT_AUDIT_SHARE, {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            kind, _, value = part.partition("=")
            by_kind[kind.strip()] = float(value)
        else:
            default = float(part)
    return default, by_kind


def sampler_from_settings(share: float | None = None, seed: int | str | None = None) -> AuditSampler:
    """The sampler for one batch: `share` if given, else TAXINTAKE_AUDIT_SHARE (default 2%), gathered in
    TAXINTAKE_AUDIT_FORM_SHARE of the forms (default 10%)."""
    default, by_kind = parse_audit_share(os.environ.get(AUDIT_SHARE_ENV))
    if share is not None:
        default, by_kind = float(share), {}
    form_share = float(os.environ.get(AUDIT_FORM_SHARE_ENV) or DEFAULT_AUDIT_FORM_SHARE)
    rng = random.Random(seed) if seed is not None else secrets.SystemRandom()
    return AuditSampler(default, by_kind, rng, form_share)


def draw_audit_samples(session: Session, form: Form, kinds_by_name: Mapping[str, str], sampler: AuditSampler,
                       actor: str = "system") -> list[str]:
    """Draw among the form's auto-accepted fields; each drawn one goes to review blind. Returns
    'name (audit_sample)' for each, for the form's routing reason."""
    drawn: list[str] = []
    candidates = [(field_row, kinds_by_name[field_row.name]) for field_row in sorted(form.fields, key=lambda f: f.name)
                  if field_row.name in kinds_by_name and field_row.status == "accepted"
                  and decode_value(field_row.value) not in (None, "")]
    if not any(sampler.share_for(kind) > 0 for _, kind in candidates) or not sampler.draw_form():
        return drawn
    for field_row, kind in candidates:
        if not sampler.draw(kind):
            continue
        reasons = json.loads(field_row.reasons or "[]")
        field_row.reasons = json.dumps([*reasons, AUDIT_SAMPLE_REASON], ensure_ascii=False)
        field_row.status = "review"
        share = sampler.share_for(kind)
        session.add(AuditSample(batch_id=form.batch_id, form_pk=form.id, field_name=field_row.name, kind=kind,
                                share=share, drawn_at=utc_now(), outcome="pending"))
        append_audit(session, actor=actor, action="audit_sample.draw",
                     subject=f"form:{form.id}/field:{field_row.name}",
                     after={"kind": kind, "share": share, "batch": form.batch_id})
        drawn.append(f"{field_row.name} ({AUDIT_SAMPLE_REASON})")
    session.flush()
    return drawn


def settle_audit_sample(session: Session, form_pk: int, name: str, read: FieldValueType, agreed: FieldValueType,
                        user: str) -> AuditSample | None:
    """The blind entries agreed on `agreed` for a drawn field: the sample's outcome, audited."""
    sample = session.scalars(select(AuditSample).where(AuditSample.form_pk == form_pk,
                                                       AuditSample.field_name == name)).one_or_none()
    if sample is None or sample.outcome != "pending":
        return sample
    sample.outcome = "agreed" if agreed == read else "disagreed"
    sample.decided_by, sample.decided_at = user, utc_now()
    append_audit(session, actor=user, action=f"audit_sample.{sample.outcome}", subject=f"form:{form_pk}/field:{name}",
                 before={"value": read}, after={"value": agreed, "kind": sample.kind})
    session.flush()
    return sample


# ---- measured trust ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KindTrust:
    kind: str
    settled: int  # audit samples the blind entries settled
    disagreed: int  # of which the agreed value differed from the reading
    pending: int
    estimate: float | None
    low: float | None  # Wilson 95%
    high: float | None
    target: float

    @property
    def warning(self) -> bool:
        """The samples show the accepted fields of this kind wrong more often than the target, at 95%."""
        return self.low is not None and self.low > self.target


def trust_by_kind(session: Session, *, batch_id: int | None = None, since: datetime | None = None,
                  target_error_by_kind: Mapping[str, float] | None = None) -> list[KindTrust]:
    """Per kind, from the audit samples of one batch (or drawn since `since`): the error among accepted fields."""
    query = select(AuditSample.kind, AuditSample.outcome)
    if batch_id is not None:
        query = query.where(AuditSample.batch_id == batch_id)
    if since is not None:
        query = query.where(AuditSample.drawn_at >= since)
    counts: dict[str, dict[str, int]] = {}
    for kind, outcome in session.execute(query):
        counts.setdefault(kind, {"agreed": 0, "disagreed": 0, "pending": 0})[outcome] += 1
    targets = dict(target_error_by_kind or {})
    rows = []
    for kind in sorted(counts):
        c = counts[kind]
        settled = c["agreed"] + c["disagreed"]
        low, high = wilson_interval(c["disagreed"], settled) if settled else (None, None)
        rows.append(KindTrust(kind, settled, c["disagreed"], c["pending"],
                              c["disagreed"] / settled if settled else None, low, high,
                              float(targets.get(kind, calibration.default_target_error(kind)))))
    return rows


# ---- what a re-fit learns from -----------------------------------------------------------------------------------

def labelled_readings(session: Session, *, engine: str | None = "rapidocr", since: datetime | None = None
                      ) -> list[LabelledReading]:
    """Every judged field a person decided: reviewed (the reader flagged it) or drawn for an audit and settled.

    Right means the person's final value equals the reading. An audit sample weighs 1/share (it stands for the
    accepted fields not drawn); a reviewed field weighs 1 (every flagged field is reviewed)."""
    query = (select(ReadEvidence, FieldValue, AuditSample)
             .join(FieldValue, (FieldValue.form_pk == ReadEvidence.form_pk)
                   & (FieldValue.name == ReadEvidence.field_name))
             .outerjoin(AuditSample, (AuditSample.form_pk == ReadEvidence.form_pk)
                        & (AuditSample.field_name == ReadEvidence.field_name))
             .where(FieldValue.status == "corrected", FieldValue.corrected_value.is_not(None)))
    if since is not None:
        query = query.where(FieldValue.corrected_at >= since)
    readings = []
    for evidence, field_row, sample in session.execute(query).tuples():
        if engine is not None and evidence.engine not in (None, engine) and evidence.kind not in calibration.MARK_KINDS:
            continue
        audited = sample is not None
        if audited and sample.outcome == "pending":
            continue
        right = comparable_value(field_row.corrected_value) == comparable_value(field_row.value)
        weight = 1.0 / sample.share if audited and sample.share > 0 else 1.0
        readings.append(LabelledReading(kind=evidence.kind, score=evidence.engine_score,
                                        passed=evidence.passed_checks, right=right, weight=weight, audited=audited))
    return readings
