"""Cross-field rule grammar and the tax arithmetic the rules call (worked values from forms.md)."""
from __future__ import annotations

import pytest

from ocr.rules import RuleSyntaxError, holds, parse_rule
from ocr.tax_rules import floor_to, kintowari, kyuyo_shotoku, tax_at_rate, yotei_shinkoku


@pytest.mark.parametrize("payment, nenbun, expected", [
    (1_800_000, 2024, 1_180_000), (5_900_000, 2024, 4_280_000), (6_847_500, 2024, 5_062_750),
    (9_000_000, 2024, 7_050_000), (500_000, 2024, 0), (1_619_500, 2024, 1_069_000), (1_700_000, 2024, 1_120_000),
    (650_000, 2025, 0), (1_000_000, 2025, 350_000), (1_899_999, 2025, 1_249_999), (1_900_000, 2025, 1_250_000),
])
def test_kyuyo_shotoku_follows_the_table(payment, nenbun, expected):
    assert kyuyo_shotoku(payment, nenbun) == expected


def test_kintowari_by_capital_employees_and_months():
    assert kintowari(10_000_000, 5, 12) == 50_000
    assert kintowari(10_000_000, 5, 4) == 16_600  # 50,000 × 4/12 = 16,666 → 100円未満切捨
    assert kintowari(10_000_001, 51, 12) == 150_000
    assert kintowari(6_000_000_000, 60, 6) == 1_500_000


def test_rounding_and_rates():
    assert floor_to(1_234_567, 1000) == 1_234_000
    assert floor_to(-1_234_567, 100) == -1_234_500
    assert tax_at_rate(1_234_000, 600) == 74_000  # 74,040 → 100円未満切捨
    assert yotei_shinkoku(123_400, 12) == 61_700


def test_rules_parse_and_hold():
    rule = parse_rule("michoshu = nenzei - choshuzumi")
    assert rule.names() == ["michoshu", "nenzei", "choshuzumi"]
    assert holds(rule, {"michoshu": 7, "nenzei": 10, "choshuzumi": 3}, {}) is True
    assert holds(rule, {"michoshu": 8, "nenzei": 10, "choshuzumi": 3}, {}) is False
    assert holds(rule, {"michoshu": 8, "nenzei": None, "choshuzumi": 3}, {}) is None
    table = parse_rule("after = kyuyo_shotoku(payment, nenbun) - adjustment")
    assert holds(table, {"after": 1_180_000, "payment": 1_800_000, "adjustment": 0}, {"nenbun": 2024}) is True
    assert holds(parse_rule("uchi <= total"), {"uchi": 5, "total": 4}, {}) is False
    assert holds(parse_rule("zero = remainder(gensen, 100)"), {"zero": 0, "gensen": 12_300}, {}) is True


@pytest.mark.parametrize("text", ["a = ", "= b", "a == b", "a = b c", "a = unknown_fn(b)", "a = b(", "a ? b"])
def test_broken_rules_are_refused(text):
    with pytest.raises(RuleSyntaxError):
        parse_rule(text)


def test_tokucho_months_run_june_to_may():
    from ocr.tax_rules import tokucho_order
    assert [tokucho_order(m) for m in (6, 7, 12, 1, 5)] == [0, 1, 6, 7, 11]
    assert tokucho_order(13) == 99 and tokucho_order(0) == 99


def test_monthly_amounts_put_the_remainder_in_june():
    from ocr.tax_rules import tokucho_collected, tokucho_monthly
    # 年税額 123,400: 123,400 ÷ 12 = 10,283 → 月割額 10,200, 6月分 123,400 − 11 × 10,200 = 11,200 (地方税法321条の5).
    assert tokucho_monthly(123_400) == 10_200
    assert tokucho_collected(123_400, 6, 6) == 11_200
    assert tokucho_collected(123_400, 6, 9) == 11_200 + 3 * 10_200
    assert tokucho_collected(123_400, 10, 5) == 8 * 10_200
    assert tokucho_collected(123_400, 6, 5) == 123_400
    assert tokucho_collected(123_400, 9, 7) == -1  # months out of order sum to nothing that can match


def test_monthly_share_and_month_of_a_date():
    from ocr.tax_rules import month_of, monthly_share
    assert monthly_share(50_000, 4) == 16_600 and monthly_share(120_000, 12) == 120_000
    assert month_of(20250930) == 9


def test_a_rule_may_compute_on_its_left_side():
    rule = parse_rule("tokucho_order(made) >= tokucho_order(kara)")
    assert rule.target == "made" and not rule.target_alone and rule.names() == ["made", "kara"]
    assert holds(rule, {"made": 2, "kara": 6}, {}) is True  # 6月分から翌2月分まで
    assert holds(rule, {"made": 5, "kara": 7}, {}) is True
    assert holds(rule, {"made": 6, "kara": 7}, {}) is False  # 7月分から6月分まで: backwards
    assert parse_rule("michoshu = nenzei - choshuzumi").target_alone
