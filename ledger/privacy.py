"""Keep 個人番号 out of free text the ledger stores (reasons shown in reports and audit logs)."""
from __future__ import annotations

import re

# Twelve digits not part of a longer digit run (a 13-digit 法人番号 is public), optionally grouped 4-4-4 with a
# space or hyphen as people write them; \d also matches full-width digits.
_TWELVE_DIGITS = re.compile(r"(?<!\d)\d{4}[ \-‐－　]?\d{4}[ \-‐－　]?\d{4}(?!\d)")


def _mask_one(number: str) -> str:
    try:
        from ocr.checkdigits import mask_my_number  # the project's one way of showing a masked 個人番号
    except ImportError:
        return "*" * (len(number) - 4) + number[-4:]
    return mask_my_number(number)


def mask_personal_numbers(text: str | None) -> str | None:
    """`text` with every 12-digit run masked (valid check digit or not), only its last 4 digits left."""
    if text is None:
        return None
    return _TWELVE_DIGITS.sub(lambda match: _mask_one(match.group()), text)
