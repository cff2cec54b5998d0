"""Evidence for audits and disputes: a screenshot and the HTML of every frame, named after the form's ref only."""
from __future__ import annotations

import logging
import re
from pathlib import Path

from playwright.sync_api import Locator, Page

from robots.masking import scrub

log = logging.getLogger("taxintake.robots")


def evidence_stem(form_ref: str, label: str) -> str:
    """A file name from the ledger's form ref and a fixed label: never from a value on the form."""
    safe_ref = re.sub(r"[^A-Za-z0-9_.-]", "_", form_ref)[:80] or "form"
    return f"{safe_ref}_{label}"


SECRET_MARK = "data-taxintake-secret"
# Marks, in one frame, every input holding a secret (or a piece of one: a number typed into boxes of four) and
# every element whose own text holds a secret or a 12-digit run (what robots.masking.scrub masks in text).
_MARK_SECRETS = r"""([secrets, mark]) => {
  const plain = (text) => (text || "").replace(/[\uFF10-\uFF19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0))
                                       .replace(/[\s\-\u2010-\u2015\u30FC]/g, "");
  const wanted = secrets.map(plain).filter((s) => s.length >= 4);
  const holds = (text) => { const t = plain(text); return /\d{12}/.test(t) || wanted.some((s) => t.includes(s)); };
  let marked = 0;
  for (const field of document.querySelectorAll("input, textarea, select")) {
    const value = plain(field.value);
    if (value.length >= 4 && (holds(value) || wanted.some((s) => s.includes(value)))) {
      field.setAttribute(mark, ""); marked++;
    }
  }
  const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement && holds(node.textContent)) { node.parentElement.setAttribute(mark, ""); marked++; }
  }
  return marked;
}"""


def secret_masks(page: Page, secrets: list[str]) -> list[Locator]:
    """Locators over everything on the screen, in every frame, that shows a secret: a screenshot paints them over."""
    masks: list[Locator] = []
    for frame in page.frames:
        try:
            if frame.evaluate(_MARK_SECRETS, [list(secrets), SECRET_MARK]):
                masks.append(frame.locator(f"[{SECRET_MARK}]"))
        except Exception as error:  # noqa: BLE001 - a frame gone or cross-origin: logged, the others are masked
            log.warning("secrets in frame %r not marked: %s", frame.name, type(error).__name__)
    return masks


def save_evidence(page: Page | None, evidence_dir: Path | None, form_ref: str, label: str, *,
                  with_html: bool, secrets: list[str]) -> list[Path]:
    """Write what the screen shows now; never raises, since evidence must not turn one failure into two.

    The screenshot is the record of what the screen showed, as the audit of 特定個人情報 handling asks, with every
    input and text that shows a secret (個人番号) painted over; the HTML is for working out what went wrong and has
    every secret masked. Keep `evidence_dir` access-controlled all the same.
    """
    if page is None or evidence_dir is None or page.is_closed():
        return []
    written: list[Path] = []
    stem = evidence_stem(form_ref, label)
    try:
        evidence_dir.mkdir(parents=True, exist_ok=True)
        shot = evidence_dir / f"{stem}.png"
        page.screenshot(path=str(shot), full_page=True, timeout=10_000, mask=secret_masks(page, secrets),
                        mask_color="#000000")
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
