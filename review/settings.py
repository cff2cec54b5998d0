"""Where the review page finds the ledger, the archived scans and its image cache, and how it behaves."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from review.throttle import ThrottlePolicy

BLIND_KINDS_ENV = "TAXINTAKE_REVIEW_BLIND_KINDS"
BLINDABLE_KINDS = ("my_number", "amount", "corporate_number", "digits")


@dataclass(frozen=True)
class ReviewSettings:
    ledger_url: str
    archive_root: Path  # archived scans; the ledger holds paths relative to it
    cache_dir: Path  # registered page images, named by the scan's sha256 (never by a name or number)
    blind_kinds: frozenset[str] = field(default_factory=frozenset)  # kinds entered blind (ベリファイ)
    secure_cookies: bool = True
    session_lifetime: timedelta = timedelta(hours=10)
    queue_page_size: int = 50
    group_page_size: int = 60
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)  # sign-in delays and locks
    prerender: bool = True  # a background worker renders waiting forms' images ahead (review/prerender.py)


def parse_blind_kinds(text: str | None) -> frozenset[str]:
    kinds = frozenset(part.strip() for part in (text or "").split(",") if part.strip())
    unknown = kinds - set(BLINDABLE_KINDS)
    if unknown:
        raise ValueError(f"ベリファイできる種類は {', '.join(BLINDABLE_KINDS)} です / blind kinds must be among "
                         f"{BLINDABLE_KINDS}, not {sorted(unknown)}")
    return kinds


def settings_from_environment(blind_kinds: str | None = None, secure_cookies: bool = True) -> ReviewSettings:
    from taxintake.config import load_settings

    base = load_settings()
    return ReviewSettings(ledger_url=base.ledger_url, archive_root=base.archive,
                          cache_dir=base.home / "review_cache",
                          blind_kinds=parse_blind_kinds(blind_kinds if blind_kinds is not None
                                                        else os.environ.get(BLIND_KINDS_ENV)),
                          secure_cookies=secure_cookies)
