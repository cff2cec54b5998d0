"""Calibrated confidence: P(the value read is right) per field kind, and the acceptance threshold per kind.

The engine's own score does not separate right from wrong well (a wrong 丁日 for 丁目 scored 0.999), so a field's
confidence in the read result is not the score but a probability fitted on generated forms with known truth
(`benchmarks/calibrate.py`, seeds apart from tests and benchmarks):

- per field kind, an isotonic regression (scikit-learn's `IsotonicRegression`, fitted offline) of "the value was
  right" on the engine score (for mark fields — era, choice, checkbox — on the mark confidence), fitted on the
  readings that passed every check (normalisation, validators, cross-field rules): those are the only ones that
  can be accepted. Readings that failed a check get their own, pooled curve (per group of kinds), so their
  probability is honest too, but they are never accepted whatever it is.
- a kind with too few readings pools with its group: numeric (digits, amounts, dates, 個人番号, 法人番号, postal
  codes, phones), text (text, kana) or marks (era, choice, checkbox).
- the threshold per kind is the lowest calibrated probability at which the error rate among the accepted
  calibration readings (passing every check, probability at or above it) is at most the target error for the kind:
  0.1% for numeric kinds (check digits and arithmetic stand behind most of them, and a wrong amount or number costs
  the most), 0.3% for text and kana (a person reads names and addresses on the ledger anyway), 0.5% for marks
  (few options, each also cross-checked). `benchmarks/calibrate.py --target KIND=ERROR` changes them.

The fitted model is plain JSON (`ocr/calibration.json`, committed): per model the isotonic breakpoints X/y, per
kind the model used and its threshold, and the counts, seeds and targets it came from. Reading needs only numpy:
`probability_right` interpolates linearly between the breakpoints (clipped at the ends), so it is monotone
non-decreasing in the score. Without the file (or for an engine it was not fitted on) the probability is the raw
score and the hand-picked thresholds below apply, as before calibration.

The curves belong to one recogniser and one version of the reading steps: re-run the calibration when either
changes.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

CALIBRATION_PATH = Path(__file__).with_name("calibration.json")
CALIBRATION_ENV = "TAXINTAKE_CALIBRATION"
FORMAT_VERSION = 1

GROUP_BY_KIND = {
    "digits": "numeric", "my_number": "numeric", "corporate_number": "numeric", "amount": "numeric",
    "postal_code": "numeric", "phone": "numeric", "date_wareki": "numeric",
    "kana": "text", "text": "text",
    "era": "marks", "choice": "marks", "checkbox": "marks",
}
MARK_KINDS = ("era", "choice", "checkbox")
DEFAULT_TARGET_ERROR_BY_GROUP = {"numeric": 0.001, "text": 0.003, "marks": 0.005}
# A kind gets its own curve and threshold from this many calibration readings (that passed every check) up.
MIN_KIND_READINGS = 100
# Readings that failed a check: one curve per group from this many up, else one over all of them.
MIN_FAILED_READINGS = 30
# Reasons that only say the confidence was too low: a reading with no other reason passed every check.
LOW_CONFIDENCE_REASONS = ("low_confidence", "ambiguous_mark")

# Without a calibration: the engine score a field must reach to be accepted, per kind (hand-picked before
# calibration existed; numeric kinds have check digits or arithmetic behind them, free text asks more).
UNCALIBRATED_THRESHOLD_BY_KIND = {
    "digits": 0.97, "my_number": 0.95, "corporate_number": 0.95, "amount": 0.97, "postal_code": 0.97,
    "phone": 0.97, "date_wareki": 0.95, "kana": 0.98, "text": 0.985, "era": 0.8, "choice": 0.8, "checkbox": 0.8,
}


def group_of(kind: str) -> str:
    return GROUP_BY_KIND.get(kind, "text")


def default_target_error(kind: str) -> float:
    return DEFAULT_TARGET_ERROR_BY_GROUP[group_of(kind)]


def passed_checks(reasons: Iterable[str]) -> bool:
    """True when a reading's only reasons (if any) are about low confidence: no problem and no validator failure."""
    return all(reason in LOW_CONFIDENCE_REASONS for reason in reasons)


# ---------------------------------------------------------------------------------------------- using a model

def active_calibration_path() -> Path | None:
    """The calibration the reader uses: the file named by TAXINTAKE_CALIBRATION (a version `taxintake calibrate`
    wrote; `none` for no calibration at all), else the committed one."""
    named = os.environ.get(CALIBRATION_ENV, "").strip()
    if named.lower() == "none":
        return None
    return Path(named) if named else CALIBRATION_PATH


def load_calibration(path: Path | None = None) -> dict | None:
    """The calibration in use (or the one at `path`), or None when there is none (then the uncalibrated
    thresholds apply)."""
    path = Path(path) if path is not None else active_calibration_path()
    return None if path is None else _load_calibration_file(path)


@lru_cache(maxsize=8)
def _load_calibration_file(path: Path) -> dict | None:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("format_version") != FORMAT_VERSION:
        return None
    return data


load_calibration.cache_clear = _load_calibration_file.cache_clear  # type: ignore[attr-defined]


def calibration_version(calibration: dict | None) -> str:
    """The name of a calibration, recorded with each form it judged: its own `version` (one `taxintake calibrate`
    wrote), `base-<sha>` for a fit without one (the committed file), `uncalibrated` for none."""
    if calibration is None:
        return "uncalibrated"
    if calibration.get("version"):
        return str(calibration["version"])
    digest = hashlib.sha256(json.dumps(calibration, sort_keys=True).encode("utf-8")).hexdigest()
    return f"base-{digest[:10]}"


def _applies(calibration: dict | None, kind: str, engine: str | None) -> bool:
    if calibration is None or kind not in calibration["kinds"]:
        return False
    # Mark confidences come from the pixels, not from the recogniser.
    return kind in MARK_KINDS or engine is None or engine == calibration.get("engine")


def interpolate(model: Mapping[str, Sequence[float]], score: float) -> float:
    """Piecewise-linear between the isotonic breakpoints, clipped to the first/last value outside them."""
    return float(np.clip(np.interp(float(score), model["x"], model["y"]), 0.0, 1.0))


def probability_right(kind: str, score: float, *, passed: bool = True, engine: str | None = None,
                      calibration: dict | None = ...) -> float:  # type: ignore[assignment]
    """P(the value is right) for a reading of `kind` with this engine (or mark) score. `passed`: the reading had no
    problem and no validator failure. Without a calibration for it: the score itself."""
    calibration = load_calibration() if calibration is ... else calibration
    if not _applies(calibration, kind, engine):
        return float(np.clip(score, 0.0, 1.0))
    entry = calibration["kinds"][kind]
    name = entry["model"] if passed else entry["failed_model"]
    return interpolate(calibration["models"][name], score)


def accept_threshold(kind: str, *, engine: str | None = None,
                     calibration: dict | None = ...) -> float:  # type: ignore[assignment]
    """The probability a reading of `kind` must reach (having passed every check) to be accepted."""
    calibration = load_calibration() if calibration is ... else calibration
    if not _applies(calibration, kind, engine):
        return UNCALIBRATED_THRESHOLD_BY_KIND.get(kind, 0.99)
    return float(calibration["kinds"][kind]["threshold"])


# ---------------------------------------------------------------------------------------------- fitting

@dataclass(frozen=True)
class Sample:
    """One non-empty reading with its truth: kind, engine (or mark) score, passed every check, value right."""
    kind: str
    score: float
    passed: bool
    right: bool


def fit_isotonic(scores: Sequence[float], right: Sequence[bool]) -> dict[str, list[float]]:
    """Isotonic regression of right (1/0) on score; its breakpoints as plain lists.

    One wrong reading at score 0 anchors the low end: below the lowest score seen the probability falls to 0
    instead of staying at the lowest bucket's share (with no error seen at all, that would be 1.0 at any score)."""
    from sklearn.isotonic import IsotonicRegression

    model = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    model.fit(np.asarray([0.0, *scores], dtype=float), np.asarray([0.0, *right], dtype=float))
    return {"x": [round(float(v), 6) for v in model.X_thresholds_],
            "y": [round(float(v), 6) for v in model.y_thresholds_]}


def choose_threshold(probabilities: Sequence[float], right: Sequence[bool], target_error: float) -> float:
    """The lowest probability t such that, among the readings with probability ≥ t, the share wrong is at most
    `target_error`. 1.0 when no t does (then only a reading of probability 1.0 would be accepted)."""
    p = np.asarray(probabilities, dtype=float)
    ok = np.asarray(right, dtype=bool)
    best = 1.0
    for t in np.unique(p):
        accepted = p >= t
        if (~ok[accepted]).sum() <= target_error * accepted.sum():
            best = min(best, float(t))
    return best


def fit_calibration(samples: Sequence[Sample], *, target_error_by_kind: Mapping[str, float] | None = None,
                    engine: str = "rapidocr", provenance: Mapping[str, object] | None = None) -> dict:
    """The calibration (the JSON's content) from labelled readings."""
    targets = dict(target_error_by_kind or {})
    passed = [s for s in samples if s.passed]
    failed = [s for s in samples if not s.passed]
    models: dict[str, dict] = {}
    kinds: dict[str, dict] = {}

    groups = sorted({group_of(s.kind) for s in samples})
    for group in groups:
        pool = [s for s in passed if group_of(s.kind) == group]
        if pool:
            models[f"group:{group}"] = fit_isotonic([s.score for s in pool], [s.right for s in pool])
        bad = [s for s in failed if group_of(s.kind) == group]
        if len(bad) >= MIN_FAILED_READINGS:
            models[f"failed:{group}"] = fit_isotonic([s.score for s in bad], [s.right for s in bad])
    if failed:
        models["failed:all"] = fit_isotonic([s.score for s in failed], [s.right for s in failed])

    for kind in sorted({s.kind for s in samples}):
        group = group_of(kind)
        own = [s for s in passed if s.kind == kind]
        target = float(targets.get(kind, default_target_error(kind)))
        if len(own) >= MIN_KIND_READINGS:
            model_name = f"kind:{kind}"
            models[model_name] = fit_isotonic([s.score for s in own], [s.right for s in own])
            judged_on = own
        elif f"group:{group}" in models:
            model_name = f"group:{group}"
            judged_on = [s for s in passed if group_of(s.kind) == group]
        else:
            continue  # nothing passed its checks in this group: the uncalibrated threshold stays
        model = models[model_name]
        threshold = choose_threshold([interpolate(model, s.score) for s in judged_on],
                                     [s.right for s in judged_on], target)
        failed_model = f"failed:{group}" if f"failed:{group}" in models else (
            "failed:all" if "failed:all" in models else model_name)
        all_of_kind = [s for s in samples if s.kind == kind]
        accepted = [s for s in own if interpolate(model, s.score) >= threshold]
        kinds[kind] = {
            "group": group, "model": model_name, "failed_model": failed_model, "target_error": target,
            "threshold": round(threshold, 6),
            "readings": len(all_of_kind), "passed_checks": len(own),
            "wrong": sum(not s.right for s in all_of_kind), "wrong_passed_checks": sum(not s.right for s in own),
            "accepted": len(accepted), "accepted_wrong": sum(not s.right for s in accepted),
            "accepted_share": round(len(accepted) / len(all_of_kind), 4) if all_of_kind else 0.0,
        }
    return {"format_version": FORMAT_VERSION, "engine": engine, "provenance": dict(provenance or {}),
            "kinds": kinds, "models": models}
