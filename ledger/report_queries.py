"""What the batch report needs from the ledger, as plain data: forms with their final values, review seconds,
robot outcomes and stage timestamps. Every free text that leaves here has its 個人番号 masked; values stay in
memory for the keystroke model and are never written out."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import Batch, FieldValue, Form, ReviewTime, StageTime, Transition
from ledger.privacy import mask_personal_numbers
from ledger.states import FormState, utc_now
from ledger.trust import KindTrust, trust_by_kind
from ledger.summary import BatchSummary, batch_summary
from ledger.values import FieldValueType, decode_value

# Where a robot's outcome leaves the form: entered, failed, or back to people.
ENTRY_OUTCOMES = (FormState.ENTERED, FormState.ENTRY_FAILED, FormState.NEEDS_REVIEW, FormState.READY)
# Stages in the order the report shows them; others (from stage_times) follow.
STAGE_ORDER = ("archive", "intake", "review", "enter")
TRUST_ROLLING_DAYS = 30


@dataclass
class FormFacts:
    form_pk: int
    form_id: str | None
    state: str
    values: dict[str, FieldValueType]  # a person's correction where there is one, else the value read
    review_seconds: float = 0.0  # measured on the review page, overlaps counted once
    review_rows: int = 0  # review_times rows: 0 means no person has had it on screen yet
    flagged_fields: int = 0  # fields read as needing a person (still to review, or corrected)
    flagged_names: list[str] = field(default_factory=list)  # which fields (names only, never values)
    flagged_reasons: list[str] = field(default_factory=list)  # why, reason codes of all flagged fields
    entry_attempts: int = 0
    entry_failures: int = 0
    sent_back: int = 0  # the robot gave it back to people
    template_version: str | None = None  # the template version it was read with (令和7年分)


@dataclass(frozen=True)
class EntryEvent:
    form_pk: int
    outcome: str  # the state a robot's attempt ended in
    actor: str
    at: datetime
    reason: str  # masked


@dataclass(frozen=True)
class StageSpan:
    stage: str
    started_at: datetime
    ended_at: datetime
    items: int | None
    busy_seconds: float | None  # person or machine seconds inside the span, where measured
    source: str  # "stage_times" or which ledger timestamps it came from

    @property
    def wall_seconds(self) -> float:
        return max(0.0, (self.ended_at - self.started_at).total_seconds())


@dataclass
class ReviewFacts:
    rows: int = 0
    seconds: float = 0.0
    forms_reviewed: int = 0
    fields_reviewed: int = 0  # distinct (form, field) timed on the review page, or corrected
    reviewers: int = 0


@dataclass
class BatchFacts:
    batch_id: int
    label: str
    created_at: datetime
    finished_at: datetime | None
    summary: BatchSummary
    forms: list[FormFacts]
    entry_events: list[EntryEvent]
    review: ReviewFacts
    stages: list[StageSpan] = field(default_factory=list)
    last_activity_at: datetime | None = None
    # Measured trust from audit samples, per field kind: this batch's, and every batch's of the last 30 days.
    trust: list[KindTrust] = field(default_factory=list)
    trust_rolling: list[KindTrust] = field(default_factory=list)
    trust_since: datetime | None = None


def load_batch_facts(session: Session, batch_id: int) -> BatchFacts:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise LookupError(f"台帳にバッチ {batch_id} がありません / no batch {batch_id} in the ledger")
    summary = batch_summary(session, batch_id)
    forms = {pk: FormFacts(form_pk=pk, form_id=form_id, state=FormState(state).value, values={},
                           template_version=version)
             for pk, form_id, state, version in session.execute(
                 select(Form.id, Form.form_id, Form.state, Form.template_version)
                 .where(Form.batch_id == batch_id).order_by(Form.id))}
    corrected_fields: set[tuple[int, str]] = set()
    for form_pk, name, value, corrected, status, reasons in session.execute(
            select(FieldValue.form_pk, FieldValue.name, FieldValue.value, FieldValue.corrected_value,
                   FieldValue.status, FieldValue.reasons)
            .join(Form, FieldValue.form_pk == Form.id).where(Form.batch_id == batch_id)):
        forms[form_pk].values[name] = decode_value(corrected if status == "corrected" else value)
        forms[form_pk].flagged_fields += status in ("review", "corrected")
        if status in ("review", "corrected"):
            forms[form_pk].flagged_names.append(name)
            # The code alone (a reason's details may hold a value): 「check_digit」, never what follows it.
            forms[form_pk].flagged_reasons += [(str(r).split(":", 1)[0].split() or ["?"])[0]
                                               for r in _reason_list(reasons)]
        if status == "corrected":
            corrected_fields.add((form_pk, name))

    transitions = session.execute(
        select(Transition.form_pk, Transition.from_state, Transition.to_state, Transition.actor, Transition.at,
               Transition.reason).join(Form, Transition.form_pk == Form.id).where(Form.batch_id == batch_id)
        .order_by(Transition.at, Transition.id)).all()
    entry_events = _entry_events(transitions, forms)
    review = _review_facts(session, batch_id, forms, corrected_fields)
    stages = _derived_stages(batch, transitions, session, batch_id, review)
    stages = _with_recorded_stages(stages, session, batch_id)
    last = max([t.at for t in transitions] + [s.ended_at for s in stages], default=None)
    since = utc_now() - timedelta(days=TRUST_ROLLING_DAYS)
    return BatchFacts(batch_id=batch_id, label=mask_personal_numbers(batch.label) or "", created_at=batch.created_at,
                      finished_at=batch.finished_at, summary=summary, forms=list(forms.values()),
                      entry_events=entry_events, review=review, stages=stages, last_activity_at=last,
                      trust=trust_by_kind(session, batch_id=batch_id), trust_rolling=trust_by_kind(session, since=since),
                      trust_since=since)


def _reason_list(encoded: str | None) -> list:
    import json

    try:
        reasons = json.loads(encoded or "[]")
    except ValueError:
        return []
    return reasons if isinstance(reasons, list) else []


def _entry_events(transitions, forms: dict[int, FormFacts]) -> list[EntryEvent]:
    events = []
    for form_pk, from_state, to_state, actor, at, reason in transitions:
        if from_state is None or FormState(from_state) is not FormState.ENTERING:
            continue
        to_state = FormState(to_state)
        facts = forms[form_pk]
        facts.entry_attempts += 1
        facts.entry_failures += to_state is FormState.ENTRY_FAILED
        facts.sent_back += to_state is FormState.NEEDS_REVIEW
        events.append(EntryEvent(form_pk=form_pk, outcome=to_state.value, actor=actor, at=at,
                                 reason=mask_personal_numbers(reason) or ""))
    return events


def _review_facts(session: Session, batch_id: int, forms: dict[int, FormFacts],
                  corrected_fields: set[tuple[int, str]]) -> ReviewFacts:
    rows = session.execute(
        select(ReviewTime.form_pk, ReviewTime.field_name, ReviewTime.user_name, ReviewTime.started_at,
               ReviewTime.ended_at, ReviewTime.seconds).join(Form, ReviewTime.form_pk == Form.id)
        .where(Form.batch_id == batch_id).order_by(ReviewTime.id)).all()
    # A field timed while its whole form was on the same person's screen is inside the form's time: count once.
    form_windows: dict[tuple[int, str], list[tuple[datetime, datetime]]] = defaultdict(list)
    for form_pk, field_name, user, started, ended, _ in rows:
        if field_name is None:
            form_windows[(form_pk, user)].append((started, ended))
    facts = ReviewFacts(rows=len(rows))
    timed_fields: set[tuple[int, str]] = set()
    for form_pk, field_name, user, started, ended, seconds in rows:
        forms[form_pk].review_rows += 1
        if field_name is not None:
            timed_fields.add((form_pk, field_name))
            if any(s <= started and ended <= e for s, e in form_windows[(form_pk, user)]):
                continue
        forms[form_pk].review_seconds += max(0.0, seconds)
        facts.seconds += max(0.0, seconds)
    facts.forms_reviewed = len({row[0] for row in rows})
    facts.fields_reviewed = len(timed_fields | corrected_fields)
    facts.reviewers = len({row[2] for row in rows})
    return facts


def _derived_stages(batch: Batch, transitions, session: Session, batch_id: int,
                    review: ReviewFacts) -> list[StageSpan]:
    stages: list[StageSpan] = []
    read_ends = [at for _, from_state, to_state, actor, at, _ in transitions
                 if FormState(to_state) in (FormState.READY, FormState.NEEDS_REVIEW, FormState.QUARANTINED)
                 and from_state in (FormState.READ, FormState.RECEIVED)]
    intake_end = batch.finished_at or max(read_ends, default=None)
    if intake_end is not None:
        stages.append(StageSpan("intake", batch.created_at, intake_end, len({t[0] for t in transitions}), None,
                                "batches.created_at → finished_at"))
    review_window = session.execute(
        select(ReviewTime.started_at, ReviewTime.ended_at).join(Form, ReviewTime.form_pk == Form.id)
        .where(Form.batch_id == batch_id)).all()
    if review_window:
        stages.append(StageSpan("review", min(s for s, _ in review_window), max(e for _, e in review_window),
                                review.forms_reviewed, review.seconds, "review_times"))
    claims = [at for _, _, to_state, _, at, _ in transitions if FormState(to_state) is FormState.ENTERING]
    outcomes = [at for _, from_state, _, _, at, _ in transitions
                if from_state is not None and FormState(from_state) is FormState.ENTERING]
    if claims and outcomes:
        stages.append(StageSpan("enter", min(claims), max(outcomes), len(outcomes), None,
                                "transitions → ENTERING … outcome"))
    return stages


def _with_recorded_stages(derived: list[StageSpan], session: Session, batch_id: int) -> list[StageSpan]:
    recorded: dict[str, list[StageTime]] = defaultdict(list)
    for row in session.scalars(select(StageTime).where(StageTime.batch_id == batch_id).order_by(StageTime.id)):
        recorded[row.stage].append(row)
    spans = {span.stage: span for span in derived}
    for stage, rows in recorded.items():
        items = [r.items for r in rows if r.items is not None]
        spans[stage] = StageSpan(stage, min(r.started_at for r in rows), max(r.ended_at for r in rows),
                                 sum(items) if items else None, sum(r.seconds for r in rows), "stage_times")
    order = {stage: i for i, stage in enumerate(STAGE_ORDER)}
    return sorted(spans.values(), key=lambda s: (order.get(s.stage, len(order)), s.started_at))


_REASON_HEAD = re.compile(r"^(.*?)\s*[:：]")


def reason_category(reason: str) -> str:
    """The part of a reason before its first colon ('入力エラー: …' → '入力エラー'), digits folded: what to group by."""
    match = _REASON_HEAD.match(reason)
    head = match.group(1) if match and match.group(1) else reason
    return re.sub(r"\d+", "#", head).strip()[:80] or "（理由なし）"
