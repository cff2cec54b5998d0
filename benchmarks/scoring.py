"""Score read results against ground truth the way the Chiba pilot counted, and the way that matters to us."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Score:
    pages: int = 0
    pages_classified_right: int = 0
    fields: int = 0
    fields_exact: int = 0
    accepted: int = 0
    accepted_wrong: int = 0
    judged: int = 0  # accepted + review (empty fields are neither)
    chars_read: int = 0
    chars_corrected: int = 0
    wrong_accepted_examples: list[str] = field(default_factory=list)
    # Whole forms: one goes straight through when every field on it is accepted (none left for a person).
    forms_straight: int = 0
    forms_straight_and_right: int = 0  # ... and none of the accepted fields is wrong
    held_by_kind: Counter = field(default_factory=Counter)  # forms held back, by kind of field holding them
    held_by_reason: Counter = field(default_factory=Counter)
    sealed_pages: int = 0
    sealed_checkboxes: int = 0
    sealed_checkboxes_accepted_wrong: int = 0

    def add(self, other: "Score") -> None:
        for name in ("pages", "pages_classified_right", "fields", "fields_exact", "accepted", "accepted_wrong",
                     "judged", "chars_read", "chars_corrected", "forms_straight", "forms_straight_and_right",
                     "sealed_pages", "sealed_checkboxes", "sealed_checkboxes_accepted_wrong"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.held_by_kind.update(other.held_by_kind)
        self.held_by_reason.update(other.held_by_reason)
        self.wrong_accepted_examples += other.wrong_accepted_examples[:5]

    def holding_back(self, top: int = 5) -> str:
        """The field kinds (and reasons) that hold most forms back, as 'kind: forms'."""
        kinds = ", ".join(f"{k}: {n}" for k, n in self.held_by_kind.most_common(top))
        reasons = ", ".join(f"{k}: {n}" for k, n in self.held_by_reason.most_common(top))
        return f"held back by kind — {kinds or 'none'}; by reason — {reasons or 'none'}"

    def figures(self) -> dict[str, float]:
        return {
            # (characters read − characters that needed correcting) / characters read, as Chiba measured it.
            "char_accuracy": _share(self.chars_read - self.chars_corrected, self.chars_read),
            "field_accuracy": _share(self.fields_exact, self.fields),
            "straight_through": _share(self.accepted, self.judged),
            "accepted_error": _share(self.accepted_wrong, self.accepted),
            "classification_accuracy": _share(self.pages_classified_right, self.pages),
            "form_straight_through": _share(self.forms_straight, self.pages),
            "form_straight_and_right": _share(self.forms_straight_and_right, self.pages),
        }


def _share(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else 0.0


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def _field_kinds(form_id: str) -> dict[str, str]:
    from ocr.templates import load_template

    return {spec.name: f"{spec.kind}:{spec.content}" if spec.content else spec.kind
            for spec in load_template(form_id).fields}


def score_page(result: dict, truth: dict) -> Score:
    score = Score(pages=1)
    seals = (truth.get("robust") or {}).get("seals") or []
    score.sealed_pages = int(bool(seals))
    if result.get("form_id") != truth.get("form_id"):
        return score
    score.pages_classified_right = 1
    invalid_on_paper = set(truth.get("deliberately_invalid", []))
    kinds = _field_kinds(truth["form_id"])
    sealed = {name for seal in seals for name in seal["fields"]}
    held: set[str] = set()
    reasons: set[str] = set()
    wrong_before = 0
    for name, true_value in truth["fields"].items():
        reading = result["fields"].get(name, {"value": None, "status": "review"})
        value = reading["value"]
        score.fields += 1
        exact = value == true_value
        score.fields_exact += exact
        if reading["status"] != "empty":
            score.judged += 1
        if reading["status"] == "review":
            held.add(kinds.get(name, "?"))
            reasons.update(r.split(":", 1)[0] for r in reading.get("reasons") or ["?"])
        if name in sealed and kinds.get(name) == "checkbox":
            score.sealed_checkboxes += 1
            score.sealed_checkboxes_accepted_wrong += reading["status"] == "accepted" and not exact
        if reading["status"] == "accepted":
            score.accepted += 1
            # A form wrong on paper read faithfully is not a misread; accepting it would still be wrong.
            if not exact or name in invalid_on_paper:
                score.accepted_wrong += 1
                score.wrong_accepted_examples.append(f"{name}: {value!r} ≠ {true_value!r}")
        if isinstance(true_value, str):
            read_text = value if isinstance(value, str) else ""
            score.chars_read += max(len(read_text), len(true_value))
            score.chars_corrected += edit_distance(read_text, true_value)
        else:
            score.chars_read += 1
            score.chars_corrected += not exact
    score.forms_straight = int(not held)
    score.forms_straight_and_right = int(not held and score.accepted_wrong == wrong_before)
    score.held_by_kind.update(held)
    score.held_by_reason.update(reasons)
    return score
