"""Evidence about a field's value beyond the engine's score: check digits, ranges, dates, arithmetic between fields.

The study found the engine's score does not separate right reads from wrong ones; these checks do. Each returns
short reason codes, empty when the value passes. Values are the normalised ones (`ocr.normalize`): strings of
ASCII digits, ISO dates, booleans, or None.

Validator names a template may list in a field's `validators`:
  my_number_check_digit, corporate_number_check_digit   the number's check digit (reason `check_digit`)
  my_or_corporate_number_check_digit                    支払者 個人番号又は法人番号: 13 digits a 法人番号, 12 a
                                                        個人番号 (written 右詰め in 13 cells); `check_digit` or `wrong_length`
  allow_negative                                        an amount that may be negative (a loss, a refund)
  max_amount:<yen>                                      an amount's plausible ceiling (default 1億, forms.md §1.3)
  range:<low>:<high>                                    digits or amount within [low, high] (`out_of_range`)
  birth_date                                            a date not in the future (also when the label says 生年月日)
A name not in this list gives the reason `unknown_validator:<name>`, so a typo sends fields to a person instead of
passing silently.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

from ocr.checkdigits import is_valid_corporate_number, is_valid_my_number
from ocr.evidence import confusable_readings, name_kana_evidence
from ocr.rules import Name, holds
from ocr.templates import FieldSpec, Template

DEFAULT_MAX_AMOUNT = 100_000_000  # 1億: above this a personal tax amount is absurd and goes to a person
EARLIEST_DATE = date(1900, 1, 1)
# No date on these forms lies further ahead than a planned payment or a change announced in advance.
LATEST_DAYS_AHEAD = 366

def _is_valid_my_or_corporate_number(number: str) -> bool:
    return is_valid_corporate_number(number) if len(number) == 13 else is_valid_my_number(number)


_CHECK_DIGITS = {
    "my_number_check_digit": is_valid_my_number,
    "corporate_number_check_digit": is_valid_corporate_number,
    "my_or_corporate_number_check_digit": _is_valid_my_or_corporate_number,
}
_FLAG_VALIDATORS = {"allow_negative", "birth_date"}
_PARAMETER_COUNTS = {"max_amount": 1, "range": 2}


def validate_field(spec: FieldSpec, value: object, *, today: date | None = None) -> list[str]:
    if value is None or value == "":
        return ["required_missing"] if spec.required else []
    reasons: list[str] = []
    reasons += _unknown_validators(spec)
    for name, is_valid in _CHECK_DIGITS.items():
        if name in spec.validators and not is_valid(str(value)):
            reasons.append("wrong_length" if name == "my_or_corporate_number_check_digit"
                           and len(str(value)) not in (12, 13) else "check_digit")
    if spec.kind == "amount":
        reasons += _amount_reasons(spec, value)
    elif spec.kind == "digits":
        reasons += _digits_reasons(spec, value)
    elif spec.kind == "date_wareki":
        reasons += _date_reasons(spec, value, today or date.today())
    elif spec.kind in ("era", "choice"):
        if spec.options and value not in spec.options:
            reasons.append("out_of_range")
    if spec.content == "bank_account":
        reasons += _bank_account_reasons(str(value))
    return reasons


# A bank's or a shinkin's account number (普通・当座・貯蓄) has 7 digits (全銀協 format); ゆうちょ's 記号・番号 are written
# otherwise and are not checked. A handwritten last digit at the frame was dropped at 0.99 (普通 998948 for 9989481).
_BANK_ACCOUNT_NUMBER = re.compile(r"(?:普通|当座|貯蓄)(?:預金)?\s*(\d+)\s*$")
BANK_ACCOUNT_DIGITS = 7


def _bank_account_reasons(value: str) -> list[str]:
    if "ゆうちょ" in value or "郵便" in value:
        return []
    number = _BANK_ACCOUNT_NUMBER.search(value)
    if number is None or len(number.group(1)) != BANK_ACCOUNT_DIGITS:
        return ["account_number_length"]
    return []


def _unknown_validators(spec: FieldSpec) -> list[str]:
    unknown = []
    for name in spec.validators:
        base = name.split(":", 1)[0]
        if name in _CHECK_DIGITS or name in _FLAG_VALIDATORS:
            continue
        parameters = _parameters(spec, base) if base in _PARAMETER_COUNTS else None
        if parameters is not None and len(parameters) == _PARAMETER_COUNTS[base]:
            continue
        unknown.append(f"unknown_validator:{name}")
    return unknown


def _parameters(spec: FieldSpec, base: str) -> list[int] | None:
    """The integers after `base:` in the field's validators, or None when absent or malformed."""
    for name in spec.validators:
        head, _, rest = name.partition(":")
        if head == base:
            try:
                return [int(part.replace("_", "")) for part in rest.split(":")]
            except ValueError:
                return None
    return None


def as_integer(value: object) -> int | None:
    """An int from a normalised amount or digits value ("-12000", 12000), or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        body = value[1:] if value.startswith("-") else value
        if body.isascii() and body.isdigit():
            return int(value)
    return None


def _amount_reasons(spec: FieldSpec, value: object) -> list[str]:
    amount = as_integer(value)
    if amount is None:
        return ["not_digits"]
    reasons = []
    ceiling = (_parameters(spec, "max_amount") or [DEFAULT_MAX_AMOUNT])[0]
    if (amount < 0 and "allow_negative" not in spec.validators) or abs(amount) > ceiling:
        reasons.append("implausible_amount")
    reasons += _range_reasons(spec, amount)
    return reasons


def _digits_reasons(spec: FieldSpec, value: object) -> list[str]:
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        return ["not_digits"]
    return _range_reasons(spec, int(value))


def _range_reasons(spec: FieldSpec, number: int) -> list[str]:
    bounds = _parameters(spec, "range")
    if bounds and len(bounds) == 2 and not bounds[0] <= number <= bounds[1]:
        return ["out_of_range"]
    return []


def _date_reasons(spec: FieldSpec, value: object, today: date) -> list[str]:
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            return ["bad_date"]
    is_birth_date = "birth_date" in spec.validators or "生年月日" in spec.label
    latest = today if is_birth_date else today + timedelta(days=LATEST_DAYS_AHEAD)
    if day < EARLIEST_DATE or day > latest:
        return ["date_out_of_range"]
    return []


def rule_number(value: object) -> int | None:
    """What a rule computes with: an amount or digits as int, an ISO date as YYYYMMDD (so `month_of` and date order
    work), anything else None."""
    number = as_integer(value)
    if number is not None:
        return number
    if isinstance(value, date):
        return value.year * 10000 + value.month * 100 + value.day
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return int(value.replace("-", ""))
    return None


def _blank(value: object) -> bool:
    return value is None or value == "" or value is False


def rule_applies(rule, values: dict[str, object]) -> bool:
    """Whether the rule's `when` holds: each named choice field holds one of its options."""
    return all(values.get(name) in options for name, options in rule.when.items())


def validate_cross_fields(template: Template, values: dict[str, object]) -> dict[str, list[str]]:
    """`cross_field:<rule>` for every field of each rule that fails.

    A rule whose fields are missing or not numbers is skipped: the missing field has its own reason already, and a
    field left blank on purpose (給与所得控除後 without 年末調整) makes its rules not apply.
    Except the fields a rule lists in `blank_as_zero`: there a blank is 0 (a table line with nothing to deduct).
    A rule with `when` applies only under its options; its `requires` fields must then be filled (the reason goes on
    them and on the condition's fields) and its `forbids` fields blank (the reason goes on those filled).
    """
    reasons: dict[str, list[str]] = {}

    def flag(names, reason: str) -> None:
        for name in names:
            if name in values:
                field_reasons = reasons.setdefault(name, [])
                if reason not in field_reasons:
                    field_reasons.append(reason)

    numbers = {name: rule_number(value) for name, value in values.items()}
    for rule in template.cross_field_rules:
        if not rule_applies(rule, values):
            continue
        reason = f"cross_field:{rule.name}"
        missing = [name for name in rule.requires if _blank(values.get(name))]
        if missing:
            flag(list(rule.when) + missing, reason)
        present = [name for name in rule.forbids if not _blank(values.get(name))]
        if present:
            flag(list(rule.when) + present, reason)
        parsed = rule.parsed()
        if parsed is None:
            continue
        zeros = {name: 0 for name in rule.blank_as_zero if values.get(name) in (None, "")}
        if holds(parsed, {**numbers, **zeros}, template.parameters) is not False:
            continue
        flag(list(rule.when) + parsed.names(), reason)
    for name_field, kana_field in template.name_kana_pairs:
        for field_name, reason in name_kana_reasons(values.get(name_field), values.get(kana_field), name_field,
                                                    kana_field):
            field_reasons = reasons.setdefault(field_name, [])
            if reason not in field_reasons:
                field_reasons.append(reason)
    return reasons


def name_kana_reasons(name: object, kana: object, name_field: str, kana_field: str) -> list[tuple[str, str]]:
    """(field, reason) for a person's 氏名 and フリガナ that do not fit each other.

    - `kana_separator_missing` on the kana when it has no space or more than one: a person's kana has exactly one,
      between family and given name, and the recogniser only guesses it from a gap.
    - `name_kana_mismatch` on both when the family name's kana is none of the dictionary readings of the name's
      beginning (pykakasi; ocr/evidence.py). A given name that disagrees flags nothing by itself: given names often
      have readings no dictionary holds.
    - `kana_lookalike_of_reading` on the kana when one look-alike character (プ for ブ) would make it agree.
    - `name_cut_short` on the name when its given name reads as only the beginning of the given kana (明, アケミ).
    """
    if not isinstance(kana, str) or not kana.strip():
        return []
    found: list[tuple[str, str]] = []
    if kana.strip().count(" ") != 1:
        found.append((kana_field, "kana_separator_missing"))
    evidence = name_kana_evidence(name, kana) if isinstance(name, str) and name.strip() else None
    if evidence is not None and evidence.mismatch:
        found += [(name_field, "name_kana_mismatch"), (kana_field, "name_kana_mismatch")]
    if evidence is not None and evidence.given_cut:
        found.append((kana_field, "kana_cut_short"))
    if evidence is not None and evidence.name_cut:
        found.append((name_field, "name_cut_short"))
    if evidence is not None and not evidence.agrees and not evidence.mismatch and not evidence.given_cut \
            and confusable_readings(name, kana):
        # One look-alike away from what the name reads as (マナプ for 学, マナブ): a misread, not a rare reading.
        found.append((kana_field, "kana_lookalike_of_reading"))
    return found


def confirmed_by_arithmetic(template: Template, values: dict[str, object]) -> set[str]:
    """Fields whose value an equality rule that holds vouches for.

    A field stands alone as a term of a sum (`nofu = sashihiki - kino`, `after = kyuyo_shotoku(pay) - chosei`) in a
    rule that holds: a misread of it would have to land exactly on what the other fields make it, which one wrong
    digit never does. A field inside a function (`floor_to`, a tax table) is not vouched for, because a function can
    map several values to one. Nor is a value that merely repeats another operand's (`a = b - 0` with `a == b`): the
    same digits printed twice can be misread the same way twice.
    """
    confirmed: set[str] = set()
    numbers = {name: as_integer(value) for name, value in values.items()}
    for rule in template.cross_field_rules:
        parsed = rule.parsed()
        if parsed is None or parsed.relation != "=" or not parsed.target_alone or not rule_applies(rule, values):
            continue
        zeros = {name: 0 for name in rule.blank_as_zero if values.get(name) in (None, "")}
        if holds(parsed, {**numbers, **zeros}, template.parameters) is not True:
            continue
        occurrences = parsed.occurrences()
        linear = [parsed.target] + [term.name for _, term in parsed.expression.terms if isinstance(term, Name)]
        operand_values = {name: numbers.get(name) for name in occurrences if name in numbers}
        for name in linear:
            value = numbers.get(name)
            if name not in values or value is None or name in zeros or occurrences[name] != 1:
                continue
            others = [v for other, v in operand_values.items() if other != name and v is not None]
            if any(other == value for other in others) or not any(others):
                continue
            confirmed.add(name)
    return confirmed
