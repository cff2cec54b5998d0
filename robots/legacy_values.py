"""Turn a form's normalised values into what the target screens take and show, by the rules of its screen map.

Anything the system would take wrongly (a 外字, text it would cut, kana with no 半角 form, an unknown choice) is
a problem for people, found here before a single key is sent.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import jaconv

from robots.screen_map import FieldMap, FormScreens, ScreenMap
from robots.wareki import era_of

_ASCII_DIGITS = re.compile(r"[0-9]+")
_SIGNED_DIGITS = re.compile(r"-?[0-9]+")
_TRUE_TEXTS = {"true", "1", "○", "有"}
_FALSE_TEXTS = {"false", "0", ""}


class ValueProblem(ValueError):
    """A value the target system cannot take as it is; the message names the field, never the value."""


@dataclass(frozen=True)
class PreparedField:
    name: str
    spec: FieldMap
    parts: dict[str, str] | None  # None: no value, enter nothing

    def render(self, template: str) -> str:
        return template.format(**self.parts) if self.parts is not None else ""

    @property
    def expected_readback(self) -> str:
        return self.render(self.spec.readback.expect) if self.spec.readback else ""


@dataclass
class PreparedForm:
    fields: dict[str, PreparedField] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # sensitive values, to mask wherever text leaves the robot

    def expected_readbacks(self) -> dict[str, str]:
        return {name: prepared.expected_readback for name, prepared in self.fields.items()
                if prepared.spec.readback is not None}

    def set_looked_up(self, name: str, value: str) -> None:
        """A value found in the system's register (宛名番号 and the like), typed like any other."""
        self.fields[name] = PreparedField(name, self.fields[name].spec, {"value": value})


def _hankaku_kana(text: str) -> str:
    katakana = jaconv.hira2kata(text.replace("\u3000", " "))
    return " ".join(jaconv.z2h(katakana, kana=True, ascii=True, digit=True).split())


def _parts(name: str, spec: FieldMap, value: str, screen_map: ScreenMap) -> dict[str, str]:
    if spec.format in ("digits", "amount"):
        if not _ASCII_DIGITS.fullmatch(value):
            raise ValueProblem(f"{name}: 半角数字ではありません")
        parts = {"value": value}
        if spec.format == "amount":
            parts["commas"] = f"{int(value):,}"
        return parts
    if spec.format == "signed_amount":
        if not _SIGNED_DIGITS.fullmatch(value):
            raise ValueProblem(f"{name}: 半角数字（負は先頭に-）ではありません")
        number = int(value)
        return {"value": str(number), "commas": f"{number:,}",
                "triangle": f"△{-number:,}" if number < 0 else f"{number:,}"}
    if spec.format == "text":
        return {"value": " ".join(value.split())}
    if spec.format == "hankaku_kana":
        return {"value": _hankaku_kana(value)}
    if spec.format == "wareki_date":
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValueProblem(f"{name}: 日付（YYYY-MM-DD）ではありません") from None
        era_name, era_letter, year = era_of(day)
        era_code = screen_map.era_codes.get(era_name)
        if era_code is None:
            raise ValueProblem(f"{name}: 元号「{era_name}」のコードが画面定義にありません")
        return {"value": value, "era_code": era_code, "era_name": era_name, "era_letter": era_letter,
                "yy": f"{year:02d}", "mm": f"{day.month:02d}", "dd": f"{day.day:02d}",
                "y": str(year), "m": str(day.month), "d": str(day.day)}
    if spec.format == "choice":
        option = (spec.options or {}).get(value)
        if option is None:
            raise ValueProblem(f"{name}: 選択肢にない値です")
        return {"value": value, "code": option.code, "label": option.label}
    raise ValueProblem(f"{name}: 形式 {spec.format} は入力できません")


def _check_fits(name: str, spec: FieldMap, parts: dict[str, str], charset: str) -> None:
    value = parts["value"]
    for template in [step.value for step in spec.inputs]:
        try:
            template.format(**parts).encode(charset)
        except UnicodeEncodeError:
            raise ValueProblem(f"{name}: 外字（システムの文字コードにない文字）があります") from None
    if spec.max_length is not None and len(value) > spec.max_length:
        raise ValueProblem(f"{name}: {spec.max_length}文字を超えています（システムで切り捨てられます）")
    if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
        what = "半角カナにできない文字があります" if spec.format == "hankaku_kana" else "システムの入力形式に合いません"
        raise ValueProblem(f"{name}: {what}")


def _check_implied(name: str, spec: FieldMap, value: str, prepared: Mapping[str, PreparedField]) -> None:
    source = prepared.get(spec.implied_by or "")
    if source is None or source.parts is None:
        return
    if source.spec.format == "wareki_date" and value != source.parts["era_name"]:
        raise ValueProblem(f"{name}: {spec.implied_by} の日付の元号と一致しません")


def prepare_form(form: FormScreens, screen_map: ScreenMap, values: Mapping[str, object]) -> PreparedForm:
    prepared = PreparedForm()
    implied: list[tuple[str, FieldMap, str]] = []
    for name, spec in form.fields.items():
        raw = values.get(name)
        if spec.format == "looked_up":
            prepared.fields[name] = PreparedField(name, spec, None)  # filled in by the lookup
            continue
        if spec.format == "checkbox":
            ticked = _ticked(raw)
            if ticked is None:
                prepared.problems.append(f"{name}: チェック欄の値ではありません")
                continue
            prepared.fields[name] = PreparedField(name, spec, {"value": "1", "mark": "○"} if ticked else None)
            continue
        if raw is not None and not isinstance(raw, str):
            prepared.problems.append(f"{name}: 文字列でない値です")
            continue
        value = unicodedata.normalize("NFC", raw.strip()) if raw else ""
        if spec.sensitive and value:
            prepared.secrets.append(value)
        if spec.format == "implied":
            if value:
                implied.append((name, spec, value))
            continue
        if not value:
            prepared.fields[name] = PreparedField(name, spec, None)
            continue
        try:
            parts = _parts(name, spec, value, screen_map)
            _check_fits(name, spec, parts, screen_map.charset)
        except ValueProblem as problem:
            prepared.problems.append(str(problem))
            continue
        prepared.fields[name] = PreparedField(name, spec, parts)
    for name, spec, value in implied:
        try:
            _check_implied(name, spec, value, prepared.fields)
        except ValueProblem as problem:
            prepared.problems.append(str(problem))
    return prepared


def _ticked(raw: object) -> bool | None:
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    if isinstance(raw, str) and raw.strip().lower() in _TRUE_TEXTS | _FALSE_TEXTS:
        return raw.strip().lower() in _TRUE_TEXTS
    return None


def mismatched_fields(expected: Mapping[str, str], shown: Mapping[str, str]) -> list[str]:
    """Fields whose screen text differs from what was sent, or that the screen does not show at all (runs of
    white space count as one space)."""
    def same(a: str, b: str) -> bool:
        return " ".join(a.split()) == " ".join(b.split())
    return [name for name, text in expected.items() if name not in shown or not same(text, shown[name])]
