"""Keystroke-Level Model of keying one form by hand: keys per field from its value and kind (see hours_model.md).

digits 1 key each; kana about 2 romaji keys each plus a width toggle; kanji by their reading (romaji keys) plus
Space/Enter per converted segment and, in names, a homophone choice; choices, eras and ticked boxes 1 key.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from reporting.hours_config import KeystrokeModel

NUMERIC_KINDS = frozenset({"digits", "amount", "my_number", "corporate_number", "phone", "postal_code"})
ONE_KEY_KINDS = frozenset({"era", "choice", "checkbox"})
DATE_KEYS = 6  # a 和暦 date is keyed as yy mm dd; the era is its own field


@dataclass(frozen=True)
class FieldEffort:
    keys: float  # keystrokes for the value itself
    mental: float  # M operators (1 per field, plus homophone choices in names)


def is_filled(value: object) -> bool:
    return value is not None and value != "" and value is not False


@lru_cache(maxsize=1)
def _kakasi():
    import pykakasi

    return pykakasi.kakasi()


def _is_kanji(char: str) -> bool:
    return "CJK UNIFIED IDEOGRAPH" in unicodedata.name(char, "") or char in "々〆ヶ"


def _is_kana(char: str) -> bool:
    return "\u3041" <= char <= "\u30ff" or "\uff66" <= char <= "\uff9f"


def kana_keys(text: str, model: KeystrokeModel) -> float:
    """Romaji keys for kana: 2 per kana, 1 per 長音 or space or other character."""
    return sum(model.ime.romaji_keys_per_kana if _is_kana(ch) and ch not in "ーｰ" else 1 for ch in text)


def text_effort(text: str, model: KeystrokeModel, *, is_name: bool) -> FieldEffort:
    """Japanese text through an IME: each kanji segment by its reading, converted and confirmed."""
    ime = model.ime
    keys, mental = 0.0, 1.0
    for token in _kakasi().convert(text):
        original, reading = token["orig"], token["hira"]
        if any(_is_kanji(ch) for ch in original):
            keys += kana_keys(reading, model) + ime.keys_per_converted_segment
            if is_name:
                keys += ime.name_choice_keys
                mental += ime.name_choice_mental
        elif any(_is_kana(ch) for ch in original):
            keys += kana_keys(original, model) + 1  # Enter confirms the kana as typed
        else:
            keys += len(original)  # letters, digits, spaces and signs: one key each
    return FieldEffort(keys=keys, mental=mental)


def field_effort(kind: str, name: str, value: str | bool | None, model: KeystrokeModel) -> FieldEffort | None:
    """What keying one field costs, or None for a field left blank (nothing to key)."""
    if not is_filled(value):
        return None
    text = str(value)
    if kind in NUMERIC_KINDS:
        # A 個人番号 reaches the report masked (********9018): each masked digit was still a key.
        return FieldEffort(keys=float(len(re.sub(r"[^0-9０-９\-*]", "", text)) or len(text)), mental=1.0)
    if kind == "date_wareki":
        return FieldEffort(keys=float(DATE_KEYS), mental=1.0)
    if kind in ONE_KEY_KINDS:
        return FieldEffort(keys=1.0, mental=1.0)
    if kind == "kana":
        return FieldEffort(keys=kana_keys(text, model) + model.ime.kana_field_conversion_keys, mental=1.0)
    is_name = any(re.search(pattern, name) for pattern in model.name_field_patterns)
    return text_effort(text, model, is_name=is_name)


def field_seconds(effort: FieldEffort, model: KeystrokeModel) -> float:
    """M + keys × K + navigation × K, before the per-form overhead and the verification pass."""
    return (effort.mental * model.mental_seconds
            + (effort.keys + model.navigation_keys_per_field) * model.key_seconds)
