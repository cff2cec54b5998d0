"""The template editor in real chromium over a real uvicorn and ledger: a draft from `template new` on a blank none
of our templates came from is edited (select, rename, drag, draw, delete, rules, a refused save), saved with an
audit row, tried on a filled scan, and then filled scans of it are read into the ledger by a real intake run."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from ledger.models import AuditEntry, Form
from ocr.templates import TEMPLATES_PATH_ENV, clear_template_cache, load_template
from review.settings import ReviewSettings
from review_scenario import PASSWORD, add_users, make_ledger
from taxintake.cli import main as taxintake
from test_review_browser import browser, serve, sign_in, Site  # noqa: F401 - the module's browser fixture
from tests.workshop_forms import draw_kifukin_blank, filled_scan

pytestmark = pytest.mark.browser


def test_an_admin_edits_a_drafted_template_and_its_filled_scans_are_read_into_the_ledger(
        tmp_path, browser, monkeypatch, prefect_server, ledger_url):  # noqa: F811
    root = tmp_path / "city_templates"
    blank_path = tmp_path / "kifukin_blank.png"
    draw_kifukin_blank()[0].save(blank_path, dpi=(200, 200))
    monkeypatch.setenv(TEMPLATES_PATH_ENV, str(root))
    assert taxintake(["template", "new", "kifukin", "--blank", str(blank_path)]) == 0
    clear_template_cache()
    drafted = load_template("kifukin")
    assert drafted.folder == root / "kifukin"

    url = f"sqlite:///{tmp_path / 'review.sqlite3'}"
    engine = make_ledger(url)
    add_users(engine, {"yamamoto": "admin", "sato": "supervisor"})
    settings = ReviewSettings(ledger_url=url, archive_root=tmp_path / "archive", cache_dir=tmp_path / "cache")
    with serve(settings) as base:
        site = Site(base, engine, tmp_path / "archive")
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        sign_in(page, site, "sato", start="/admin/templates")
        assert "管理者のみ" in page.content(), "a supervisor may not edit templates"
        page.context.clear_cookies()
        sign_in(page, site, "yamamoto", start="/admin/templates")
        assert "kifukin" in page.content()
        page.click("text=編集 / edit")
        page.wait_for_selector("body[data-ready='1']")
        assert page.locator("rect.box").count() == len(drafted.fields)

        # click a box: its settings; rename it and make it required
        page.click("rect.box[data-name='shimei']")
        assert page.input_value("#f-label") == "氏名" and page.input_value("#f-kind") == "text"
        page.fill("#f-name", "kifusha_shimei")
        page.check("#f-required")
        # drag a box, then put it back by its numbers; resize by the handle
        bikou = page.locator("rect.box[data-name='bikou']")
        bikou.scroll_into_view_if_needed()
        box = bikou.bounding_box()
        page.mouse.move(box["x"] + 20, box["y"] + 10)
        page.mouse.down()
        page.mouse.move(box["x"] + 60, box["y"] + 10, steps=4)
        page.mouse.up()
        assert page.input_value("#f-name") == "bikou", "the box pressed on is the one selected and dragged"
        moved_x = float(page.input_value("#f-x"))
        assert moved_x > 34.2 + 3, moved_x
        page.fill("#f-x", "34.2")
        handle = page.locator("rect.handle").bounding_box()
        page.mouse.move(handle["x"] + 2, handle["y"] + 2)
        page.mouse.down()
        page.mouse.move(handle["x"] + 2, handle["y"] + 30, steps=3)
        page.mouse.up()
        assert float(page.input_value("#f-h")) > 13
        page.fill("#f-h", "11.9")
        # draw a new box, then delete it
        page.click("#draw-new")
        page.locator("rect.box[data-name='uketsukebangou']").scroll_into_view_if_needed()
        stage = page.locator("#boxes").bounding_box()
        at = lambda x_mm, y_mm: (stage["x"] + stage["width"] * x_mm / 182, stage["y"] + stage["height"] * y_mm / 257)
        page.mouse.move(*at(110, 120))  # beside the 受付番号 row: inside the frame, in no box
        page.mouse.down()
        page.mouse.move(*at(140, 126), steps=3)
        page.mouse.up()
        assert page.locator("rect.box").count() == len(drafted.fields) + 1
        assert page.input_value("#f-label") == "新しい項目"
        page.click("#delete-field")
        assert page.locator("rect.box").count() == len(drafted.fields)
        # the 寄附年月日 box: the printed era; the amount must not be below the deduction (a rule, checked as typed)
        page.click("rect.box[data-name='kifu_nengappi']")
        assert page.input_value("#f-kind") == "date_wareki"
        page.fill("#f-preprinted-text", "令和　　年　　月　　日")
        page.click("#add-rule")
        page.fill(".rule-name", "kifu_ge_kojo")
        page.fill(".rule-expression", "koujogaku <=")
        page.wait_for_function("() => document.querySelector('.rule-error').textContent.includes('式の誤り')")
        page.fill(".rule-expression", "koujogaku <= kifu_kingaku")
        page.wait_for_function("() => document.querySelector('.rule-error').textContent === ''")
        page.fill(".rule-message", "控除額が寄附金額を超えています")
        # an invalid template is refused with the field named
        page.click("rect.box[data-name='kojin_bangou']")
        page.fill("#f-cells", "11")
        page.click("#save")
        page.wait_for_selector("body[data-saved='refused']")
        assert "kojin_bangou" in page.inner_text("#problems") and "12" in page.inner_text("#problems")
        page.fill("#f-cells", "12")
        page.click("#save")
        page.wait_for_selector("body[data-saved='ok']")

        clear_template_cache()
        edited = load_template("kifukin")
        assert edited.field("kifusha_shimei").required and edited.field("bikou").box[0] == 34.2
        assert [r.expression for r in edited.cross_field_rules] == ["koujogaku <= kifu_kingaku"]
        assert not edited.field("kifusha_shimei").guessed and edited.field("juusho").guessed
        with site.session() as session:
            audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "template.save")).one()
            assert audit.actor == "yamamoto" and audit.subject == "template:kifukin:令和7年分"

        # the same trial as `template try`, on an uploaded filled scan
        written = {"kifusha_shimei": "佐藤 一郎", "juusho": "千葉市美浜区中瀬1丁目3番", "kifu_kingaku": "50000",
                   "koujogaku": "48000", "uketsukebangou": "310552", "kifu_nengappi": ["7", "10", "15"]}
        scans = tmp_path / "inbox"
        scans.mkdir()
        for number in range(2):
            filled_scan(edited, written, seed=2100 + number).save(scans / f"kifu_{number}.png", dpi=(200, 200))
        page.set_input_files("#trial-file", str(scans / "kifu_0.png"))
        page.click("#trial-form button")
        page.wait_for_selector("#trial tr[data-name='kifu_kingaku']", timeout=120_000)
        assert "50000" in page.inner_text("#trial tr[data-name='kifu_kingaku']")
        page.close()
    r9_blank, _ = draw_kifukin_blank("令和9年分")  # a version nobody installed
    r9_blank.save(scans / "kifu_r9.png", dpi=(200, 200))

    # filled scans of the edited template are read end to end into the ledger: no code changed
    from flows.intake import intake

    outcome = intake(inbox=str(scans), archive_root=str(tmp_path / "intake_archive"), ledger_url=ledger_url,
                     label="kifukin", remove_from_inbox=False)
    assert outcome.pages_recorded == 3
    from ledger.db import make_engine, session_scope
    from ledger.states import FormState

    with session_scope(make_engine(ledger_url), write=False) as session:
        forms = list(session.scalars(select(Form).order_by(Form.id)))
        [set_aside] = [f for f in forms if f.form_id is None]
        assert set_aside.state == FormState.QUARANTINED
        assert json.loads(set_aside.read_json)["error"].startswith("この様式の版（令和9年分）は登録されていません")
        forms = [f for f in forms if f.form_id is not None]
        assert {(f.form_id, f.template_version) for f in forms} == {("kifukin", "令和7年分")}
        for form in forms:
            read = json.loads(form.read_json)["fields"]
            assert read["kifu_kingaku"]["value"] == "50000" and read["uketsukebangou"]["value"] == "310552"
            assert read["kifusha_shimei"]["value"].replace(" ", "").replace("\u3000", "") == "佐藤一郎"
        form_pk = forms[0].id

    # the review page shows the form with its own template and version
    add_users(make_engine(ledger_url), {"kimura": "supervisor"})
    settings = ReviewSettings(ledger_url=ledger_url, archive_root=tmp_path / "intake_archive",
                              cache_dir=tmp_path / "cache2")
    with serve(settings) as base:
        page = browser.new_page()
        sign_in(page, Site(base, None, tmp_path / "intake_archive"), "kimura", start=f"/forms/{form_pk}")
        heading = page.inner_text("h1")
        assert "寄附金税額控除申告書" in heading and "令和7年分" in heading, heading
        page.close()
    clear_template_cache()
