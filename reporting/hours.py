"""Hours saved per form and per batch, and a year projected at configured volumes.

baseline(form) = (Σ filled fields [M + keys × K + navigation × K] + per-form overhead) × (1 + verification share)
human(form)    = measured review seconds + exception seconds (entry failures, quarantine)
                 + for a form still waiting for review: its flagged fields × review seconds per field (estimated)
saved          = Σ baseline − Σ human. A quarantined page saves nothing (it is keyed by hand as before).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ledger.report_queries import FormFacts
from ledger.states import FormState
from reporting.backtest import PilotBacktest, pilot_backtest, saved_range_per_form
from reporting.hours_config import HoursModelConfig
from reporting.keystrokes import field_effort, field_seconds

HOUR = 3600.0


@dataclass(frozen=True)
class FormHours:
    form_pk: int
    form_id: str | None
    state: str
    fields_keyed: int
    keys: float
    keying_seconds: float  # fields: M, keys and navigation
    overhead_seconds: float
    verification_seconds: float
    review_seconds: float
    exception_seconds: float
    pending_review_seconds: float = 0.0  # estimated: nobody has reviewed it yet

    @property
    def baseline_seconds(self) -> float:
        return self.keying_seconds + self.overhead_seconds + self.verification_seconds

    @property
    def human_seconds(self) -> float:
        return self.review_seconds + self.pending_review_seconds + self.exception_seconds

    @property
    def saved_seconds(self) -> float:
        return self.baseline_seconds - self.human_seconds


@dataclass
class KindHours:
    form_id: str | None
    label: str
    forms: int = 0
    entered: int = 0
    baseline_seconds: float = 0.0
    review_seconds: float = 0.0
    pending_review_seconds: float = 0.0
    exception_seconds: float = 0.0

    @property
    def saved_seconds(self) -> float:
        return self.baseline_seconds - self.review_seconds - self.pending_review_seconds - self.exception_seconds

    @property
    def saved_per_form(self) -> float:
        return self.saved_seconds / self.forms if self.forms else 0.0

    @property
    def baseline_per_form(self) -> float:
        return self.baseline_seconds / self.forms if self.forms else 0.0


@dataclass(frozen=True)
class Projection:
    form_id: str
    label: str
    yearly_volume: int | None
    saved_per_form: float | None  # None: no form of this kind in the batch
    hours_per_year: float | None
    # The range the back-test's error allows (model as it stands … baseline corrected by the back-test's ratio)
    hours_per_year_range: tuple[float, float] | None = None


@dataclass
class HoursResult:
    forms: list[FormHours]
    by_kind: list[KindHours]
    projections: list[Projection]
    chiba_per_form_achieved: float
    chiba_per_form_possible: float
    review_seconds_per_field: float  # what a form still waiting for review is estimated at, per flagged field
    review_seconds_per_field_measured: bool  # True: this batch's measured mean; False: the configured default
    backtest: PilotBacktest | None = None  # the model under the pilot's way of working (every field checked)
    totals: dict[str, float] = field(default_factory=dict)

    @property
    def saved_seconds(self) -> float:
        return self.totals["saved_seconds"]

    @property
    def projected_hours_per_year(self) -> float:
        return sum(p.hours_per_year or 0.0 for p in self.projections)

    @property
    def projected_hours_per_year_range(self) -> tuple[float, float] | None:
        ranges = [p.hours_per_year_range for p in self.projections if p.hours_per_year is not None]
        if not ranges or any(r is None for r in ranges):
            return None
        return sum(r[0] for r in ranges), sum(r[1] for r in ranges)


def _field_kinds(form_id: str) -> dict[str, str]:
    from ocr.templates import TemplateError, load_template

    try:
        return {spec.name: spec.kind for spec in load_template(form_id).fields}
    except (TemplateError, OSError):
        return {}


def review_seconds_per_field(forms: list[FormFacts], config: HoursModelConfig) -> tuple[float, bool]:
    """This batch's measured review seconds per flagged field, or the configured default when none was timed."""
    timed = [facts for facts in forms if facts.review_rows]
    flagged = sum(max(facts.flagged_fields, 1) for facts in timed)
    if timed and flagged:
        return sum(facts.review_seconds for facts in timed) / flagged, True
    return config.exceptions.pending_review_seconds_per_field, False


def form_hours(facts: FormFacts, config: HoursModelConfig, field_kinds: dict[str, str],
               per_field_review: float) -> FormHours:
    model = config.keystroke
    quarantined = facts.state == FormState.QUARANTINED.value
    waiting = facts.state == FormState.NEEDS_REVIEW.value and not facts.review_rows
    exception = (facts.entry_failures * config.exceptions.entry_failure_seconds
                 + (config.exceptions.quarantine_seconds if quarantined else 0.0))
    keyed, keys, keying = 0, 0.0, 0.0
    if not quarantined and field_kinds:
        skipped = set(config.not_keyed_fields.get(facts.form_id or "", []))
        for name, value in facts.values.items():
            kind = field_kinds.get(name)
            if kind is None or name in skipped:
                continue
            effort = field_effort(kind, name, value, model)
            if effort is None:
                continue
            keyed += 1
            keys += effort.keys
            keying += field_seconds(effort, model)
    overhead = model.per_form_overhead_seconds if keyed else 0.0
    return FormHours(form_pk=facts.form_pk, form_id=facts.form_id, state=facts.state, fields_keyed=keyed, keys=keys,
                     keying_seconds=keying, overhead_seconds=overhead,
                     verification_seconds=(keying + overhead) * model.verification_share,
                     review_seconds=facts.review_seconds, exception_seconds=exception,
                     pending_review_seconds=max(facts.flagged_fields, 1) * per_field_review if waiting else 0.0)


def batch_hours(forms: list[FormFacts], config: HoursModelConfig) -> HoursResult:
    kinds_cache: dict[str, dict[str, str]] = {}
    per_form: list[FormHours] = []
    per_field_review, measured = review_seconds_per_field(forms, config)
    for facts in forms:
        if facts.form_id is not None and facts.form_id not in kinds_cache:
            kinds_cache[facts.form_id] = _field_kinds(facts.form_id)
        per_form.append(form_hours(facts, config, kinds_cache.get(facts.form_id or "", {}), per_field_review))

    by_kind: dict[str | None, KindHours] = {}
    for form_id in config.forms:  # every configured kind is shown, with or without forms in this batch
        by_kind[form_id] = KindHours(form_id, config.form_label(form_id))
    for hours in per_form:
        kind = by_kind.setdefault(hours.form_id, KindHours(hours.form_id, config.form_label(hours.form_id)))
        kind.forms += 1
        kind.entered += hours.state == FormState.ENTERED.value
        kind.baseline_seconds += hours.baseline_seconds
        kind.review_seconds += hours.review_seconds
        kind.pending_review_seconds += hours.pending_review_seconds
        kind.exception_seconds += hours.exception_seconds

    backtest = pilot_backtest(per_form, config, per_field_review, measured)
    projections = []
    for form_id, settings in config.forms.items():
        kind = by_kind[form_id]
        per_form_saved = kind.saved_per_form if kind.forms else None
        hours_per_year = (settings.yearly_volume * per_form_saved / HOUR
                          if settings.yearly_volume is not None and per_form_saved is not None else None)
        year_range = None
        if hours_per_year is not None:
            per_form_range = saved_range_per_form(kind.baseline_per_form,
                                                  kind.baseline_per_form - kind.saved_per_form, backtest)
            if per_form_range is not None:
                year_range = (settings.yearly_volume * per_form_range[0] / HOUR,
                              settings.yearly_volume * per_form_range[1] / HOUR)
        projections.append(Projection(form_id, settings.label, settings.yearly_volume, per_form_saved,
                                      hours_per_year, year_range))

    totals: dict[str, float] = defaultdict(float)
    for hours in per_form:
        totals["keying_seconds"] += hours.keying_seconds
        totals["overhead_seconds"] += hours.overhead_seconds
        totals["verification_seconds"] += hours.verification_seconds
        totals["baseline_seconds"] += hours.baseline_seconds
        totals["review_seconds"] += hours.review_seconds
        totals["pending_review_seconds"] += hours.pending_review_seconds
        totals["exception_seconds"] += hours.exception_seconds
        totals["saved_seconds"] += hours.saved_seconds
        if hours.state == FormState.ENTERED.value:
            totals["entered_saved_seconds"] += hours.saved_seconds
    for key in ("keying_seconds", "overhead_seconds", "verification_seconds", "baseline_seconds", "review_seconds",
                "pending_review_seconds", "exception_seconds", "saved_seconds", "entered_saved_seconds"):
        totals.setdefault(key, 0.0)
    chiba = config.chiba
    return HoursResult(forms=per_form, by_kind=[k for k in by_kind.values() if k.forms or k.form_id in config.forms],
                       projections=projections,
                       chiba_per_form_achieved=chiba.achieved_hours_per_year * HOUR / chiba.yearly_volume,
                       chiba_per_form_possible=chiba.possible_hours_per_year * HOUR / chiba.yearly_volume,
                       review_seconds_per_field=per_field_review, review_seconds_per_field_measured=measured,
                       backtest=backtest, totals=dict(totals))
