"""What a reviewer sees of a field and how what they type becomes a value: Japanese labels for kinds and reasons,
masking of 個人番号, and the server-side check of a typed value (the same normalisation the reader applies)."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date

from ocr.checkdigits import mask_my_number
from ocr.normalize import normalize
from ocr.templates import FieldSpec, Template
from ocr.addresses import check_address
from ocr.plausibility import implausible_characters
from ocr.validate import validate_field
from review.reasons import sentence

KIND_LABELS = {
    "text": "文字", "kana": "フリガナ", "digits": "数字", "amount": "金額", "date_wareki": "日付（和暦）",
    "era": "元号", "checkbox": "チェック", "choice": "選択", "my_number": "個人番号", "corporate_number": "法人番号",
    "phone": "電話番号", "postal_code": "郵便番号",
}

REASON_LABELS = {
    "low_confidence": "読取の確信度が低い",
    "ambiguous_mark": "丸印があいまい",
    "required_missing": "必須項目が空欄",
    "check_digit": "チェックディジット不一致",
    "wrong_length": "桁数が違う",
    "not_digits": "数字以外の文字",
    "implausible_amount": "金額が想定外",
    "out_of_range": "範囲外の値",
    "date_out_of_range": "日付が範囲外",
    "bad_date": "日付として読めない",
    "era_missing": "元号が不明",
    "not_kana": "カタカナ以外の文字",
    "small_kana_suspicious": "小書きカナが不自然",
    "kana_separator_guessed": "姓名の区切りを推定",
    "known_misread": "誤読しやすい文字",
    "name_kana_mismatch": "氏名とフリガナが合わない",
    "variant_possible": "異体字の可能性（髙・﨑など）",
    "not_an_option": "選択肢にない値",
    "not_checkbox": "チェックとして読めない",
    "not_phone": "電話番号として読めない",
    "blind_mismatch": "ベリファイ不一致（2人目の入力待ち）",
    "blind_conflict": "ベリファイ2回不一致（監督者が判断）",
    "audit_sample": "抜き取り検査",
    "suffix_mismatch": "印刷済みの末尾（000 など）と合わない",
    "digit_grouping_mismatch": "桁区切り（カンマ）の位置が桁数と合わない",
    "phone_grouping_unsure": "電話番号の区切りが不明",
    "text_beyond_box": "枠の外まで書かれている（切れている可能性）",
    "kana_cut_short": "フリガナが途中で切れている可能性",
    "kana_separator_missing": "姓と名の区切りがない",
    "unlikely_character": "この欄に通常使わない文字",
    "place_not_in_postal_data": "郵便番号データにない地名",
    "chinese_variant": "中国語の字体で読み取られた文字",
    "second_reading_differs": "長い行を分けて読み直すと結果が違う",
    "name_cut_short": "氏名の読みがフリガナの途中で終わる（最後の文字が欠けた可能性）",
    "near_miss_character": "読取に近い別の文字があり、桁が落ちた・重なった可能性",
    "account_number_length": "口座番号が7桁でない（または種目・番号が読めない）",
    "kana_lookalike_of_reading": "フリガナが氏名の読みと1文字だけ違う（似た文字）",
    "bank_not_in_zengin_data": "全銀データにない金融機関名",
    "branch_not_in_zengin_data": "全銀データにないその金融機関の支店名",
    "seal_over_field": "印影（押印・受付印）が欄に重なっている",
    "reading_shorter_than_ink": "書かれた文字の数より読み取った桁が少ない（桁落ちの可能性）",
    "ink_from_outside_box": "枠の外から入り込んだ線がある（チェックか判断できない）",
}

# A person's value may pass with these still standing (Shift+Enter): a true amount can be unusually large.
SOFT_PROBLEMS = frozenset({"implausible_amount", "out_of_range", "date_out_of_range", "known_misread",
                           "variant_possible", "kana_separator_guessed", "small_kana_suspicious", "not_kana"})
_PERSONAL_NUMBER_VALIDATORS = ("my_number_check_digit", "my_or_corporate_number_check_digit")


def reason_label(reason: str) -> str:
    """The reason in a Japanese sentence that says what to do (never the bare code; review/reasons.py)."""
    return sentence(reason)


def holds_personal_number(spec: FieldSpec | None) -> bool:
    """Fields that hold (or may hold) a 個人番号: masked on screens, crop and reveal for supervisors only."""
    if spec is None:
        return False
    return spec.kind == "my_number" or any(v in spec.validators for v in _PERSONAL_NUMBER_VALIDATORS)


def display_value(value: object, spec: FieldSpec | None) -> str:
    """The value as a person reads it on screen, 個人番号 masked."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓ あり" if value else "なし"
    text = str(value)
    if holds_personal_number(spec):
        # Whatever its length: a 13-digit reading of a 個人番号 field is as likely a 12-digit 個人番号 with one
        # digit read twice as a 法人番号, and a 法人番号 masked costs nothing.
        return mask_my_number(text)
    return text


def input_value(value: object) -> str:
    """The value as it goes into an input box for editing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


@dataclass
class CheckedInput:
    value: str | bool | None
    hard: list[str] = field(default_factory=list)  # must be fixed before saving
    soft: list[str] = field(default_factory=list)  # may be confirmed with Shift+Enter

    @property
    def problems(self) -> list[str]:
        return self.hard + self.soft


def check_input(template: Template, spec: FieldSpec, text: str, other_values: dict[str, object],
                today: date | None = None) -> CheckedInput:
    """The reader's own normalisation and validators applied to what a person typed."""
    text = (text or "").strip()
    if spec.kind == "date_wareki":
        value, problems = _date_input(spec, text, other_values)
    else:
        normalised = normalize(spec.kind, text, _as_typed(spec))
        value, problems = normalised.value, list(normalised.problems)
    if value is not None:
        problems += validate_field(spec, value, today=today)
        problems += _plausibility_problems(spec, value)
        suffix = spec.preprinted_suffix or ""
        if suffix and spec.kind in ("amount", "digits") and str(value).lstrip("-") != "0" \
                and not str(value).endswith(suffix):
            problems.append("suffix_mismatch")
    elif spec.required and not problems:
        problems.append("required_missing")
    unique = list(dict.fromkeys(problems))
    return CheckedInput(value, [p for p in unique if p not in SOFT_PROBLEMS], [p for p in unique if p in SOFT_PROBLEMS])


def _plausibility_problems(spec: FieldSpec, value: object) -> list[str]:
    """What the reader checks beyond the validators, applied to a person's value too: characters such a field never
    holds (`<b>加藤舞</b>` as a 氏名), and an address whose place name the postal data does not know."""
    if not isinstance(value, str) or not value:
        return []
    problems = []
    if implausible_characters(value, spec.content):
        problems.append("unlikely_character")
    if spec.content == "address" and not check_address(value).known:
        problems.append("place_not_in_postal_data")
    elif spec.content == "address" and check_address(value).corrected:
        problems.append("known_misread")  # one character from a real place name: the person may have mistyped
    return problems


def _as_typed(spec: FieldSpec) -> FieldSpec:
    """A person types the whole value, pre-printed 000 included (the input is prefilled with it), so the reader's
    rule of appending the printed suffix must not apply again."""
    suffix = spec.preprinted_suffix or ""
    if not suffix and not spec.preprinted_text:
        return spec
    return spec.model_copy(update={"preprinted_suffix": None, "preprinted_text": None,
                                   "cells": (spec.cells + len(suffix)) if spec.cells else None})


def _date_input(spec: FieldSpec, text: str, other_values: dict[str, object]) -> tuple[str | None, list[str]]:
    if not text:
        return None, []
    cleaned = unicodedata.normalize("NFKC", text).strip()
    try:
        return date.fromisoformat(cleaned).isoformat(), []
    except ValueError:
        pass
    era_value = other_values.get(spec.era_field) if spec.era_field else None
    normalised = normalize("date_wareki", cleaned, spec, era_value=era_value if isinstance(era_value, str) else None)
    return normalised.value, list(normalised.problems)  # type: ignore[return-value]


def input_hint(spec: FieldSpec) -> str:
    return {
        "amount": "半角数字（カンマ可、マイナスは - または △）",
        "date_wareki": "YYYY-MM-DD または 令和6年4月1日 / R6.4.1",
        "my_number": "12桁の数字",
        "corporate_number": "13桁の数字",
        "checkbox": "1 = あり, 0 = なし",
        "choice": "選択肢: " + " / ".join(spec.options or []),
        "era": "元号: " + " / ".join(spec.options or []),
        "postal_code": "123-4567",
        "phone": "043-245-5111",
        "kana": "カタカナ（姓と名の間に空白1つ）",
    }.get(spec.kind, "")
