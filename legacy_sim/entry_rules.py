"""The server-side checks the old system makes on 登録, for any of its forms.

Messages are the system's own; the robot reads them from the page. Over-long text is cut without a word, as
many old systems do: the robot must check lengths itself.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from legacy_sim import wareki
from legacy_sim.checkdigits import corporate_number_ok, my_number_ok
from legacy_sim.forms import FieldDef, FormDef

_DIGITS = re.compile(r"[0-9]+")
_SIGNED = re.compile(r"-?[0-9]+")
_HANKAKU_KANA = re.compile(r"[\uFF66-\uFF9F]+(?: [\uFF66-\uFF9F]+)*")


@dataclass
class EntryCheck:
    record: dict[str, object] | None
    errors: list[str] = field(default_factory=list)


def is_hankaku_kana(value: str) -> bool:
    return bool(_HANKAKU_KANA.fullmatch(value))


def wareki_date(form: Mapping[str, str], names: tuple[str, str, str, str]) -> str | None:
    """Encoded GYYMMDD from the era select and the YY/MM/DD boxes, "" when all are empty, None when no real day."""
    era_code = form.get(names[0], "")
    parts = [form.get(name, "").strip() for name in names[1:]]
    if not era_code and not any(parts):
        return ""
    if not all(_DIGITS.fullmatch(part) and len(part) <= 2 for part in parts):
        return None
    year, month, day = (int(part) for part in parts)
    if wareki.to_western(era_code, year, month, day) is None:
        return None
    return wareki.encode(era_code, year, month, day)


def _number_ok(check: str | None, value: str) -> bool:
    if check == "my_number":
        return my_number_ok(value)
    if check == "corporate_number":
        return corporate_number_ok(value)
    if check == "my_or_corporate_number":
        return my_number_ok(value) if len(value) == 12 else corporate_number_ok(value)
    return True


def _check_field(spec: FieldDef, form: Mapping[str, str], errors: list[str]) -> object:
    """The value to store (None for an empty field), appending the system's message where it refuses."""
    label = spec.label
    if spec.kind == "date":
        encoded = wareki_date(form, spec.date_inputs)
        if encoded is None:
            errors.append(f"{label}が正しくありません。")
        elif not encoded and spec.required:
            errors.append(f"{label}を入力してください。")
        return encoded or None
    raw = form.get(spec.input_name, "").strip()
    if spec.kind == "check":
        return 1 if raw == "1" else 0
    if not raw:
        if spec.required:
            verb = "選択" if spec.kind in ("code", "radio") else "入力"
            errors.append(f"{label}を{verb}してください。")
        return None
    if spec.kind in ("code", "radio"):
        if raw not in (spec.options or {}):
            errors.append(f"{label}を選択してください。")
        return raw
    if spec.kind in ("amount", "signed_amount"):
        pattern = _SIGNED if spec.kind == "signed_amount" else _DIGITS
        if "," in raw or "，" in raw:
            errors.append(f"{label}はカンマを付けずに半角数字で入力してください。")
        elif not pattern.fullmatch(raw) or len(raw.lstrip("-")) > (spec.maxlen or 13):
            errors.append(f"{label}は半角数字で入力してください。")
        else:
            return int(raw)
        return None
    if spec.kind == "digits":
        if not _DIGITS.fullmatch(raw) or (spec.lengths and len(raw) not in spec.lengths):
            digits = "または".join(str(n) for n in spec.lengths or ()) or str(spec.maxlen)
            errors.append(f"{label}は半角数字{digits}桁で入力してください。" if spec.lengths
                          else f"{label}は半角数字で入力してください。")
        elif not _number_ok(spec.check, raw):
            errors.append(f"{label}が正しくありません。")
        return raw
    if spec.kind == "kana" and not is_hankaku_kana(raw):
        errors.append(f"{label}は半角カナで入力してください。")
    return raw[:spec.maxlen] if spec.maxlen else raw  # cut without a word


def check_entry(form_def: FormDef, form: Mapping[str, str]) -> EntryCheck:
    errors: list[str] = []
    record = {spec.column: _check_field(spec, form, errors) for spec in form_def.fields}
    if not errors:
        errors += form_def.cross_checks(record)
    return EntryCheck(None if errors else record, errors)
