"""Check digits of the 個人番号 (My Number, 12 digits) and the 法人番号 (corporate number, 13 digits).

Formulas from 番号法施行令8条 / 総務省令第85号 5条 and 法人番号の指定等に関する省令 2条; worked examples in
forms.md §4. Digits are counted from the right, as the law counts them.
"""
from __future__ import annotations

MY_NUMBER_LENGTH = 12
CORPORATE_NUMBER_LENGTH = 13


def _digits_from_right(base: str) -> list[int]:
    return [int(ch) for ch in reversed(base)]


def _require_ascii_digits(value: str, length: int, what: str) -> None:
    if len(value) != length or not (value.isascii() and value.isdigit()):
        raise ValueError(f"{what} must be {length} ASCII digits, got {value!r}")


def my_number_check_digit(base11: str) -> int:
    """The 12th (last) digit of a 個人番号 whose first 11 digits are `base11`.

    P_n is the n-th digit from the right; the weight Q_n is n+1 for n = 1..6 and n-5 for n = 7..11.
    """
    _require_ascii_digits(base11, MY_NUMBER_LENGTH - 1, "a 個人番号 base")
    total = 0
    for n, digit in enumerate(_digits_from_right(base11), start=1):
        weight = n + 1 if n <= 6 else n - 5
        total += digit * weight
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_my_number(s: str) -> bool:
    if len(s) != MY_NUMBER_LENGTH or not (s.isascii() and s.isdigit()):
        return False
    return my_number_check_digit(s[:-1]) == int(s[-1])


def corporate_number_check_digit(base12: str) -> int:
    """The 1st (leading) digit of a 法人番号 whose 基礎番号 is `base12`.

    P_n is the n-th digit from the right; the weight is 1 for odd n and 2 for even n. The result is always 1..9,
    so a 0/9 confusion in the base cannot be detected.
    """
    _require_ascii_digits(base12, CORPORATE_NUMBER_LENGTH - 1, "a 法人番号 base")
    total = 0
    for n, digit in enumerate(_digits_from_right(base12), start=1):
        weight = 1 if n % 2 == 1 else 2
        total += digit * weight
    return 9 - total % 9


def is_valid_corporate_number(s: str) -> bool:
    if len(s) != CORPORATE_NUMBER_LENGTH or not (s.isascii() and s.isdigit()):
        return False
    return corporate_number_check_digit(s[1:]) == int(s[0])


def mask_my_number(s: str) -> str:
    """`********9018`: a 個人番号 for logs and screens, only the last 4 characters kept.

    Anything shorter than 5 characters is masked whole, so a fragment never shows most of a number.
    """
    keep = 4
    if len(s) <= keep:
        return "*" * len(s)
    return "*" * (len(s) - keep) + s[-keep:]
