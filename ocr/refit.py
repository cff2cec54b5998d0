"""Re-fit the calibration (ocr/calibration.py) from what people decided in production: fields they reviewed and
fields drawn for a blind audit sample.

Reviewed fields are the ones the reader flagged (all of them are labelled); accepted fields are labelled only where
an audit sample drew them, each with the chance it had of being drawn, so it stands for 1/share accepted fields
(inverse-probability weight) in the isotonic curve and in the error estimates.

Per kind — or pooled with its group (numeric, text, marks) when the kind has fewer than `min_samples` labelled
readings; a group with fewer keeps the previous calibration for its kinds — the curve is fitted anew and the
acceptance cut (the lowest engine score accepted) is decided against the previous one:

- **tightened** when the labelled readings at or above the previous cut show an error above the target. When they
  show it at 95% (the Wilson interval's lower bound above the target: the drift is real), nothing below a cut whose
  Wilson upper bound is within the target is trusted any more — the lowest such cut, or, where the evidence shows
  none yet, no automatic acceptance of the kind at all until reviews and audits show one (every field of it is
  then reviewed and labelled, so that evidence builds quickly). When only the point estimate is above the target,
  the cut rises to the lowest score above it from which the labelled readings meet the target;
- **loosened** only when the re-fitted cut is lower *and* the Wilson 95% upper bound of the error among the labelled
  readings at or above it is within the target — at a 0.1% target that takes thousands of readings without an
  error, so a threshold is never loosened on too little evidence;
- **kept** otherwise.

The result has the calibration file's format (`format_version` 1) with a `version`, so the reader needs nothing new.
The curve of a kind is capped just below its cut, so the cut holds exactly in score terms even inside a flat block
of the isotonic fit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ocr import calibration as cal

# A kind (or its group) needs this many labelled readings that passed every check before it is re-fitted.
DEFAULT_MIN_SAMPLES = 100
NOTHING_ACCEPTED = 1.000001  # a threshold no probability (clipped to 1.0) reaches
_CAP = 1e-6


@dataclass(frozen=True)
class LabelledReading:
    """One field a person decided: kind, engine (or mark) score, passed every check, the reading was right, its
    weight (1 for a reviewed field, 1/share for an audit sample) and whether it came from an audit sample."""
    kind: str
    score: float
    passed: bool
    right: bool
    weight: float = 1.0
    audited: bool = False


@dataclass(frozen=True)
class KindDecision:
    kind: str
    pool: str  # "kind", "group:<g>" or "" (kept: too few)
    labelled: int  # labelled readings that passed every check in the pool
    audited: int
    wrong_above_old: int  # labelled wrong readings at or above the previous cut
    error_above_old: float | None  # weighted error at or above the previous cut
    old_cut: float | None  # None: nothing was accepted
    new_cut: float | None
    decision: str  # tightened | loosened | kept | kept (too little evidence to loosen) | kept (too few: n)
    threshold: float | None
    target: float


def wilson_interval(wrong: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95% by default) of a proportion `wrong`/`n`; (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = wrong / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def fit_isotonic_weighted(scores: Sequence[float], right: Sequence[bool], weights: Sequence[float]
                          ) -> dict[str, list[float]]:
    """As `calibration.fit_isotonic`, with a weight per reading (one wrong reading at score 0 anchors the low end)."""
    from sklearn.isotonic import IsotonicRegression

    model = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    model.fit(np.asarray([0.0, *scores], dtype=float), np.asarray([0.0, *right], dtype=float),
              sample_weight=np.asarray([1.0, *weights], dtype=float))
    return {"x": [round(float(v), 6) for v in model.X_thresholds_],
            "y": [round(float(v), 6) for v in model.y_thresholds_]}


def choose_threshold_weighted(probabilities: Sequence[float], right: Sequence[bool], weights: Sequence[float],
                              target_error: float) -> float:
    """The lowest probability t at which the weighted share wrong among readings with probability ≥ t is at most
    `target_error`; NOTHING_ACCEPTED when no t meets it."""
    p = np.asarray(probabilities, dtype=float)
    ok = np.asarray(right, dtype=bool)
    w = np.asarray(weights, dtype=float)
    best = NOTHING_ACCEPTED
    for t in np.unique(p):
        accepted = p >= t
        if w[accepted & ~ok].sum() <= target_error * w[accepted].sum():
            best = min(best, float(t))
    return best


def score_cut(model: Mapping[str, Sequence[float]], threshold: float) -> float | None:
    """The lowest engine score whose calibrated probability reaches `threshold` (None: no score does)."""
    x, y = list(model["x"]), list(model["y"])
    if threshold <= y[0]:
        return 0.0
    for i in range(1, len(x)):
        if y[i] >= threshold:
            if y[i] == y[i - 1]:
                return float(x[i - 1])
            return float(x[i - 1] + (threshold - y[i - 1]) * (x[i] - x[i - 1]) / (y[i] - y[i - 1]))
    return None


def previous_cut(kind: str, previous: dict | None, engine: str | None) -> float | None:
    """The lowest score the previous calibration accepted for `kind` (the hand-picked score threshold where none
    applied: then the probability is the score)."""
    if previous is not None and cal._applies(previous, kind, engine):
        entry = previous["kinds"][kind]
        return score_cut(previous["models"][entry["model"]], float(entry["threshold"]))
    return cal.UNCALIBRATED_THRESHOLD_BY_KIND.get(kind, 0.99)


def capped_below(model: Mapping[str, Sequence[float]], cut: float) -> tuple[dict[str, list[float]], float]:
    """The curve with every score below `cut` held under the probability at `cut`, and that probability (the
    threshold): accepting at it accepts exactly the scores from `cut` up."""
    x, y = [float(v) for v in model["x"]], [float(v) for v in model["y"]]
    at_cut = max(cal.interpolate(model, cut), 2 * _CAP)
    if cut <= 0.0:
        return {"x": x, "y": y}, cal.interpolate(model, 0.0)
    below = cut - _CAP
    points = [(xi, min(yi, at_cut - _CAP)) for xi, yi in zip(x, y) if xi < below]
    points.append((below, min(cal.interpolate(model, below), at_cut - _CAP)))
    points.append((cut, at_cut))
    points += [(xi, max(yi, at_cut)) for xi, yi in zip(x, y) if xi > cut]
    return {"x": [round(p[0], 7) for p in points], "y": [round(p[1], 7) for p in points]}, at_cut


def _lowest_cut(pool: Sequence[LabelledReading], old: float | None, target: float, *, proven: bool) -> float | None:
    """The lowest score above `old` from which the labelled readings' error is within target: their Wilson upper
    bound (`proven`), else their weighted share. None when no score is."""
    for cut in sorted({r.score for r in pool if old is None or r.score > old}):
        above = [r for r in pool if r.score >= cut]
        if proven:
            within = wilson_interval(sum(not r.right for r in above), len(above))[1] <= target
        else:
            error = _weighted_error(above)
            within = error is not None and error <= target
        if within:
            return cut
    return None


def _weighted_error(readings: Sequence[LabelledReading]) -> float | None:
    total = sum(r.weight for r in readings)
    return sum(r.weight for r in readings if not r.right) / total if total else None


def refit_calibration(previous: dict | None, readings: Sequence[LabelledReading], *, version: str,
                      min_samples: int = DEFAULT_MIN_SAMPLES, target_error_by_kind: Mapping[str, float] | None = None,
                      engine: str = "rapidocr", provenance: Mapping[str, object] | None = None
                      ) -> tuple[dict, list[KindDecision]]:
    """The next calibration (the JSON's content) and the decision taken for each kind."""
    targets = dict(target_error_by_kind or {})
    models: dict[str, dict] = {}
    kinds: dict[str, dict] = {}
    decisions: list[KindDecision] = []
    passed = [r for r in readings if r.passed]
    failed = [r for r in readings if not r.passed]
    previous_kinds = dict(previous["kinds"]) if previous and previous.get("engine") == engine else {}

    def carry(kind: str) -> None:
        entry = previous_kinds.get(kind)
        if entry is None or previous is None:
            return
        kinds[kind] = dict(entry)
        for name in (entry["model"], entry["failed_model"]):
            models[name] = previous["models"][name]

    for kind in sorted({r.kind for r in readings} | set(previous_kinds)):
        group = cal.group_of(kind)
        target = float(targets.get(kind, previous_kinds.get(kind, {}).get("target_error",
                                                                           cal.default_target_error(kind))))
        old = previous_cut(kind, previous, engine)
        own = [r for r in passed if r.kind == kind]
        pooled = [r for r in passed if cal.group_of(r.kind) == group]
        if len(own) >= min_samples:
            pool, pool_name = own, "kind"
        elif len(pooled) >= min_samples and own:
            pool, pool_name = pooled, f"group:{group}"
        else:
            carry(kind)
            decisions.append(KindDecision(kind, "", len(own), sum(r.audited for r in own), 0, None, old, old,
                                          f"kept (too few: {len(own)} of {min_samples})",
                                          kinds.get(kind, {}).get("threshold"), target))
            continue
        fitted = fit_isotonic_weighted([r.score for r in pool], [r.right for r in pool], [r.weight for r in pool])
        fitted_threshold = choose_threshold_weighted([cal.interpolate(fitted, r.score) for r in pool],
                                                     [r.right for r in pool], [r.weight for r in pool], target)
        fitted_cut = score_cut(fitted, fitted_threshold) if fitted_threshold <= 1.0 else None
        above_old = [r for r in pool if old is not None and r.score >= old]
        error_old = _weighted_error(above_old)
        low_old, _ = wilson_interval(sum(not r.right for r in above_old), len(above_old))
        if above_old and low_old > target:
            cut = _lowest_cut(pool, old, target, proven=True)
            decision = "tightened" if cut is not None else "tightened (none accepted until evidence)"
        elif error_old is not None and error_old > target:
            cut = _lowest_cut(pool, old, target, proven=False)
            decision = "tightened" if cut is not None else "tightened (none accepted until evidence)"
        elif fitted_cut is not None and (old is None or fitted_cut < old):
            above_new = [r for r in pool if r.score >= fitted_cut]
            _, upper = wilson_interval(sum(not r.right for r in above_new), len(above_new))
            cut, decision = (fitted_cut, "loosened") if upper <= target else (
                old, "kept (too little evidence to loosen)")
        else:
            cut, decision = old, "kept"
        if cut is None:
            model, threshold = fitted, NOTHING_ACCEPTED
        else:
            model, threshold = capped_below(fitted, cut)
        model_name = f"{version}:kind:{kind}"
        models[model_name] = model
        bad = [r for r in failed if cal.group_of(r.kind) == group]
        if len(bad) >= cal.MIN_FAILED_READINGS:
            failed_name = f"{version}:failed:{group}"
            models.setdefault(failed_name, fit_isotonic_weighted(
                [r.score for r in bad], [r.right for r in bad], [r.weight for r in bad]))
        elif kind in previous_kinds and previous is not None:
            failed_name = previous_kinds[kind]["failed_model"]
            models[failed_name] = previous["models"][failed_name]
        else:
            failed_name = model_name
        accepted = [r for r in own if cal.interpolate(model, r.score) >= threshold]
        kinds[kind] = {
            "group": group, "model": model_name, "failed_model": failed_name, "target_error": target,
            "threshold": round(threshold, 7), "pool": pool_name, "decision": decision,
            "readings": sum(r.kind == kind for r in readings), "passed_checks": len(own),
            "audited": sum(r.audited for r in own), "wrong_passed_checks": sum(not r.right for r in own),
            "accepted": len(accepted), "accepted_wrong": sum(not r.right for r in accepted),
            "score_cut": None if cut is None else round(cut, 6),
            "previous_score_cut": None if old is None else round(old, 6),
        }
        decisions.append(KindDecision(kind, pool_name, len(pool), sum(r.audited for r in pool),
                                      sum(not r.right for r in above_old), error_old, old, cut, decision,
                                      threshold, target))
    fitted_calibration = {"format_version": cal.FORMAT_VERSION, "engine": engine, "version": version,
                          "based_on": cal.calibration_version(previous), "provenance": dict(provenance or {}),
                          "kinds": kinds, "models": models}
    return fitted_calibration, decisions
