from pathlib import Path

import pytest
import yaml

from ocr.templates import TemplateError, available_form_ids, load_template, load_template_file


def test_ido_todoke_loads_with_the_fields_the_thin_path_needs():
    template = load_template("ido_todoke")
    kinds = {spec.name: spec.kind for spec in template.fields}
    assert kinds["shotokusha_name"] == "text"
    assert kinds["shotokusha_kana"] == "kana"
    assert kinds["my_number"] == "my_number" and template.field("my_number").cells == 12
    assert kinds["nenzeigaku"] == "amount"
    assert kinds["seinengappi"] == "date_wareki"
    assert len(template.fields) >= 8
    assert "ido_todoke" in available_form_ids()


def test_every_field_box_lies_on_the_page():
    template = load_template("ido_todoke")
    for spec in template.fields:
        x, y, w, h = spec.box
        assert 0 <= x and x + w <= template.page.width_mm, spec.name
        assert 0 <= y and y + h <= template.page.height_mm, spec.name
    assert template.page_size_px() == (2339, 1654)


def _write_broken(tmp_path: Path, mutate) -> Path:
    raw = yaml.safe_load(Path("form_templates/ido_todoke/template.yaml").read_text(encoding="utf-8"))
    mutate(raw)
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_a_broken_template_is_refused_naming_the_file_and_the_field(tmp_path):
    def bad_kind(raw):
        index = next(i for i, spec in enumerate(raw["fields"]) if spec["name"] == "my_number")
        raw["fields"][index]["kind"] = "mynumber"  # typo of my_number

    path = _write_broken(tmp_path, bad_kind)
    with pytest.raises(TemplateError) as excinfo:
        load_template_file(path)
    message = str(excinfo.value)
    assert str(path) in message
    assert "(my_number)" in message and "kind" in message


def test_a_box_off_the_page_is_refused(tmp_path):
    def off_page(raw):
        raw["fields"][0]["box"] = [280, 33, 64, 11]

    with pytest.raises(TemplateError, match="shitei_bango.*outside"):
        load_template_file(_write_broken(tmp_path, off_page))


def test_a_cross_field_rule_must_name_real_fields(tmp_path):
    def bad_rule(raw):
        raw["cross_field_rules"][0]["expression"] = "michoshu_gaku = nenzeigaku - choshuzumi"

    with pytest.raises(TemplateError, match="choshuzumi"):
        load_template_file(_write_broken(tmp_path, bad_rule))


def test_a_conditional_rule_must_name_a_choice_and_its_options(tmp_path):
    def on_text(raw):
        raw["cross_field_rules"].append({"name": "x", "when": {"jusho": ["a"]}, "requires": ["my_number"],
                                         "message": "m"})

    with pytest.raises(TemplateError, match="not a choice field"):
        load_template_file(_write_broken(tmp_path, on_text))

    def unknown_option(raw):
        raw["cross_field_rules"].append({"name": "x", "when": {"choshu_hoho": ["一括"]}, "requires": ["my_number"],
                                         "message": "m"})

    with pytest.raises(TemplateError, match="not options of choshu_hoho"):
        load_template_file(_write_broken(tmp_path, unknown_option))

    def says_nothing(raw):
        raw["cross_field_rules"].append({"name": "x", "when": {"choshu_hoho": ["一括徴収"]}, "message": "m"})

    with pytest.raises(TemplateError, match="needs an expression"):
        load_template_file(_write_broken(tmp_path, says_nothing))
