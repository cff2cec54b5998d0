"""The hours model run under the conditions of Chiba's pilot, set beside what the pilot measured.

In the pilot (千葉市 × NTT東日本, 2019) staff still looked at every field the AI-OCR read before the robot entered
it. So the back-test keeps the model's baseline (keying by hand) for each 異動届 of the batch, and replaces the
person's time by a check of every keyed field at the review page's seconds per field (measured in this batch where
people reviewed, else the model's default). Its saving per form is compared with the pilot's 602 h / 55,000 forms.

Its error then bounds the year's projection: if the model's keying baseline is off by the back-test's ratio, each
kind's saving per form would be `ratio × baseline − person time`; the projection is the range between that and the
model as it stands (nothing is fitted: the ratio is shown, never written back into the defaults).
"""
from __future__ import annotations

from dataclasses import dataclass

from ledger.states import FormState
from reporting.hours_config import HoursModelConfig


@dataclass(frozen=True)
class PilotBacktest:
    form_id: str
    label: str
    forms: int
    fields_per_form: float  # keyed fields: each one a person checks under the pilot's way of working
    baseline_per_form: float
    check_seconds_per_field: float
    check_seconds_measured: bool  # True: the review page's mean in this batch; False: the model's default
    exception_per_form: float
    chiba_per_form: float  # 602 h × 3600 / 55,000 ≈ 39.4 s

    @property
    def human_per_form(self) -> float:
        return self.fields_per_form * self.check_seconds_per_field + self.exception_per_form

    @property
    def saved_per_form(self) -> float:
        """The model's saving per form when every field is checked, as in the pilot."""
        return self.baseline_per_form - self.human_per_form

    @property
    def gap_seconds(self) -> float:
        return self.saved_per_form - self.chiba_per_form

    @property
    def relative_gap(self) -> float:
        return self.gap_seconds / self.chiba_per_form

    @property
    def baseline_ratio(self) -> float:
        """What the keying baseline would have to be multiplied by for the model to give the pilot's figure."""
        return (self.chiba_per_form + self.human_per_form) / self.baseline_per_form

    @property
    def break_even_check_seconds(self) -> float:
        """The seconds per checked field at which the model gives exactly the pilot's saving: what a city measures
        on its own review page to settle the gap (shown, never used)."""
        return (self.baseline_per_form - self.exception_per_form - self.chiba_per_form) / self.fields_per_form


def pilot_backtest(form_hours: list, config: HoursModelConfig, check_seconds_per_field: float,
                   measured: bool) -> PilotBacktest | None:
    """The back-test over the batch's forms of the pilot's kind (read, not set aside), or None where it has none."""
    chiba = config.chiba
    pilot_forms = [h for h in form_hours
                   if h.form_id == chiba.form_id and h.state != FormState.QUARANTINED.value and h.fields_keyed]
    if not pilot_forms:
        return None
    count = len(pilot_forms)
    return PilotBacktest(
        form_id=chiba.form_id, label=config.form_label(chiba.form_id), forms=count,
        fields_per_form=sum(h.fields_keyed for h in pilot_forms) / count,
        baseline_per_form=sum(h.baseline_seconds for h in pilot_forms) / count,
        check_seconds_per_field=check_seconds_per_field, check_seconds_measured=measured,
        exception_per_form=sum(h.exception_seconds for h in pilot_forms) / count,
        chiba_per_form=chiba.achieved_hours_per_year * 3600.0 / chiba.yearly_volume)


def saved_range_per_form(baseline_per_form: float, human_per_form: float,
                         backtest: PilotBacktest | None) -> tuple[float, float] | None:
    """(low, high) seconds saved per form: the model as it stands and the model with its baseline corrected by the
    back-test's ratio. None without a back-test."""
    if backtest is None:
        return None
    as_modelled = baseline_per_form - human_per_form
    corrected = backtest.baseline_ratio * baseline_per_form - human_per_form
    return min(as_modelled, corrected), max(as_modelled, corrected)
