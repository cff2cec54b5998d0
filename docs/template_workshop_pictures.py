"""Make the README's pictures of the template workshop from the drawn 寄附金 blank of the tests:
`docs/template_check.png` (`taxintake template check`'s overlay) and `docs/template_editor.png` (the editor in
Chromium).

    .venv/bin/python docs/template_workshop_pictures.py
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]


def _small(path: Path, width: int | None = None) -> None:
    from PIL import Image

    with Image.open(path) as shot:
        image = shot.convert("RGB")
        if width and image.width > width:
            image = image.resize((width, round(image.height * width / image.width)))
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main() -> int:
    import yaml
    from playwright.sync_api import sync_playwright

    from ocr.templates import TEMPLATES_PATH_ENV, clear_template_cache
    from review.settings import ReviewSettings
    from review_scenario import PASSWORD, add_users, make_ledger
    from robots.browser import launch_chromium
    from taxintake.cli import main as taxintake
    from test_review_browser import serve
    from workshop_forms import draw_kifukin_blank

    with tempfile.TemporaryDirectory(prefix="workshop-shot-") as folder:
        root = Path(folder)
        blank = root / "kifukin_blank.png"
        draw_kifukin_blank()[0].save(blank, dpi=(200, 200))
        os.environ[TEMPLATES_PATH_ENV] = str(root / "templates")
        taxintake(["template", "new", "kifukin", "--blank", str(blank)])
        clear_template_cache()
        # the picture shows what a check finds: the 住所 box moved 5 mm off its frame (red)
        yaml_path = root / "templates" / "kifukin" / "template.yaml"
        drafted = yaml_path.read_text(encoding="utf-8")
        raw = yaml.safe_load(drafted)
        next(f for f in raw["fields"] if f["label"] == "住所")["box"][0] += 5.0
        yaml_path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
        taxintake(["template", "check", "kifukin", "--out", str(REPO / "docs" / "template_check.png")])
        yaml_path.write_text(drafted, encoding="utf-8")
        clear_template_cache()
        _small(REPO / "docs" / "template_check.png", 900)
        url = f"sqlite:///{root / 'ledger.sqlite3'}"
        engine = make_ledger(url)
        add_users(engine, {"yamamoto": "admin"})
        settings = ReviewSettings(ledger_url=url, archive_root=root / "archive", cache_dir=root / "cache")
        with serve(settings) as base, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            page.goto(f"{base}/admin/templates/kifukin/edit")
            page.fill("#name", "yamamoto")
            page.fill("#password", PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_selector("body[data-ready='1']")
            page.click("rect.box[data-name='kifu_kingaku']")
            page.click("#add-rule")
            page.fill(".rule-expression", "koujogaku <=")
            page.wait_for_function("() => document.querySelector('.rule-error').textContent.includes('式の誤り')")
            page.screenshot(path=str(REPO / "docs" / "template_editor.png"))
            browser.close()
        _small(REPO / "docs" / "template_editor.png")
        shutil.rmtree(root, ignore_errors=True)
    print("wrote docs/template_check.png, docs/template_editor.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
