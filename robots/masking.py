"""What may appear in logs and reasons: masked values, and text scrubbed of secrets."""
from __future__ import annotations

import re

# Twelve digits, grouped 4-4-4 or not, as a screen or a clerk writes a 個人番号 (the rule of ocr.masking, kept here
# so that robots stay apart from the reader); \d matches full-width digits too.
_SEPARATOR = r"[ \t\-‐－—_＿.．・,，　]{0,2}"
_TWELVE_DIGITS = re.compile(rf"(?<!\d)\d{{4}}{_SEPARATOR}\d{{4}}{_SEPARATOR}\d{{4}}(?!\d)")


def mask(value: object) -> str:
    """`********9018`: only the last four characters of a value, so a log line can be matched to a form."""
    text = "" if value is None else str(value)
    if len(text) <= 4:
        return "*" * len(text)
    return "*" * (len(text) - 4) + text[-4:]


def scrub(text: str, secrets: list[str]) -> str:
    """`text` (an exception message, a screen's message) with every secret and every 12-digit run masked."""
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, mask(secret))
    return _TWELVE_DIGITS.sub(lambda match: mask("".join(ch for ch in match.group(0) if ch.isdigit())), text)
