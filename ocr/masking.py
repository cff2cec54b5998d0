"""Find a 個人番号 however a person wrote it, so that it can be masked: in free text and in file names.

Twelve digits not part of a longer digit run (a 13-digit 法人番号 is public), optionally grouped 4-4-4 with a space,
hyphen, dot, underscore or middle dot between the groups (half- or full-width), as clerks name files
(`9876.5432.1093`, `9876_5432_1093`, `９８７６ ５４３２ １０９３`); \\d matches full-width digits too.
"""
from __future__ import annotations

import re

_SEPARATOR = r"[ \t\-‐－—_＿.．・,，　]{0,2}"
TWELVE_DIGITS = re.compile(rf"(?<!\d)\d{{4}}{_SEPARATOR}\d{{4}}{_SEPARATOR}\d{{4}}(?!\d)")


def mask_number(number: str) -> str:
    """`********9018` (the project's one way of showing a masked 個人番号), separators dropped."""
    from ocr.checkdigits import mask_my_number

    return mask_my_number("".join(ch for ch in number if ch.isdigit()))


def mask_personal_numbers(text: str | None) -> str | None:
    """`text` with every 12-digit run masked (valid check digit or not), only its last 4 digits left."""
    if text is None:
        return None
    return TWELVE_DIGITS.sub(lambda match: mask_number(match.group()), text)
