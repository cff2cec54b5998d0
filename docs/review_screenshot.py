"""Make `docs/review_form.png`: the review page's form view over a committed scan as the reader flagged it.

    .venv/bin/python docs/review_screenshot.py

A fresh ledger in a temporary folder; the scan is read by the real reader and recorded as it is (no flag added or
removed); a supervisor signs in and the first flagged field has the focus.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]
OUTPUT = REPO / "docs" / "review_form.png"
SCAN = "scan_0010.jpg"


def main() -> int:
    from playwright.sync_api import sync_playwright

    from review.settings import ReviewSettings
    from review_scenario import PASSWORD, add_users, make_ledger, read_scan, record_form
    from robots.browser import launch_chromium
    from test_review_browser import serve

    with tempfile.TemporaryDirectory(prefix="review-shot-") as folder:
        root = Path(folder)
        url = f"sqlite:///{root / 'ledger.sqlite3'}"
        engine = make_ledger(url)
        add_users(engine, {"sato": "supervisor"})
        scan = read_scan(SCAN)
        flagged = [name for name, reading in scan.result.fields.items() if reading.status == "review"]
        form_pk = record_form(engine, root / "archive", scan, scan.result, label="2025-06 受付分")
        print(f"{SCAN}: {len(flagged)} fields flagged by the reader: {', '.join(flagged)}")
        settings = ReviewSettings(ledger_url=url, archive_root=root / "archive", cache_dir=root / "cache")
        with serve(settings) as base, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            page.goto(f"{base}/forms/{form_pk}")
            page.fill("#name", "sato")
            page.fill("#password", PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_url(f"{base}/forms/{form_pk}")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(OUTPUT))
            browser.close()
    from PIL import Image

    with Image.open(OUTPUT) as shot:  # 256 colours: a third of the bytes in the repository, no visible loss
        shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(OUTPUT, optimize=True)
    print(f"wrote {OUTPUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
