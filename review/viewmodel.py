"""What the form view and the group view show of a form's fields, for one viewer."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ledger.models import BlindEntry, FieldValue, Form
from ledger.review_repo import REVIEW, reasons_of
from ledger.values import decode_value
from ocr.templates import FieldSpec, Template, TemplateError, load_template
from review.auth import may_see_personal_numbers
from review.blind import Mode, may_decide_conflict, review_mode
from review.fields import KIND_LABELS, display_value, holds_personal_number, input_hint, input_value
from review.reasons import explain

MODE_LABELS = {
    "form": "",
    "blind": "ベリファイ（読取値を見ずに入力）",
    "audit_sample": "抜き取り検査（読取値を見ずに入力）",
    "second": "ベリファイ2人目（読取値を見ずに入力）",
    "waiting": "2人目の確認者の入力待ち",
    "conflict": "不一致：監督者が判断",
}


@dataclass
class Viewer:
    name: str
    display_name: str
    role: str
    session_started: datetime
    csrf_token: str

    @property
    def may_see_personal_numbers(self) -> bool:
        return may_see_personal_numbers(self.role)


@dataclass
class FieldView:
    number: int
    name: str
    label: str
    kind: str
    kind_label: str
    box_percent: tuple[float, float, float, float]  # left, top, width, height on the page image
    reasons: list[str]
    reading: str  # as shown: masked, or hidden in blind modes
    prefill: str
    mode: Mode
    mode_label: str
    personal: bool
    actionable: bool  # this viewer can resolve it now
    blocked_reason: str = ""
    hint: str = ""
    crop_needs_reveal: bool = False
    entries: list[str] = field(default_factory=list)  # earlier blind entries, shown in a conflict


def template_for(form_id: str | None, version: str | None = None) -> Template | None:
    if not form_id:
        return None
    try:
        return load_template(form_id, version)
    except (TemplateError, OSError):
        return None


def template_of(form: Form) -> Template | None:
    """The version of the template the form was read with (several may be installed side by side)."""
    return template_for(form.form_id, getattr(form, "template_version", None)) or template_for(form.form_id)


def spec_of(template: Template | None, name: str) -> FieldSpec | None:
    if template is None:
        return None
    try:
        return template.field(name)
    except KeyError:
        return None


def _percent_box(template: Template, spec: FieldSpec | None) -> tuple[float, float, float, float]:
    if spec is None:
        return (0.0, 0.0, 0.0, 0.0)
    x, y, w, h = spec.box
    width, height = template.page.width_mm, template.page.height_mm
    return (round(100 * x / width, 3), round(100 * y / height, 3), round(100 * w / width, 3),
            round(100 * h / height, 3))


def field_view(number: int, field_value: FieldValue, template: Template, entries: list[BlindEntry],
               blind_kinds: frozenset[str], viewer: Viewer) -> FieldView:
    spec = spec_of(template, field_value.name)
    kind = spec.kind if spec else "text"
    reasons = reasons_of(field_value)
    mode = review_mode(kind, reasons, entries, blind_kinds, viewer.name)
    personal = holds_personal_number(spec)
    reading_value = decode_value(field_value.value)
    blind = mode in ("blind", "audit_sample", "second")
    actionable, blocked = True, ""
    if personal and not viewer.may_see_personal_numbers:
        actionable, blocked = False, "個人番号は監督者が確認します"
    elif mode == "waiting":
        actionable, blocked = False, "別の確認者の入力を待っています"
    elif mode == "conflict" and not viewer.may_see_personal_numbers:
        actionable, blocked = False, "監督者が判断します"
    elif mode == "conflict" and not may_decide_conflict(viewer.name, True, entries):
        actionable, blocked = False, "ご自身のベリファイ入力があるため、入力者以外の監督者が判断します"
    # Who may not decide a conflict sees neither the blind entries nor the reading: only the decider compares them.
    hidden_conflict = mode == "conflict" and not actionable
    if blind or hidden_conflict:
        reading, prefill = "（非表示）", ""
    else:
        reading = display_value(reading_value, spec) or "（空欄）"
        prefill = "" if personal else input_value(reading_value)
    shown_entries = []
    if mode == "conflict" and not hidden_conflict:
        shown_entries = [f"{entry.user_name}: {display_value(decode_value(entry.value), spec) or '（空欄）'}"
                         for entry in entries]
    return FieldView(
        number=number, name=field_value.name, label=spec.label if spec else field_value.name, kind=kind,
        kind_label=KIND_LABELS.get(kind, kind), box_percent=_percent_box(template, spec),
        reasons=reason_sentences(field_value, template, reasons), reading=reading, prefill=prefill, mode=mode,
        mode_label=MODE_LABELS[mode], personal=personal, actionable=actionable, blocked_reason=blocked,
        hint=input_hint(spec) if spec else "", crop_needs_reveal=personal, entries=shown_entries)


def reason_sentences(field_value: FieldValue, template: Template, reasons: list[str]) -> list[str]:
    """Each reason in words; a failed rule between fields with its formula, the numbers read and the suspect field."""
    if not any(reason.startswith("cross_field:") for reason in reasons):
        return [explain(reason, field_value.name, template) for reason in reasons]
    fields = field_value.form.fields
    values = {f.name: decode_value(f.corrected_value if f.status == "corrected" else f.value) for f in fields}
    confidences = {f.name: f.confidence for f in fields}
    others = {f.name: reasons_of(f) for f in fields if f.status == REVIEW}
    return [explain(reason, field_value.name, template, values, confidences, others) for reason in reasons]


def flagged_views(form: Form, template: Template, entries: dict[str, list[BlindEntry]],
                  blind_kinds: frozenset[str], viewer: Viewer) -> list[FieldView]:
    """Flagged fields in the order of the template (the order a person's eye goes down the form)."""
    order = {spec.name: index for index, spec in enumerate(template.fields)}
    flagged = sorted((f for f in form.fields if f.status == REVIEW), key=lambda f: (order.get(f.name, 10_000), f.id))
    return [field_view(number, f, template, entries.get(f.name, []), blind_kinds, viewer)
            for number, f in enumerate(flagged, start=1)]


@dataclass
class SettledField:
    label: str
    value: str
    status: str


def settled_fields(form: Form, template: Template) -> list[SettledField]:
    """Accepted and corrected fields with a value, for context (個人番号 masked)."""
    order = {spec.name: index for index, spec in enumerate(template.fields)}
    rows = []
    for f in sorted(form.fields, key=lambda f: (order.get(f.name, 10_000), f.id)):
        if f.status == REVIEW:
            continue
        spec = spec_of(template, f.name)
        value = decode_value(f.corrected_value if f.status == "corrected" else f.value)
        if value is None:
            continue
        status = "修正済" if f.status == "corrected" else "自動確定"
        rows.append(SettledField(spec.label if spec else f.name, display_value(value, spec), status))
    return rows


def personal_boxes(template: Template) -> list[tuple[float, float, float, float]]:
    return [spec.box for spec in template.fields if holds_personal_number(spec)]
