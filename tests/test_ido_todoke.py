"""異動届 on the cities' common sheet: its rules on generated and on read values, one page read end to end."""
from __future__ import annotations

import random

import pytest
from faker import Faker

from ocr.templates import load_template
from ocr.validate import confirmed_by_arithmetic, validate_cross_fields, validate_field
from samples.generators import GENERATORS

FORM = "ido_todoke"

BASE = {  # 年税額 123,400: 月割額 10,200, 6月分 11,200; collected 6月分–9月分, retired 9月30日
    "shitei_bango": "00012345", "shiharaisha_hojin_bango": "7000012050002", "shiharaisha_name": "株式会社千葉精機",
    "nendo_kubun": "現年度", "teishutsu_nengappi": "2025-10-06", "shotokusha_kana": "サトウ ケンタ",
    "shotokusha_name": "佐藤健太", "seinengappi_era": "昭和", "seinengappi": "1985-04-12",
    "my_number": "123456789018", "jusho": "千葉県千葉市美浜区真砂1丁目2番3号",
    "nenzeigaku": "123400", "choshuzumi_gaku": "41800", "michoshu_gaku": "81600", "tsukiwari_gaku": "10200",
    "choshuzumi_kara": "6", "choshuzumi_made": "9", "ido_nengappi": "2025-09-30", "ido_jiyu": "退職",
    "choshu_hoho": "普通徴収", "futsu_riyu": "申出なし",
}


def failing(values: dict) -> dict[str, list[str]]:
    return validate_cross_fields(load_template(FORM), values)


def rules_failing(values: dict) -> set[str]:
    return {reason.split(":", 1)[1] for reasons in failing(values).values() for reason in reasons
            if reason.startswith("cross_field:")}


def test_a_consistent_sheet_passes_every_rule():
    assert rules_failing(BASE) == set()


def test_collected_months_must_run_june_to_may():
    assert "choshuzumi_months_in_order" in rules_failing({**BASE, "choshuzumi_kara": "9", "choshuzumi_made": "6"})
    assert "choshuzumi_months_in_order" not in rules_failing({**BASE, "choshuzumi_kara": "12", "choshuzumi_made": "2",
                                                              "ido_nengappi": "2026-02-27",
                                                              "teishutsu_nengappi": "2026-03-05"})
    # A month a hand wrote as 13 is refused by the field itself.
    assert validate_field(load_template(FORM).field("choshuzumi_made"), "13") == ["out_of_range"]


def test_collected_amount_and_monthly_amount_follow_the_june_remainder():
    assert "choshuzumi_from_months" in rules_failing({**BASE, "choshuzumi_made": "10"})
    assert "tsukiwari_from_nenzeigaku" in rules_failing({**BASE, "tsukiwari_gaku": "10300"})
    # (イ) written for 6月–9月 with the June remainder: an equality that vouches for the (イ) amount.
    assert "choshuzumi_gaku" in confirmed_by_arithmetic(load_template(FORM), BASE)


def test_ikkatsu_only_with_its_reason():
    ikkatsu = {**BASE, "choshu_hoho": "一括徴収", "futsu_riyu": None}
    found = failing(ikkatsu)
    assert "cross_field:ikkatsu_needs_reason" in found["choshu_hoho"]
    good = {**ikkatsu, "ikkatsu_riyu": "本人の申出", "ikkatsu_yotei_gaku": "81600", "ikkatsu_nonyu_tsuki": "9"}
    assert rules_failing(good) == set()
    assert "ikkatsu_is_michoshu" in rules_failing({**good, "ikkatsu_yotei_gaku": "81000"})
    # The 1月1日〜4月30日 reason on a September change, or 一括 fields on a 普通徴収 sheet, do not fit.
    assert "ikkatsu_january_to_april" in rules_failing({**good, "ikkatsu_riyu": "1月1日から4月30日の異動"})
    assert "ikkatsu_fields_only_for_ikkatsu" in rules_failing({**BASE, "ikkatsu_riyu": "本人の申出"})


def test_futsu_needs_a_reason_that_fits_the_date():
    assert "futsu_needs_reason" in rules_failing({**BASE, "futsu_riyu": None})
    assert "futsu_short_pay_january_to_april" in rules_failing({**BASE, "futsu_riyu": "支払不足"})
    march = {**BASE, "ido_nengappi": "2026-03-31", "teishutsu_nengappi": "2026-04-08", "choshuzumi_made": "3",
             "choshuzumi_gaku": "103000", "michoshu_gaku": "20400"}
    assert rules_failing({**march, "futsu_riyu": "支払不足"}) == set()
    # A 退職 between 1月1日 and 4月30日 is collected at once: 「申出なし」 is no reason then.
    assert "futsu_no_request_june_to_december" in rules_failing(march)


def test_keizoku_needs_the_new_employers_number_and_block():
    keizoku = {**BASE, "ido_jiyu": "転勤", "choshu_hoho": "特別徴収継続", "futsu_riyu": None}
    assert "cross_field:keizoku_needs_new_employer" in failing(keizoku)["choshu_hoho"]
    full = {**keizoku, "shin_kinmusaki_name": "株式会社房総運輸", "shin_shitei_bango": "00054321",
            "shin_kinmusaki_shozaichi": "千葉県千葉市中央区千葉港1番1号", "shin_kaishi_tsuki": "10",
            "shin_tsukiwari_gaku": "10200"}
    assert rules_failing(full) == set()
    assert "keizoku_needs_new_employer" in rules_failing({**full, "shin_shitei_bango": None})
    assert "new_employer_starts_after_collected_months" in rules_failing({**full, "shin_kaishi_tsuki": "9"})
    assert "new_employer_collects_the_rest" in rules_failing({**full, "shin_kaishi_tsuki": "11"})
    assert "new_employer_same_monthly" in rules_failing({**full, "shin_tsukiwari_gaku": "10000"})
    assert "new_employer_only_for_keizoku" in rules_failing({**BASE, "shin_shitei_bango": "00054321"})


@pytest.mark.parametrize("seed", range(40))
def test_generated_sheets_pass_every_validator_and_rule(seed):
    template = load_template(FORM)
    rng = random.Random(seed)
    faker = Faker("ja_JP")
    faker.seed_instance(seed)
    content = GENERATORS[FORM](rng, faker, 0.0)
    assert set(content.truth) <= {spec.name for spec in template.fields}
    for spec in template.fields:
        assert validate_field(spec, content.truth.get(spec.name)) == [], (spec.name, content.truth.get(spec.name))
    assert validate_cross_fields(template, content.truth) == {}


def test_a_read_sheet_keeps_its_new_items_and_their_rules(tmp_path):
    """Real OCR on a generated printed sheet: the 徴収済月, 月割額 and the block its 徴収方法 needs are read, and
    the rules hold on what was read."""
    from ocr.read import read_path
    from ocr.recognize import make_recognizer
    from samples.generate import generate_page, write_page

    for seed in range(400, 460):
        page = generate_page(FORM, style="printed", profile="clean300", seed=seed)
        if page.truth["fields"].get("choshu_hoho") == "特別徴収継続":
            break
    path = write_page(page, tmp_path, "ido")
    result = next(read_path(path, make_recognizer()))
    truth = page.truth["fields"]
    assert result.form_id == FORM, result.error
    for name in ("choshuzumi_kara", "choshuzumi_made", "tsukiwari_gaku", "shin_shitei_bango", "shin_kaishi_tsuki",
                 "shin_tsukiwari_gaku", "nendo_kubun"):
        assert result.fields[name].value == truth[name], name
    read_values = {name: reading.value for name, reading in result.fields.items()}
    assert rules_failing(read_values) == set()
    assert rules_failing({**read_values, "shin_shitei_bango": None}) >= {"keizoku_needs_new_employer"}


def test_the_review_page_says_what_a_failed_sheet_rule_needs():
    from review.reasons import explain

    template = load_template(FORM)
    ikkatsu = {**BASE, "choshu_hoho": "一括徴収", "futsu_riyu": None}
    text = explain("cross_field:ikkatsu_needs_reason", "choshu_hoho", template, ikkatsu)
    assert text.startswith("一括徴収の場合は一括徴収の理由") and "未記入：一括徴収の理由、一括徴収予定額、納入月" in text
    backwards = explain("cross_field:choshuzumi_months_in_order", "choshuzumi_made", template,
                        {**BASE, "choshuzumi_kara": "9", "choshuzumi_made": "6"})
    assert "特別徴収の月順（6月分＝0）（徴収済月（まで）［6］）" in backwards and "左辺 0／右辺 3" in backwards
