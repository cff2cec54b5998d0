"""Evidence about a reading beyond the engine's score: arithmetic that vouches for an amount, characters an address
or a name cannot hold, the words a 'terms' field is written with, and the cut of a crop to its ink."""
from __future__ import annotations

import random

import cv2
import numpy as np
import pytest
from faker import Faker

from ocr.crops import tight_to_ink
from ocr.plausibility import implausible_characters, vocabulary_match
from ocr.rules import parse_rule
from ocr.tax_rules import income_tax, nencho_zeigaku
from ocr.templates import load_template
from ocr.validate import confirmed_by_arithmetic, validate_cross_fields
from samples.generators import GENERATORS


def test_nencho_zeigaku_is_the_year_end_tax_with_the_reconstruction_surtax():
    # 課税所得 4,000,000 − 1,200,000 = 2,800,000 → 280,000 − 97,500 = 182,500 → × 102.1 % = 186,332 → 186,300
    assert income_tax(2_800_000) == 182_500
    assert nencho_zeigaku(4_000_000, 1_200_000, 0) == 186_300
    assert nencho_zeigaku(4_000_000, 1_200_000, 100_000) == 84_200  # 82,500 × 1.021 = 84,233
    assert nencho_zeigaku(1_000_000, 1_200_000, 0) == 0


def test_rules_count_how_often_they_read_a_name():
    rule = parse_rule("g = g - remainder(g, 100) + remainder(k, 1)")
    assert rule.occurrences() == {"g": 3, "k": 1}
    assert rule.names() == ["g", "k"]


def _nencho_kyuyo_truth() -> dict:
    for seed in range(200):
        content = GENERATORS["kyuyo_hokoku"](random.Random(seed), Faker("ja_JP"))
        fields = content.truth if hasattr(content, "truth") else content
        fields = fields.get("fields", fields)
        if fields.get("gensen_choshu_zeigaku") and fields.get("kyuyo_shotoku_kojogo") \
                and fields.get("kyuyo_shotoku_kojogo") != fields.get("shiharai_kingaku"):
            return dict(fields)
    raise AssertionError("no generated form with a year-end adjustment")


def test_the_arithmetic_vouches_for_the_year_end_tax_and_the_income_after_deduction():
    template = load_template("kyuyo_hokoku")
    truth = _nencho_kyuyo_truth()
    assert validate_cross_fields(template, truth) == {}
    confirmed = confirmed_by_arithmetic(template, truth)
    assert {"gensen_choshu_zeigaku", "kyuyo_shotoku_kojogo"} <= confirmed
    assert "shiharai_kingaku" not in confirmed  # inside a table function: several payments give one result
    assert "shotoku_kojo_gokei" not in confirmed  # inside floor_to
    misread = {**truth, "gensen_choshu_zeigaku": str(int(truth["gensen_choshu_zeigaku"]) + 100)}
    assert "gensen_choshu_zeigaku" not in confirmed_by_arithmetic(template, misread)
    assert "cross_field:gensen_is_nencho_zeigaku" in validate_cross_fields(template, misread)["gensen_choshu_zeigaku"]


def test_a_value_that_only_repeats_another_is_not_vouched_for():
    template = load_template("hojin_shinkoku")
    rule_names = [rule.name for rule in template.cross_field_rules]
    assert rule_names  # the template has rules; a = b − 0 with a == b must not confirm a
    values = {"nofu_kintowari": "50000", "kintowari_gaku": "50000", "kino_kintowari": "0"}
    assert "nofu_kintowari" not in confirmed_by_arithmetic(template, values)


@pytest.mark.parametrize("text, content, found", [
    ("山口県清瀬市東上野42JH15番18号", "address", ["J", "H"]),
    ("高知県東久留米市高輪42丁目21番18号八イツ日光270", "address", ["八"]),
    ("千代田区一ツ橋2丁目3番", "address", []),
    ("大田区東神田26丁目24番3号シヤルム百村755", "address", ["ヤ"]),
    ("大田区東神田26丁目24番3号シャルム百村755", "address", []),
    ("千葉市美浜区中瀬3丁目6番7", "address", ["号"]),  # the 号 dropped at the line's end
    ("千葉市美浜区中瀬1234番地5", "address", []),
    ("山梨県南都留郡八ヶ岳", "address", []),
    ("スカイ工業株式会社", "organisation_name", []),
    ("ス力イ工業株式会社", "organisation_name", ["力"]),
    ("藤并電気株式会礼:", "organisation_name", [":"]),
    ("佐藤聪", "person_name", ["聪"]),  # a simplified Chinese form: not in Windows-31J
    ("宮﨑拓真", "person_name", []),  # a register variant is plausible (and flagged elsewhere)
    ("髙橋一郎", "person_name", []),
    ("J-POP", None, []),  # free text is not checked
])
def test_implausible_characters_by_content(text, content, found):
    assert implausible_characters(text, content) == found


def test_vocabulary_match_is_exact():
    words = ["給料・賞与", "給与・賞与", "給料"]
    assert vocabulary_match("給料・賞与", words)
    assert not vocabulary_match("給料・賞", words)
    assert not vocabulary_match("給料・賞与", None)


@pytest.mark.parametrize("value, reasons, accepted", [
    ("給料・賞与", ["low_confidence"], True),
    ("給料・賞与", ["text_beyond_box"], True),  # at the frame, but no longer word holds it
    ("給料", ["text_beyond_box"], False),  # at the frame and part of 給料・賞与 or 給料・手当: maybe cut
    ("給料", ["low_confidence"], True),
    ("給料・賞", ["low_confidence"], False),
    ("給料・賞与", ["text_beyond_box", "unlikely_character"], False),
])
def test_a_term_of_the_vocabulary_is_accepted_unless_it_may_be_cut_from_a_longer_one(value, reasons, accepted):
    from ocr.read import _accept_words_of_the_vocabulary
    from ocr.result import FieldReading

    readings = {"shubetsu": FieldReading(value=value, confidence=0.95, status="review", reasons=list(reasons),
                                         engine_score=0.95)}
    _accept_words_of_the_vocabulary(load_template("kyuyo_hokoku"), readings)
    assert (readings["shubetsu"].status == "accepted") is accepted


def test_a_crop_is_cut_to_the_added_ink_with_a_margin():
    blank = np.full((60, 600), 255, np.uint8)
    cv2.rectangle(blank, (0, 0), (599, 59), 0, 2)  # the printed frame is on the blank too: not added ink
    page = blank.copy()
    cv2.putText(page, "ABC", (40, 45), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 2)
    page[5, 500] = 0  # one speck of noise
    cut = tight_to_ink(page, blank)
    assert 20 <= cut.shape[0] <= 40 and 50 <= cut.shape[1] <= 90
    assert (cut < 128).any()
    assert tight_to_ink(blank, blank).shape == blank.shape  # nothing added: unchanged


def test_writing_that_runs_past_the_box_is_noticed():
    from ocr.crops import ink_runs_past_sides

    ink = np.zeros((30, 150), bool)
    ink[8:22, 20:80] = True  # writing well inside the box
    assert not ink_runs_past_sides(ink)
    ink[8:22, 120:150] = True  # the last character cut by the right frame
    assert ink_runs_past_sides(ink)
    speck = np.zeros((30, 150), bool)
    speck[5, 0] = speck[6, 0] = True  # two pixels of noise at the edge are not writing
    assert not ink_runs_past_sides(speck)


@pytest.mark.parametrize("text, known, value, corrected", [
    ("鳥取県鳥取市尚徳町1丁目2番3号", True, "鳥取県鳥取市尚徳町1丁目2番3号", False),
    ("烏取県鳥取市尚徳町1丁目2番3号", True, "鳥取県鳥取市尚徳町1丁目2番3号", True),  # 烏 for 鳥
    ("東京都町山市原町田6丁目", True, "東京都町田市原町田6丁目", True),
    ("千葉市中央区中央1丁目", True, "千葉市中央区中央1丁目", False),  # no prefecture written: 千葉市 says which
    ("青森県東津軽郡外ケ浜町蟹田", True, "青森県東津軽郡外ケ浜町蟹田", False),  # 外ヶ浜町 kept with ケ
    ("大分県西東京市押上13丁目", False, "大分県西東京市押上13丁目", False),  # no such place
])
def test_addresses_are_checked_against_the_postal_data(text, known, value, corrected):
    from ocr.addresses import check_address

    checked = check_address(text)
    assert (checked.known, checked.value, checked.corrected) == (known, value, corrected)


def test_generated_addresses_are_real_places():
    from ocr.addresses import check_address
    from samples.addresses import at_a_real_place, real_place
    from samples.population import _city_address

    faker = Faker("ja_JP")
    faker.seed_instance(7)
    for _ in range(10):
        made_up = faker.address()
        address = at_a_real_place(made_up)
        assert check_address(address.replace(" ", "")).known, address
        numbers_on = made_up[next(i for i, ch in enumerate(made_up) if ch.isdigit()):]
        assert address.endswith(numbers_on) and not made_up.startswith(address[:-len(numbers_on)])
    assert real_place("x", prefecture="千葉県", city_prefix="千葉市中央区").startswith("千葉県千葉市中央区")
    assert real_place("x") == real_place("x")  # the same hint, the same place
    assert check_address(_city_address(random.Random(3), faker)).known


def test_writing_that_touches_the_frame_may_be_cut_and_writing_that_stops_short_of_it_is_whole():
    from ocr.crops import crop_field, reaching_the_frame
    from ocr.register import template_blank

    template = load_template("kyuyo_hokoku")
    spec = next(s for s in template.fields if s.name == "fuyo_1_kana")
    blank = template_blank(template)
    x, y, w, h = spec.box
    top, bottom = int(template.mm_to_px(y + h * 0.25)), int(template.mm_to_px(y + h * 0.75))
    frame_right = int(round(template.mm_to_px(x + w)))
    left = int(template.mm_to_px(x + 3))
    short_of_it = blank.copy()
    short_of_it[top:bottom, left:frame_right - int(template.mm_to_px(0.75))] = 0  # within the side columns
    assert not crop_field(short_of_it, blank, template, spec).ink_at_sides
    # and the reading crop reaches past the usual inset, so the last stroke is read whole
    widened, _ = reaching_the_frame(short_of_it, blank, template, spec.box)
    assert (widened[:, -int(template.mm_to_px(0.9)):] < 128).any()
    touching = blank.copy()
    touching[top:bottom, left:frame_right] = 0
    assert crop_field(touching, blank, template, spec).ink_at_sides
    crossing = blank.copy()
    crossing[top:bottom, left:frame_right + int(template.mm_to_px(1.2))] = 0
    assert crop_field(crossing, blank, template, spec).ink_at_sides


def test_a_long_line_is_cut_only_at_a_written_space_near_its_middle():
    from ocr.crops import split_at_gap

    line = np.full((30, 600), 255, np.uint8)
    for x in list(range(10, 280, 30)) + list(range(330, 590, 30)):  # characters 8 px apart, a space at 280–330
        line[5:25, x:x + 22] = 0
    left, right = split_at_gap(line)
    assert 280 <= left.shape[1] <= 330 and left.shape[1] + right.shape[1] == 600
    assert split_at_gap(line[:, :300]) is None  # not a long line
    no_space = np.full((30, 600), 255, np.uint8)
    for x in range(10, 590, 30):
        no_space[5:25, x:x + 22] = 0  # gaps between characters only: no safe place to cut
    assert split_at_gap(no_space) is None


def test_an_amount_the_model_nearly_read_with_another_digit_goes_to_a_person():
    from ocr.read import _near_miss_changes_value
    from ocr.recognize import Recognition

    amount = load_template("kyuyo_hokoku").field("seimei_hoken_kojo")
    merged = Recognition("3,000", 0.9986, near_miss_text="33,000")
    assert _near_miss_changes_value(amount, merged, "3000", None)
    comma_only = Recognition("33000", 0.99, near_miss_text="33,000")  # the same value: nothing to ask
    assert not _near_miss_changes_value(amount, comma_only, "33000", None)
    name = load_template("kyuyo_hokoku").field("shimei")  # text is checked by other evidence
    assert not _near_miss_changes_value(name, Recognition("山田", 0.99, near_miss_text="山田一"), "山田", None)


def test_a_near_miss_in_one_part_of_a_divided_amount_changes_its_value():
    """On the official face an amount is read part by part (千 and 円 dividers): a handwritten 33 | 000 read 3 | 000,
    the second 3 lost to the blank, carries the near miss into the joined reading, which is then not accepted."""
    from ocr.read import _joined_parts, _near_miss_changes_value
    from ocr.recognize import Recognition

    amount = load_template("kyuyo_hokoku").field("seimei_hoken_kojo")
    assert amount.dividers_mm
    joined = _joined_parts(amount, [Recognition("3", 0.9986, near_miss_text="33"), Recognition("000", 0.999)])
    assert joined.text == "3,000" and joined.near_miss_text == "33,000"
    assert _near_miss_changes_value(amount, joined, "3000", None)
