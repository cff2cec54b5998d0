from datetime import date

import pytest

from ocr.wareki import (
    ERAS,
    WarekiError,
    date_to_wareki,
    format_wareki,
    get_era,
    is_heisei_carry_over,
    parse_wareki_text,
    wareki_parts,
    wareki_to_date,
)


def test_era_table_is_contiguous():
    for earlier, later in zip(ERAS, ERAS[1:]):
        assert (later.first_day - earlier.last_day).days == 1
    assert [e.code for e in ERAS] == [1, 2, 3, 4, 5]
    assert "".join(e.letter for e in ERAS) == "MTSHR"


@pytest.mark.parametrize("key", ["令和", "令", "R", "r", 5, "5", "５"])
def test_get_era_by_any_name(key):
    assert get_era(key).name == "令和"


def test_unknown_era():
    with pytest.raises(WarekiError, match="unknown era"):
        get_era("天平")


@pytest.mark.parametrize("era, y, m, d, expected", [
    ("令和", 6, 4, 15, date(2024, 4, 15)),
    ("令和", 1, 5, 1, date(2019, 5, 1)),
    ("平成", 31, 4, 30, date(2019, 4, 30)),
    ("平成", 1, 1, 8, date(1989, 1, 8)),
    ("昭和", 64, 1, 7, date(1989, 1, 7)),
    ("昭和", 1, 12, 25, date(1926, 12, 25)),
    ("昭和", 60, 4, 12, date(1985, 4, 12)),
    ("大正", 15, 12, 24, date(1926, 12, 24)),
    ("明治", 45, 7, 29, date(1912, 7, 29)),
    ("平成", 8, 2, 29, date(1996, 2, 29)),
])
def test_wareki_to_date(era, y, m, d, expected):
    assert wareki_to_date(era, y, m, d) == expected
    assert date_to_wareki(expected) == (era, y, m, d)


@pytest.mark.parametrize("era, y, m, d, words", [
    ("昭和", 64, 1, 8, "終わり"),
    ("平成", 1, 1, 7, "始まり"),
    ("令和", 1, 4, 30, "始まり"),
    ("平成", 32, 1, 1, "終わり"),
    ("令和", 6, 2, 30, "存在しない"),
    ("平成", 9, 2, 29, "存在しない"),
    ("令和", 0, 1, 1, "元年"),
    ("大正", 15, 12, 25, "終わり"),
])
def test_wareki_to_date_refuses_days_outside_the_era(era, y, m, d, words):
    with pytest.raises(WarekiError, match=words):
        wareki_to_date(era, y, m, d)


def test_error_message_is_japanese_and_english():
    with pytest.raises(WarekiError) as caught:
        wareki_to_date("昭和", 64, 1, 8)
    assert "昭和64年1月8日" in str(caught.value) and "lies after the end of 昭和" in str(caught.value)


def test_heisei_31_after_april_is_accepted_as_reiwa_unless_strict():
    assert is_heisei_carry_over("平成", 31, 5, 1)
    assert not is_heisei_carry_over("平成", 31, 4, 30)
    assert wareki_to_date("平成", 31, 5, 1) == date(2019, 5, 1) == wareki_to_date("令和", 1, 5, 1)
    assert wareki_to_date("H", 31, 12, 31) == date(2019, 12, 31)
    with pytest.raises(WarekiError):
        wareki_to_date("平成", 31, 5, 1, strict=True)


def test_date_before_meiji():
    with pytest.raises(WarekiError, match="明治"):
        date_to_wareki(date(1868, 1, 24))


@pytest.mark.parametrize("text, era, expected", [
    ("令和6年4月15日", None, date(2024, 4, 15)),
    ("6年4月15日", "令和", date(2024, 4, 15)),
    ("令和元年5月1日", None, date(2019, 5, 1)),
    ("元年5月1日", "令和", date(2019, 5, 1)),
    ("令和６年４月１５日", None, date(2024, 4, 15)),
    ("令和 6 年 4 月 15 日", None, date(2024, 4, 15)),
    ("令和　６年　４月１５日", "令和", date(2024, 4, 15)),
    ("昭和60年4月12日", "昭和", date(1985, 4, 12)),
    ("60年4月12日", "昭", date(1985, 4, 12)),
    ("平成31年4月30日", None, date(2019, 4, 30)),
    ("㍻31年4月30日", None, date(2019, 4, 30)),
    ("R6.4.15", None, date(2024, 4, 15)),
    ("H31/4/30", None, date(2019, 4, 30)),
    ("R070415", None, date(2025, 4, 15)),
    ("3600412", None, date(1985, 4, 12)),
    ("070415", "令和", date(2025, 4, 15)),
    ("6 4 15", "令和", date(2024, 4, 15)),
    ("令6年4月15日", None, date(2024, 4, 15)),
    # slips the engine makes
    ("令和6年4月15H", None, date(2024, 4, 15)),
    ("令和6年4月15目", None, date(2024, 4, 15)),
    ("6生4月15日", "令和", date(2024, 4, 15)),
    ("令和6年4月1O日", None, date(2024, 4, 10)),
    ("今和6年4月15日", "令和", date(2024, 4, 15)),
    ("6年4月15", "令和", date(2024, 4, 15)),
])
def test_parse_wareki_text(text, era, expected):
    assert parse_wareki_text(text, era) == expected


@pytest.mark.parametrize("text, era, words", [
    ("", "令和", "空"),
    ("6年4月15日", None, "no era"),
    ("平成6年4月15日", "令和", "contradicts"),
    ("令和6年13月1日", None, "存在しない"),
    ("令和6年4月", None, "cannot read"),
    ("今和6年4月15日", None, "cannot read"),
    ("山田6年4月15日", "令和", "cannot read"),
    ("令和6年4月15日生", None, "cannot read"),
    ("H6年4月15H5", None, "cannot read"),
])
def test_parse_wareki_text_refuses(text, era, words):
    with pytest.raises(WarekiError, match=words):
        parse_wareki_text(text, era)


def test_formats():
    d = date(2025, 4, 15)
    assert format_wareki(d, "letter") == "R070415"
    assert format_wareki(d, "code") == "5070415"
    assert format_wareki(d, "kanji") == "令和7年4月15日"
    assert format_wareki(d, "kanji_padded") == "令和07年04月15日"
    assert format_wareki(d, "dotted") == "R7.4.15"
    assert format_wareki(date(2019, 5, 1), "kanji") == "令和元年5月1日"
    assert format_wareki(date(1985, 4, 12), "code") == "3600412"
    parts = wareki_parts(date(1985, 4, 12))
    assert (parts.era_name, parts.era_letter, parts.era_code, parts.year, parts.month, parts.day) == (
        "昭和", "S", "3", "60", "04", "12")


@pytest.mark.parametrize("d", [date(1912, 7, 30), date(1989, 1, 7), date(1989, 1, 8), date(2019, 5, 1),
                               date(2026, 2, 28)])
def test_round_trip_through_text(d):
    for style in ("letter", "code", "kanji", "kanji_padded", "dotted"):
        assert parse_wareki_text(format_wareki(d, style)) == d
