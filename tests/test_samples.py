"""The sample generator: every form, every profile, truth that passes the template's own checks, bundles."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from ocr.templates import available_form_ids, load_template
from ocr.validate import validate_cross_fields, validate_field
from samples.degrade import PROFILES
from samples.generate import FILL_STYLES, generate_bundle, generate_page, write_bundle, write_page
from samples.render import render_blank

FORMS = available_form_ids()


def test_all_three_forms_have_templates():
    assert {"ido_todoke", "hojin_shinkoku", "kyuyo_hokoku"} <= set(FORMS)


@pytest.mark.parametrize("form_id", FORMS)
def test_generated_truth_passes_every_check_unless_wrong_on_purpose(form_id):
    template = load_template(form_id)
    wrong_on_purpose_seen = 0
    for seed in range(40):
        truth = generate_page(form_id, style="printed", profile="clean300", seed=seed, invalid_share=0.2).truth
        fields = truth["fields"]
        assert set(fields) == {spec.name for spec in template.fields}, "truth names every field of the template"
        on_purpose = set(truth["deliberately_invalid"])
        wrong_on_purpose_seen += bool(on_purpose)
        for spec in template.fields:
            value = fields[spec.name]
            if value is None:
                assert not spec.required, f"seed {seed}: required {spec.name} left empty"
                continue
            problems = validate_field(spec, value)
            if spec.name in on_purpose:
                assert problems, f"seed {seed}: {spec.name} is marked wrong on purpose but passes"
            else:
                assert problems == [], f"seed {seed}: {spec.name}={value!r}: {problems}"
        failing = {name for name, reasons in validate_cross_fields(template, fields).items() if reasons}
        assert failing <= on_purpose | _rule_partners(template, on_purpose), f"seed {seed}: {failing}"
    assert wrong_on_purpose_seen, "a share of deliberately wrong forms was asked for"


def _rule_partners(template, names: set[str]) -> set[str]:
    partners: set[str] = set()
    for rule in template.cross_field_rules:
        involved = set(rule.names())
        if involved & names:
            partners |= involved
    return partners


@pytest.mark.parametrize("form_id", FORMS)
@pytest.mark.parametrize("profile", PROFILES)
def test_every_form_generates_in_every_profile_and_style(form_id, profile, tmp_path):
    for style in FILL_STYLES:
        page = generate_page(form_id, style=style, profile=profile, seed=7)
        path = write_page(page, tmp_path, f"{form_id}_{style}")
        truth = json.loads((tmp_path / f"{form_id}_{style}.truth.json").read_text(encoding="utf-8"))
        assert truth["form_id"] == form_id and truth["profile"] == profile and truth["style"] == style
        assert truth["rotation_degrees"] in (0, 90, 180, 270)
        with Image.open(path) as image:
            assert image.size[0] > 500 and image.size[1] > 300
        again = generate_page(form_id, style=style, profile=profile, seed=7)
        assert again.truth == page.truth and np.array_equal(np.asarray(again.image), np.asarray(page.image)), \
            "deterministic for a seed"


@pytest.mark.parametrize("form_id", FORMS)
def test_committed_blank_is_the_one_the_template_draws(form_id):
    template = load_template(form_id)
    committed = np.asarray(Image.open(template.blank_path()).convert("L"), dtype=np.int16)
    drawn = np.asarray(render_blank(template), dtype=np.int16)
    assert committed.shape == drawn.shape
    assert np.abs(committed - drawn).mean() < 0.5, f"run `taxintake samples blank {form_id}` after editing the template"


@pytest.mark.parametrize("form_id", FORMS)
def test_every_field_box_lies_on_the_page_over_its_drawn_frame_and_cells(form_id):
    template = load_template(form_id)
    if template.official_face:
        pytest.skip("an official face is not drawn from its template: tests/test_kyuyo_hokoku.py checks its boxes "
                    "against the printed ruling")
    blank = np.asarray(render_blank(template)) < 128
    height, width = blank.shape

    def px(mm: float) -> int:
        return round(template.mm_to_px(mm))

    def dark_share_of_vertical_line(x_mm: float, y0_mm: float, y1_mm: float) -> float:
        x = px(x_mm)
        band = blank[px(y0_mm) + 2:px(y1_mm) - 1, max(0, x - 2):x + 3]
        return float(band.any(axis=1).mean())

    for spec in template.fields:
        x, y, w, h = spec.box
        assert 0 <= px(x) and px(x + w) <= width and 0 <= px(y) and px(y + h) <= height, spec.name
        top = blank[max(0, px(y) - 2):px(y) + 3, px(x) + 2:px(x + w) - 1].any(axis=0).mean()
        assert top > 0.9, f"{spec.name}: no frame drawn along the box's top edge"
        for cell_x, cell_y, _, cell_h in spec.cell_boxes():
            assert dark_share_of_vertical_line(cell_x, cell_y, cell_y + cell_h) > 0.3, \
                f"{spec.name}: no cell divider drawn at {cell_x:.1f} mm"


def test_a_mixed_bundle_as_multipage_tiff_and_pdf_with_separators(tmp_path):
    pages = generate_bundle(FORMS, count=4, style="mixed", profile="office200", seed=3, separator_every=2)
    assert [p.truth.get("blank", False) for p in pages] == [False, False, True, False, False]
    for name in ("bundle.tif", "bundle.pdf"):
        path = write_bundle(pages, tmp_path / name)
        truth = json.loads(path.with_suffix(".truth.json").read_text(encoding="utf-8"))
        assert [p["page"] for p in truth["pages"]] == [1, 2, 3, 4, 5]
    with Image.open(tmp_path / "bundle.tif") as tiff:
        assert tiff.n_frames == 5
