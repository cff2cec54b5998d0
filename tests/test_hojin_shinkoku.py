"""法人市民税 申告書 (第20号様式): the template, the generator's arithmetic, and one page read end to end."""
import random

import pytest
from faker import Faker

from ocr.templates import load_template
from ocr.validate import validate_cross_fields, validate_field
from samples.generators import GENERATORS

FORM = "hojin_shinkoku"


def test_template_loads_with_per_digit_columns_and_suffixes():
    template = load_template(FORM)
    assert template.page.width_mm == 210 and template.page.height_mm == 297
    assert template.field("hojin_bango").cells == 13
    assert template.field("kazei_hyojun").preprinted_suffix == "000"
    assert template.field("hojinzeiwari_gaku").preprinted_suffix == "00"
    assert template.field("shinkoku_kubun").options == ["確定", "中間", "修正"]
    assert "allow_negative" in template.field("nofu_hojinzeiwari").validators
    assert template.parameters["hojinzeiwari_rate"] == 600
    assert len(template.fields) >= 50


def test_every_field_box_lies_on_the_page():
    template = load_template(FORM)
    for spec in template.fields:
        for x, y, w, h in [spec.box] + ([spec.label_box] if spec.label_box else []):
            assert 0 <= x and x + w <= template.page.width_mm, spec.name
            assert 0 <= y and y + h <= template.page.height_mm, spec.name


@pytest.mark.parametrize("seed", range(30))
def test_generated_truth_passes_every_validator_and_rule(seed):
    template = load_template(FORM)
    rng = random.Random(seed)
    faker = Faker("ja_JP")
    faker.seed_instance(seed)
    content = GENERATORS[FORM](rng, faker, 0.3)
    names = {spec.name for spec in template.fields}
    assert set(content.truth) <= names
    for spec in template.fields:
        if spec.name in content.deliberately_invalid:
            assert validate_field(spec, content.truth.get(spec.name)), spec.name
            continue
        assert validate_field(spec, content.truth.get(spec.name)) == [], (spec.name, content.truth.get(spec.name))
    assert validate_cross_fields(template, content.truth) == {}


def test_a_blank_table_line_counts_as_zero_only_where_the_rule_says_so():
    template = load_template(FORM)
    values = {"sashihiki_hojinzeiwari": "120000", "nofu_hojinzeiwari": "120000"}
    assert "nofu_hojinzeiwari" not in validate_cross_fields(template, values)
    values["kino_hojinzeiwari"] = "50000"
    assert "cross_field:nofu_hojinzeiwari" in validate_cross_fields(template, values)["nofu_hojinzeiwari"]


def test_a_refund_and_the_suffix_reach_the_normal_form():
    from ocr.normalize import normalize

    template = load_template(FORM)
    assert normalize("amount", "△1234", template.field("nofu_hojinzeiwari")).value == "-123400"
    assert normalize("amount", "45678", template.field("kazei_hyojun")).value == "45678000"
    assert normalize("amount", "0", template.field("nofu_kintowari")).value == "0"


def test_a_printed_clean_page_reads_as_this_form(tmp_path):
    from ocr.read import read_path
    from ocr.recognize import make_recognizer
    from samples.generate import generate_page, write_page

    seed = next(s for s in range(50) if _has_tax(s))
    page = generate_page(FORM, style="printed", profile="clean300", seed=seed)
    path = write_page(page, tmp_path, "hojin")
    result = next(read_path(path, make_recognizer()))
    assert result.form_id == FORM, result.error
    truth = page.truth["fields"]
    assert result.fields["hojin_bango"].value == truth["hojin_bango"]
    assert result.fields["kazei_hyojun"].value == truth["kazei_hyojun"]
    assert result.fields["hojinzeiwari_gaku"].value == truth["hojinzeiwari_gaku"]
    assert result.fields["kintowari_gaku"].value == truth["kintowari_gaku"]
    for name in ("ku_1_mei", "ku_1_jugyoin", "ku_1_tsukisu", "ku_1_kintowari"):
        assert result.fields[name].value == truth[name], name
    read_values = {name: reading.value for name, reading in result.fields.items()}
    template = load_template(FORM)
    assert validate_cross_fields(template, read_values) == {}
    # The same read sheet with its 区 amount one 100 off: the per-区 rule and the sum both catch it.
    off = {**read_values, "ku_1_kintowari": str(int(read_values["ku_1_kintowari"]) + 100)}
    found = validate_cross_fields(template, off)["ku_1_kintowari"]
    assert {"cross_field:ku_1_kintowari_by_capital_and_employees", "cross_field:kintowari_is_sum_of_ku"} <= set(found)


def test_the_tax_table_pairs_base_and_tax_on_one_line():
    template = load_template(FORM)
    for base, tax in (("kazei_hyojun", "hojinzeiwari_gaku"), ("bunkatsu_kazei_hyojun", "bunkatsu_hojinzeiwari_gaku"),
                      ("kintowari_nengaku", "kintowari_gaku")):
        base_box, tax_box = template.field(base).box, template.field(tax).box
        assert base_box[1] == tax_box[1] and base_box[0] + base_box[2] < tax_box[0], (base, tax)


def test_kintowari_is_computed_per_ku_in_chiba():
    template = load_template(FORM)
    # 資本金等 1,000万以下: 50人以下の区 50,000, 50人超の区 120,000 (a year); 美浜区 held only 4 months.
    values = {"shihonkin_to_gaku": "10000000", "shihonkin_junbikin_gassan": "10000000", "shinai_jugyoin": "63",
              "tsukisu": "12", "ku_1_mei": "中央区", "ku_1_jugyoin": "55", "ku_1_tsukisu": "12",
              "ku_1_kintowari": "120000", "ku_2_mei": "美浜区", "ku_2_jugyoin": "8", "ku_2_tsukisu": "4",
              "ku_2_kintowari": "16600", "kintowari_gaku": "136600", "nofu_kintowari": "136600"}
    assert validate_cross_fields(template, values) == {}
    # Taken on the city's 63 people as one (50人超 → 120,000), the second ward would be wrong.
    assert "cross_field:ku_2_kintowari_by_capital_and_employees" in validate_cross_fields(
        template, {**values, "ku_2_kintowari": "40000", "kintowari_gaku": "160000", "nofu_kintowari": "160000"}
    )["ku_2_kintowari"]
    assert "cross_field:shinai_is_sum_of_ku" in validate_cross_fields(template, {**values, "shinai_jugyoin": "60"}
                                                                      )["shinai_jugyoin"]
    assert "cross_field:ku_2_months_within_period" in validate_cross_fields(
        template, {**values, "tsukisu": "3", "ku_1_tsukisu": "3", "ku_1_kintowari": "30000",
                   "kintowari_gaku": "46600", "nofu_kintowari": "46600"})["ku_2_tsukisu"]


def _has_tax(seed: int) -> bool:
    from samples.generate import generate_page

    return "kazei_hyojun" in generate_page(FORM, style="printed", profile="clean300", seed=seed).truth["fields"]
