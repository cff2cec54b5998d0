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


def test_template_loads_with_the_blocks_of_the_official_face():
    template = load_template(FORM)
    assert template.version == "令和7年分" and template.parameters == {"nenbun": 2025}
    assert (template.page.width_mm, template.page.height_mm) == (148.5, 210)
    kinds = {spec.name: spec.kind for spec in template.fields}
    assert kinds["my_number"] == "my_number" and template.field("my_number").cells == 12
    assert kinds["shiharai_kingaku"] == "amount" and kinds["gensen_choshu_zeigaku"] == "amount"
    assert kinds["seinengappi"] == "date_wareki" and template.field("seinengappi").era_field == "seinengappi_era"
    assert kinds["seinengappi_era"] == "text"  # the 元号 is written on this face, not circled
    assert template.field("chuto_shutai_nengappi").era == "令和"
    assert template.field("shiharaisha_bango").cells == 13
    for i in range(1, 5):
        assert kinds[f"fuyo_{i}_my_number"] == "my_number"
        assert {f"fuyo_{i}_kana", f"fuyo_{i}_shimei", f"fuyo_{i}_kubun", f"miman_{i}_kana", f"miman_{i}_shimei",
                f"miman_{i}_kubun"} <= set(kinds)
    # 令和7年分 items of the face
    assert {"tokutei_shinzoku_kojo_gaku", "fuyo_tokushin_nin", "fuyo_tokushin_ju", "bikou", "seiri_ran_1", "seiri_ran_2"} <= set(kinds)
    # a printed 「5,000 | 000」: amounts carry the 千 (and 百万) dividers printed through them
    assert len(template.field("shiharai_kingaku").dividers_mm) == 2
    assert len(template.field("haigusha_kojo_gaku").dividers_mm) == 1
    assert len(template.field("seinengappi").part_boxes()) == 3
    assert len(template.fields) >= 100


def test_the_blank_is_the_official_pdf_rasterised():
    import hashlib

    from PIL import Image

    template = load_template(FORM)
    face = template.official_face
    pdf = template.folder / face.pdf
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == face.sha256
    blank = Image.open(template.blank_path())
    assert blank.size == template.page_size_px()
    import pypdfium2 as pdfium
    import numpy as np

    page = pdfium.PdfDocument(str(pdf))[face.page - 1]
    raster = np.array(page.render(scale=template.dpi / 72, grayscale=True).to_pil().convert("L"))
    left = raster[:, :blank.size[0]]
    assert np.abs(left.astype(int) - np.array(blank).astype(int)).mean() < 1.0


def test_every_field_box_lies_on_the_page_inside_the_printed_ruling_and_boxes_do_not_overlap():
    import numpy as np
    from PIL import Image

    template = load_template(FORM)
    blank = np.array(Image.open(template.blank_path())) < 128
    for spec in template.fields:
        x, y, w, h = spec.box
        assert 0 <= x and x + w <= template.page.width_mm, spec.name
        assert 0 <= y and y + h <= template.page.height_mm, spec.name
        if spec.name == "nenbun_nen":
            continue
        # the middle of every box is free of printed ruling (a box measured across a line would be wrong)
        inner = blank[round(template.mm_to_px(y + 0.4)):round(template.mm_to_px(y + h - 0.4)),
                      round(template.mm_to_px(x + 0.5)):round(template.mm_to_px(x + w - 0.5))]
        dividers = {round(template.mm_to_px(d)) - round(template.mm_to_px(x + 0.5)) for d in spec.dividers_mm or []}
        cells = {round(template.mm_to_px(c[0])) - round(template.mm_to_px(x + 0.5)) for c in spec.cell_boxes() + spec.option_boxes()}
        columns = [i for i in np.where(inner.all(axis=0))[0]
                   if not any(abs(i - d) <= 3 for d in dividers | cells)]
        assert not columns, f"{spec.name}: a printed vertical line crosses the box"
    boxes = [(s.name, s.box) for s in template.fields]
    for i, (name_a, (xa, ya, wa, ha)) in enumerate(boxes):
        for name_b, (xb, yb, wb, hb) in boxes[i + 1:]:
            overlap_w = min(xa + wa, xb + wb) - max(xa, xb)
            overlap_h = min(ya + ha, yb + hb) - max(ya, yb)
            assert overlap_w <= 0.02 or overlap_h <= 0.02, f"{name_a} overlaps {name_b}"  # boxes are kept to 0.01 mm


def test_amounts_are_cut_at_the_printed_dividers_and_joined_back():
    from ocr.normalize import normalize
    from ocr.read import _joined_parts
    from ocr.recognize import Recognition
    from samples.render import amount_parts

    template = load_template(FORM)
    spec = template.field("shiharai_kingaku")
    assert amount_parts("5000000", 3) == ["5", "000", "000"]
    assert amount_parts("5000000", 2) == ["5,000", "000"]
    assert amount_parts("120000", 3) == ["", "120", "000"]

    def read(*texts):
        parts = [Recognition(text, 0.99) if text else None for text in texts]
        return normalize("amount", _joined_parts(spec, parts).text, spec)

    assert read("5", "000", "000").value == "5000000" and read("5", "000", "000").problems == []
    assert read("5,000", "000").value == "5000000" and read("5,000", "000").problems == []  # 千|円 cells
    assert read(None, "120", "000").value == "120000"
    assert read("5", None, "000").problems  # an empty part between written ones is no amount
    assert read("5", "00", "000").problems  # a digit lost in a part


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
        rows += "(5)控除対象扶養親族" in " ".join(filter(None, (truth[f"tekiyo_{i}"] for i in (1, 2, 3))))
        counted = sum(int(truth[n] or 0) for n in ("fuyo_tokutei_nin", "fuyo_rojin_nin", "fuyo_sonota_nin",
                                                     "fuyo_tokushin_nin"))
        assert counted == rows
        under16 = sum(truth[f"miman_{i}_kana"] is not None for i in range(1, 5))
        under16 += "(5)16歳未満扶養親族" in " ".join(filter(None, (truth[f"tekiyo_{i}"] for i in (1, 2, 3))))
        assert int(truth["fuyo_16_miman"] or 0) == under16
        seen_individual_employer += len(truth["shiharaisha_bango"]) == 12
    assert seen_no_nencho and seen_nencho > 30


@pytest.mark.parametrize("title", ["face", "給与支払報告書（個人別明細書）"])
def test_a_printed_page_of_the_official_face_reads_back_under_either_title(tmp_path, title):
    from ocr.read import read_path
    from ocr.recognize import make_recognizer
    from samples.generate import generate_page, write_page

    page = generate_page(FORM, style="printed", profile="office200", seed=11, printed_title=title)
    assert page.truth["printed_title"] == title
    result = next(read_path(write_page(page, tmp_path, "kyuyo"), make_recognizer()))
    assert result.form_id == FORM, result.error
    truth = page.truth["fields"]
    for name in ("my_number", "shiharai_kingaku", "gensen_choshu_zeigaku", "seinengappi_era", "seinengappi",
                 "shiharaisha_bango", "shimei"):
        assert result.fields[name].value == truth[name], name
    right = sum(result.fields[name].value == value for name, value in truth.items())
    assert right >= len(truth) - 2


def test_kojo_gokei_must_hold_the_tokutei_shinzoku_kojo():
    template = load_template(FORM)
    for seed in range(200):
        truth = dict(_content(seed).truth)
        if truth["tokutei_shinzoku_kojo_gaku"] and truth["shotoku_kojo_gokei"]:
            break
    else:
        pytest.fail("no generated form with 特定親族特別控除")
    assert "shotoku_kojo_gokei" not in validate_cross_fields(template, truth)
    printed_sum = sum(int(truth[name] or 0) for name in (
        "shakai_hoken_gaku", "seimei_hoken_kojo", "jishin_hoken_kojo", "haigusha_kojo_gaku", "kiso_kojo_gaku"))
    truth["shotoku_kojo_gokei"] = str(printed_sum)  # the 令和6年分 sum, without 特定親族特別控除
    assert "cross_field:kojo_gokei_holds_the_printed_deductions" in str(validate_cross_fields(template, truth))


def _read_image(image, tmp_path, name):
    from ocr.read import read_path
    from ocr.recognize import make_recognizer

    path = tmp_path / f"{name}.png"
    image.save(path, dpi=image.info.get("dpi", (200, 200)))
    return list(read_path(path, make_recognizer()))


def test_a_sokatsu_hyo_page_is_set_aside_with_its_own_reason(tmp_path):
    from samples.kyuyo_sheets import sokatsu_page

    (result,) = _read_image(sokatsu_page(1).image, tmp_path, "sokatsu")
    assert result.form_id is None
    assert result.error.startswith("給与支払報告書（総括表）です")


def test_a_sheet_with_two_copies_side_by_side_is_set_aside_not_read_as_one(tmp_path):
    from samples.kyuyo_sheets import two_copies_sheet

    sheet, truths = two_copies_sheet(21)
    assert len(truths) == 2
    (result,) = _read_image(sheet, tmp_path, "two_copies")
    assert result.form_id is None and result.fields == {}
    assert "2面" in result.error
