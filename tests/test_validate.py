from datetime import date

import pytest

from ocr.templates import FieldSpec, load_template
from ocr.validate import as_integer, validate_cross_fields, validate_field

IDO = load_template("ido_todoke")
TODAY = date(2025, 6, 10)


def spec(**overrides) -> FieldSpec:
    base = {"name": "f", "label": "金額", "box": (0, 0, 10, 10), "kind": "amount"}
    base.update(overrides)
    return FieldSpec(**base)


def test_required_missing():
    assert validate_field(IDO.field("shotokusha_name"), None) == ["required_missing"]
    assert validate_field(IDO.field("shotokusha_name"), "") == ["required_missing"]
    assert validate_field(IDO.field("shiharaisha_shozaichi"), None) == []  # not required
    assert validate_field(IDO.field("shotokusha_name"), "佐藤 健太") == []


def test_my_number_check_digit():
    field = IDO.field("my_number")
    assert validate_field(field, "123456789018") == []
    assert validate_field(field, "987654321093") == []
    assert validate_field(field, "123456789019") == ["check_digit"]
    assert validate_field(field, "123456789108") == ["check_digit"]  # two digits swapped
    assert validate_field(field, "12345678901") == ["check_digit"]  # too short is no valid number either


def test_corporate_number_check_digit():
    field = IDO.field("shiharaisha_hojin_bango")
    assert validate_field(field, "7000012050002") == []
    assert validate_field(field, "7123456789012") == []
    assert validate_field(field, "8000012050002") == ["check_digit"]
    assert validate_field(field, "7000012050003") == ["check_digit"]


def test_amounts():
    nenzeigaku = IDO.field("nenzeigaku")
    assert validate_field(nenzeigaku, "123400") == []
    assert validate_field(nenzeigaku, "0") == []
    assert validate_field(nenzeigaku, "100000000") == []  # exactly 1億
    assert validate_field(nenzeigaku, "100000001") == ["implausible_amount"]
    assert validate_field(nenzeigaku, "-5000") == ["implausible_amount"]
    assert validate_field(nenzeigaku, "12a4") == ["not_digits"]
    assert validate_field(nenzeigaku, 123400) == []


def test_amount_validators_from_the_template():
    loss = spec(validators=["allow_negative", "max_amount:10_000_000_000"])
    assert validate_field(loss, "-2500000") == []
    assert validate_field(loss, "5000000000") == []
    assert validate_field(loss, "50000000000") == ["implausible_amount"]
    ranged = spec(validators=["range:1000:99999"])
    assert validate_field(ranged, "999") == ["out_of_range"]
    assert validate_field(ranged, "1000") == []


def test_digits_range():
    month = spec(kind="digits", label="月", validators=["range:1:12"])
    assert validate_field(month, "12") == []
    assert validate_field(month, "13") == ["out_of_range"]
    assert validate_field(month, "0") == ["out_of_range"]
    assert validate_field(IDO.field("shitei_bango"), "00123456") == []


def test_choice_and_era_membership():
    assert validate_field(IDO.field("choshu_hoho"), "一括徴収") == []
    assert validate_field(IDO.field("choshu_hoho"), "退職") == ["out_of_range"]
    assert validate_field(IDO.field("seinengappi_era"), "昭和") == []
    assert validate_field(IDO.field("seinengappi_era"), "天平") == ["out_of_range"]


def test_birth_date():
    birth = IDO.field("seinengappi")  # label 生年月日
    assert validate_field(birth, "1985-04-12", today=TODAY) == []
    assert validate_field(birth, "2025-06-10", today=TODAY) == []
    assert validate_field(birth, "2025-06-11", today=TODAY) == ["date_out_of_range"]
    assert validate_field(birth, "1899-12-31", today=TODAY) == ["date_out_of_range"]
    assert validate_field(birth, "1985-02-30", today=TODAY) == ["bad_date"]
    assert validate_field(birth, date(1985, 4, 12), today=TODAY) == []


def test_other_dates_may_lie_a_little_ahead():
    ido = IDO.field("ido_nengappi")
    assert validate_field(ido, "2025-06-30", today=TODAY) == []  # a retirement announced in advance
    assert validate_field(ido, "2027-06-30", today=TODAY) == ["date_out_of_range"]
    assert validate_field(ido, "2025-13-01", today=TODAY) == ["bad_date"]
    assert validate_field(spec(kind="date_wareki", era="令和", label="退職日", validators=["birth_date"]),
                          "2025-07-01", today=TODAY) == ["date_out_of_range"]


def test_unknown_validator_is_reported_not_ignored():
    assert validate_field(spec(validators=["max_amout:100"]), "5") == ["unknown_validator:max_amout:100"]
    assert validate_field(spec(validators=["range:5"]), "5") == ["unknown_validator:range:5"]


def test_as_integer():
    assert as_integer("-12000") == -12000
    assert as_integer("007") == 7
    assert as_integer(True) is None
    assert as_integer("1,000") is None
    assert as_integer("１２") is None
    assert as_integer(None) is None


# --- （ウ）未徴収税額 = （ア）年税額 − （イ）徴収済額 ----------------------------------------------------------------
# 年税額 123,400: 7月以降の月割額 10,200 (100円未満切捨て), 6月分 11,200 takes the remainder.
# 6月〜9月分 collected = 11,200 + 3 × 10,200 = 41,800, so 81,600 remains.

def test_michoshu_rule_holds():
    values = {"nenzeigaku": "123400", "choshuzumi_gaku": "41800", "michoshu_gaku": "81600"}
    assert validate_cross_fields(IDO, values) == {}


def test_michoshu_rule_fails_on_a_misread():
    values = {"nenzeigaku": "123400", "choshuzumi_gaku": "41800", "michoshu_gaku": "81000"}
    reason = "cross_field:michoshu_equals_difference"
    assert validate_cross_fields(IDO, values) == {
        "michoshu_gaku": [reason], "nenzeigaku": [reason], "choshuzumi_gaku": [reason]}


def test_michoshu_rule_everything_collected():
    values = {"nenzeigaku": "123400", "choshuzumi_gaku": "123400", "michoshu_gaku": "0"}
    assert validate_cross_fields(IDO, values) == {}


@pytest.mark.parametrize("values", [
    {"nenzeigaku": "123400", "choshuzumi_gaku": "41800", "michoshu_gaku": None},
    {"nenzeigaku": "123400", "choshuzumi_gaku": "41800"},
    {"nenzeigaku": "123400", "choshuzumi_gaku": "4l800", "michoshu_gaku": "81000"},
    {"nenzeigaku": True, "choshuzumi_gaku": "41800", "michoshu_gaku": "81000"},
])
def test_michoshu_rule_skipped_when_inputs_are_missing_or_not_numbers(values):
    assert validate_cross_fields(IDO, values) == {}


def test_cross_fields_accept_ints():
    assert validate_cross_fields(IDO, {"nenzeigaku": 123400, "choshuzumi_gaku": 41800, "michoshu_gaku": 81600}) == {}


def test_several_rules_name_only_the_fields_of_the_failing_one():
    from ocr.templates import Template

    def amount(name, y):
        return {"name": name, "label": name, "box": [10, y, 50, 8], "kind": "amount"}

    template = Template.model_validate({
        "form_id": "t", "title": "t", "version": "1", "page": {"width_mm": 210, "height_mm": 297},
        "fields": [amount("a", 10), amount("b", 20), amount("c", 30), amount("d", 40), amount("e", 50)],
        "cross_field_rules": [
            {"name": "total", "expression": "a = b + c - d", "message": "合計"},
            {"name": "copy", "expression": "e = a", "message": "転記"},
        ],
    })
    assert validate_cross_fields(template, {"a": "150", "b": "100", "c": "70", "d": "20", "e": "150"}) == {}
    assert validate_cross_fields(template, {"a": "150", "b": "100", "c": "70", "d": "20", "e": "15"}) == {
        "e": ["cross_field:copy"], "a": ["cross_field:copy"]}
    failing_both = validate_cross_fields(template, {"a": "160", "b": "100", "c": "70", "d": "20", "e": "150"})
    assert failing_both["a"] == ["cross_field:total", "cross_field:copy"]
    assert set(failing_both) == {"a", "b", "c", "d", "e"}


@pytest.mark.parametrize("account, reasons", [
    ("三菱UFJ銀行大田支店 普通 7513163", []),
    ("京葉信用金庫調布支店 当座預金 0012345", []),
    ("京葉信用金庫調布支店 普通 998948", ["account_number_length"]),  # the last digit dropped at the frame
    ("千葉銀行本店 普通 12345678", ["account_number_length"]),
    ("千葉銀行本店 普通", ["account_number_length"]),
    ("ゆうちょ銀行 記号12345 番号12345671", []),  # ゆうちょ writes 記号・番号 otherwise: not checked
])
def test_a_bank_account_number_has_seven_digits(account, reasons):
    field = load_template("hojin_shinkoku").field("kanpu_kinyu_kikan")
    assert validate_field(field, account) == reasons
