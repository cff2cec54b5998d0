"""給与支払報告書（個人別明細書）: template, generated ground truth, and one real read."""
import random

import pytest
from faker import Faker

from ocr.tax_rules import kyuyo_shotoku
from ocr.templates import load_template
from ocr.validate import validate_cross_fields, validate_field
from samples.generators import GENERATORS

FORM = "kyuyo_hokoku"


def _content(seed: int, invalid_share: float = 0.0):
    rng = random.Random(f"test:{seed}")
    faker = Faker("ja_JP")
    faker.seed_instance(seed)
    return GENERATORS[FORM](rng, faker, invalid_share)


def test_template_loads_with_the_blocks_of_the_form():
    template = load_template(FORM)
    assert template.version == "令和7年分" and template.parameters == {"nenbun": 2025}
    assert (template.page.width_mm, template.page.height_mm) == (210, 148)
    kinds = {spec.name: spec.kind for spec in template.fields}
    assert kinds["my_number"] == "my_number" and template.field("my_number").cells == 12
    assert kinds["shiharai_kingaku"] == "amount" and kinds["gensen_choshu_zeigaku"] == "amount"
    assert kinds["seinengappi"] == "date_wareki" and template.field("seinengappi").era_field == "seinengappi_era"
    assert template.field("chuto_shutai_nengappi").era == "令和"
    assert template.field("shiharaisha_bango").cells == 13
    for i in range(1, 5):
        for prefix in ("fuyo", "miman"):
            assert kinds[f"{prefix}_{i}_my_number"] == "my_number"
    assert len(template.fields) >= 100


def test_every_field_box_lies_on_the_page_and_boxes_do_not_overlap():
    template = load_template(FORM)
    for spec in template.fields:
        x, y, w, h = spec.box
        assert 0 <= x and x + w <= template.page.width_mm, spec.name
        assert 0 <= y and y + h <= template.page.height_mm, spec.name
        if spec.kind in ("text", "kana"):
            assert h >= 5, f"{spec.name}: a written line needs 5 mm"
        if spec.cells:
            assert w / spec.cells >= 4, f"{spec.name}: digit cells need 4 mm"
    boxes = [(s.name, s.box) for s in template.fields]
    for i, (name_a, (xa, ya, wa, ha)) in enumerate(boxes):
        for name_b, (xb, yb, wb, hb) in boxes[i + 1:]:
            overlap_w = min(xa + wa, xb + wb) - max(xa, xb)
            overlap_h = min(ya + ha, yb + hb) - max(ya, yb)
            assert overlap_w <= 0.01 or overlap_h <= 0.01, f"{name_a} overlaps {name_b}"


@pytest.mark.parametrize("seed", range(30))
def test_generated_truth_passes_every_validator_and_rule(seed):
    template = load_template(FORM)
    content = _content(seed, invalid_share=0.3)
    assert set(content.truth) == {spec.name for spec in template.fields}
    invalid = set(content.deliberately_invalid)
    for spec in template.fields:
        if spec.name not in invalid:
            assert validate_field(spec, content.truth[spec.name]) == [], (spec.name, content.truth[spec.name])
    failures = {name: reasons for name, reasons in validate_cross_fields(template, content.truth).items()
                if name not in invalid}
    assert failures == {}
    for name in invalid:
        assert validate_field(template.field(name), content.truth[name]) == ["check_digit"]


def test_generated_numbers_are_consistent():
    seen_no_nencho = seen_nencho = seen_individual_employer = 0
    for seed in range(60):
        truth = _content(seed).truth
        payment = int(truth["shiharai_kingaku"])
        if truth["kyuyo_shotoku_kojogo"] is None:
            seen_no_nencho += 1
            assert truth["shotoku_kojo_gokei"] is None
            continue
        seen_nencho += 1
        adjustment = int(truth["shotoku_chosei_kojo_gaku"] or 0)
        assert int(truth["kyuyo_shotoku_kojogo"]) == kyuyo_shotoku(payment, 2025) - adjustment
        assert truth["gensen_choshu_zeigaku"] is None or int(truth["gensen_choshu_zeigaku"]) % 100 == 0
        rows = sum(truth[f"fuyo_{i}_my_number"] is not None for i in range(1, 5))
        rows += truth["fuyo_5_igo_my_number"] is not None
        counted = sum(int(truth[n] or 0) for n in ("fuyo_tokutei_nin", "fuyo_rojin_nin", "fuyo_sonota_nin"))
        assert counted == rows
        under16 = sum(truth[f"miman_{i}_my_number"] is not None for i in range(1, 5))
        under16 += truth["miman_5_igo_my_number"] is not None
        assert int(truth["fuyo_16_miman"] or 0) == under16
        seen_individual_employer += len(truth["shiharaisha_bango"]) == 12
    assert seen_no_nencho and seen_nencho > 30


def test_a_printed_clean_page_reads_back(tmp_path):
    from ocr.read import read_path
    from ocr.recognize import make_recognizer
    from samples.generate import generate_page, write_page

    page = generate_page(FORM, style="printed", profile="clean300", seed=11)
    result = next(read_path(write_page(page, tmp_path, "kyuyo"), make_recognizer()))
    assert result.form_id == FORM, result.error
    truth = page.truth["fields"]
    assert result.fields["my_number"].value == truth["my_number"]
    assert result.fields["shiharai_kingaku"].value == truth["shiharai_kingaku"]
