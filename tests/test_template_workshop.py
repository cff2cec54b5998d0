"""The template workshop on a blank none of our templates came from: `template new` proposes its fields, `template
check` finds a box off its frame, and two installed versions of one form each read their own pages."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from ocr.load import iter_pages
from ocr.templates import TEMPLATES_PATH_ENV, clear_template_cache, load_template, load_template_file
from taxintake.cli import main as taxintake
from tests.workshop_forms import draw_kifukin_blank, filled_scan


def _blank_pdf(folder: Path, title_year: str = "令和7年分") -> Path:
    image, _ = draw_kifukin_blank(title_year)
    path = folder / f"kifukin_blank_{title_year}.pdf"
    image.save(path, resolution=200)
    return path


def _new(form_id: str, blank: Path, out: Path) -> dict:
    assert taxintake(["template", "new", form_id, "--blank", str(blank), "--out", str(out)]) == 0
    return yaml.safe_load((out / "template.yaml").read_text(encoding="utf-8"))


def _skewed_scan(folder: Path) -> Path:
    from PIL import Image

    image, _ = draw_kifukin_blank()
    path = folder / "kifukin_blank_scan.png"
    image.rotate(1.2, resample=Image.BILINEAR, fillcolor=255).save(path, dpi=(200, 200))
    return path


@pytest.mark.parametrize("blank", ["pdf", "skewed_scan"])
def test_template_new_proposes_the_drawn_fields_with_their_boxes_cells_labels_and_kinds(tmp_path, blank):
    _, truth = draw_kifukin_blank()
    source = _blank_pdf(tmp_path) if blank == "pdf" else _skewed_scan(tmp_path)
    draft = _new("kifukin", source, tmp_path / "kifukin")
    proposed = draft["fields"]

    def found(drawn):
        return next((f for f in proposed if f.get("cells") == drawn.cells
                     and all(abs(a - b) <= 1.0 for a, b in zip(f["box"], drawn.box))), None)

    matches = {drawn.label: found(drawn) for drawn in truth}
    assert sum(1 for m in matches.values() if m) >= 0.9 * len(truth), [d.label for d in truth if not matches[d.label]]
    assert len(proposed) <= len(truth) + 1, "no more than one box proposed that is not a field"
    labelled = {label: m["label"] for label, m in matches.items() if m}
    assert sum(1 for label, read in labelled.items() if read == label) >= 0.8 * len(truth), labelled
    kinds = {label: m["kind"] for label, m in matches.items() if m}
    assert kinds["個人番号"] == "my_number" and kinds["寄附金額"] == "amount" and kinds["フリガナ"] == "kana"
    assert kinds["寄附年月日"] == "date_wareki" and kinds["郵便番号"] == "postal_code"
    assert kinds["寄附者の区分"] == "choice" and matches["寄附者の区分"]["options"] == ["個人", "法人", "団体"]
    assert all("kind" in f["guessed"] for f in proposed), "every kind is marked as a guess"
    assert matches["個人番号"]["name"] == "kojin_bangou"
    assert draft["version"] == "令和7年分" and draft["version_marks"] == ["令和7年分"]
    template = load_template_file(tmp_path / "kifukin" / "template.yaml")  # the draft is a valid template
    assert template.page.width_mm == pytest.approx(182.0, abs=0.3) and template.blank_path().is_file()
    assert (tmp_path / "kifukin" / "provenance.json").is_file()


def test_template_check_finds_a_box_moved_five_mm_off_its_frame(tmp_path, capsys):
    folder = tmp_path / "kifukin"
    draft = _new("kifukin", _blank_pdf(tmp_path), folder)
    overlay = tmp_path / "check.png"
    with pytest.MonkeyPatch.context() as env:
        env.setenv(TEMPLATES_PATH_ENV, str(tmp_path))
        clear_template_cache()
        assert taxintake(["template", "check", "kifukin", "--out", str(overlay)]) == 0, capsys.readouterr().out
        moved = next(f for f in draft["fields"] if f["label"] == "住所")
        moved["box"][0] += 5.0
        (folder / "template.yaml").write_text(yaml.safe_dump(draft, allow_unicode=True), encoding="utf-8")
        clear_template_cache()
        capsys.readouterr()
        assert taxintake(["template", "check", "kifukin", "--out", str(overlay)]) == 1
    report = capsys.readouterr().out
    assert f"{moved['name']}: 枠の左・右辺が印刷された罫線に乗っていません" in report, report
    assert report.count("罫線に乗っていません") == 1, report
    assert overlay.is_file()
    # a box that overlaps another and one off the page: reported, and the template is refused as it stands
    first = draft["fields"][0]
    draft["fields"].append({**first, "name": "kasanari", "box": [first["box"][0] + 10, first["box"][1] + 2, 20, 5]})
    draft["fields"].append({**first, "name": "hamidashi", "box": [170.0, 250.0, 20.0, 10.0]})
    (folder / "template.yaml").write_text(yaml.safe_dump(draft, allow_unicode=True), encoding="utf-8")
    with pytest.MonkeyPatch.context() as env:
        env.setenv(TEMPLATES_PATH_ENV, str(tmp_path))
        clear_template_cache()
        assert taxintake(["template", "check", "kifukin", "--out", str(overlay)]) == 1
    report = capsys.readouterr().out
    assert f"{first['name']} と kasanari の枠が重なっています" in report, report
    assert "hamidashi: 枠が用紙の外にはみ出しています" in report and "hamidashi" in report.split("invalid template")[1]
    clear_template_cache()


def test_template_try_reads_a_filled_scan_and_writes_the_sheet(tmp_path, monkeypatch, capsys):
    _new("kifukin", _blank_pdf(tmp_path), tmp_path / "kifukin")
    monkeypatch.setenv(TEMPLATES_PATH_ENV, str(tmp_path))
    clear_template_cache()
    template = load_template("kifukin")
    written = {**_written(template), "kojin_bangou": "123456789018"}
    scan = tmp_path / "filled.png"
    filled_scan(template, written, 1801).save(scan, dpi=(200, 200))
    sheet = tmp_path / "try.html"
    capsys.readouterr()
    assert taxintake(["template", "try", "kifukin", str(scan), "--sheet", str(sheet)]) == 0
    table = capsys.readouterr().out
    amount_line = next(line for line in table.splitlines() if line.strip().startswith("kifu_kingaku"))
    assert "30000" in amount_line and "amount" in amount_line
    assert "123456789018" not in table, "a 個人番号 is never printed by the trial"
    html = sheet.read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == len(template.fields) - 1 and "123456789018" not in html
    clear_template_cache()


def _written(template) -> dict[str, object]:
    values = {"shimei": "山田 花子", "juusho": "千葉市中央区千葉港1番1号", "kifu_kingaku": "30000",
              "uketsukebangou": "204518", "yuubinbangou": "2608722"}
    return {k: v for k, v in values.items() if k in {f.name for f in template.fields}}


def test_two_versions_read_their_own_pages_and_a_third_is_set_aside(tmp_path, monkeypatch):
    from ocr.read import read_page
    from ocr.recognize import make_recognizer

    root = tmp_path / "city_templates"
    for year, folder in (("令和7年分", "r7"), ("令和8年分", "r8")):
        _new("kifukin", _blank_pdf(tmp_path, year), root / "kifukin" / folder)
    monkeypatch.setenv(TEMPLATES_PATH_ENV, str(root))
    clear_template_cache()
    r7, r8 = load_template("kifukin", "令和7年分"), load_template("kifukin", "令和8年分")
    assert r7.folder != r8.folder
    scans = tmp_path / "scans"
    scans.mkdir()
    for name, template, seed in (("r7", r7, 1701), ("r8", r8, 1702)):
        filled_scan(template, _written(template), seed).save(scans / f"{name}.png", dpi=(200, 200))
    shutil.copyfile(root / "kifukin" / "r8" / "blank.png", tmp_path / "r8_blank.png")
    r9_blank, _ = draw_kifukin_blank("令和9年分")
    r9_blank.save(scans / "r9.png", dpi=(200, 200))
    recognizer = make_recognizer()
    results = {}
    for name in ("r7", "r8", "r9"):
        page = next(iter_pages(scans / f"{name}.png"))
        results[name] = read_page(page, recognizer, form_ids=["kifukin"])
    assert (results["r7"].form_id, results["r7"].template_version) == ("kifukin", "令和7年分"), results["r7"].error
    assert (results["r8"].form_id, results["r8"].template_version) == ("kifukin", "令和8年分"), results["r8"].error
    assert results["r7"].fields["kifu_kingaku"].value == "30000"
    assert results["r9"].form_id is None
    assert results["r9"].error.startswith("この様式の版（令和9年分）は登録されていません"), results["r9"].error
    clear_template_cache()


def test_city_folders_are_searched_in_order_before_the_bundled_templates(tmp_path, monkeypatch):
    import os

    from ocr.templates import TEMPLATES_ROOT, TemplateError, available_form_ids, template_versions

    first, second = tmp_path / "first", tmp_path / "second"
    for root, title in ((first, "千葉市の異動届（市の版）"), (second, "二番目の異動届")):
        shutil.copytree(TEMPLATES_ROOT / "ido_todoke", root / "ido_todoke")
        path = root / "ido_todoke" / "template.yaml"
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        raw["title"] = title
        path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    newer = second / "ido_todoke_r8" / "ido_todoke" / "r8"
    shutil.copytree(TEMPLATES_ROOT / "ido_todoke", newer)
    raw = yaml.safe_load((newer / "template.yaml").read_text(encoding="utf-8"))
    raw["version"] = "令和8年度"
    (newer / "template.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv(TEMPLATES_PATH_ENV, os.pathsep.join([str(first), str(second), str(second / "ido_todoke_r8")]))
    clear_template_cache()
    assert load_template("ido_todoke").title == "千葉市の異動届（市の版）", "the first folder wins"
    assert load_template("ido_todoke").blank_path() == first / "ido_todoke" / "blank.png"
    assert [t.version for t in template_versions("ido_todoke")] == ["令和7年度", "令和8年度"]
    assert load_template("ido_todoke", "令和8年度").folder == newer
    assert "kyuyo_hokoku" in available_form_ids(), "the bundled templates are still found"
    with pytest.raises(TemplateError, match="令和9年度"):
        load_template("ido_todoke", "令和9年度")
    (first / "ido_todoke" / "template.yaml").write_text("form_id: ido_todoke\nfields: [\n", encoding="utf-8")
    clear_template_cache()
    with pytest.raises(TemplateError, match=str(first / "ido_todoke" / "template.yaml")):
        available_form_ids()
    clear_template_cache()
