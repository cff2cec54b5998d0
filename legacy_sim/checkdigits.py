"""Check digits the legacy system verifies on entry (番号法施行令8条; 法人番号省令2条)."""
from __future__ import annotations


def my_number_ok(number: str) -> bool:
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        return False
    base = [int(c) for c in number[:11]]
    weighted = sum(digit * (n + 1 if n <= 6 else n - 5) for n, digit in enumerate(reversed(base), start=1))
    remainder = weighted % 11
    return int(number[11]) == (0 if remainder <= 1 else 11 - remainder)


def corporate_number_ok(number: str) -> bool:
    if len(number) != 13 or not number.isascii() or not number.isdigit():
        return False
    base = [int(c) for c in number[1:]]
    weighted = sum(digit * (1 if n % 2 else 2) for n, digit in enumerate(reversed(base), start=1))
    return int(number[0]) == 9 - weighted % 9
