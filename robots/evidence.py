"""Evidence for audits and disputes: a screenshot and the HTML of every frame, named after the form's ref only."""
from __future__ import annotations

import logging
import re
from pathlib import Path

from playwright.sync_api import Page

from robots.masking import scrub

log = logging.getLogger("taxintake.robots")


def evidence_stem(form_ref: str, label: str) -> str:
    """A file name from the ledger's form ref and a fixed label: never from a value on the form."""
    safe_ref = re.sub(r"[^A-Za-z0-9_.-]", "_", form_ref)[:80] or "form"
    return f"{safe_ref}_{label}"


def save_evidence(page: Page | None, evidence_dir: Path | None, form_ref: str, label: str, *,
                  with_html: bool, secrets: list[str]) -> list[Path]:
    """Write what the screen shows now; never raises, since evidence must not turn one failure into two.

    The HTML is for working out what went wrong and has every secret masked; the screenshot is the record of
    what the screen showed, as the audit of 特定個人情報 handling asks, so keep `evidence_dir` access-controlled.
    """
    if page is None or evidence_dir is None or page.is_closed():
        return []
    written: list[Path] = []
    stem = evidence_stem(form_ref, label)
    try:
        evidence_dir.mkdir(parents=True, exist_ok=True)
        shot = evidence_dir / f"{stem}.png"
        page.screenshot(path=str(shot), full_page=True, timeout=10_000)
        written.append(shot)
        if with_html:
            for index, frame in enumerate(page.frames):
                name = re.sub(r"[^A-Za-z0-9_-]", "_", frame.name) or ("top" if index == 0 else f"frame{index}")
                html = evidence_dir / f"{stem}_{name}.html"
                html.write_text(scrub(frame.content(), secrets), encoding="utf-8")
                written.append(html)
    except Exception as error:  # noqa: BLE001 - see docstring
        log.warning("evidence %s not saved: %s", stem, type(error).__name__)
    return written
