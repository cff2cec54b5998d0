"""和暦 (Japanese era) dates: the era table, conversion both ways, parsing OCR text, formats for legacy screens.

Decision on 平成31年5月以降: forms printed before the 改元 say 平成 and people kept writing 平成31年 for the rest
of 2019 (forms.md §5). Such a date is accepted as the same day of 令和元年 — it names one Gregorian day without
doubt — unless the caller asks for `strict=True`. `is_heisei_carry_over()` tells a caller that wants to know.
Nothing else outside an era is accepted: 昭和64年1月8日 and 平成32年 are errors.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal


class WarekiError(ValueError):
    """A 和暦 date that does not exist or cannot be read; the message is Japanese, then English."""


@dataclass(frozen=True)
class Era:
    name: str
    abbreviation: str  # the single character circled or printed on forms: 明 大 昭 平 令
    letter: str  # JIS X 0301
    code: int  # NTA / eLTAX data specs (not 日本年金機構's 5/7/9)
    first_day: date
    last_day: date | None

    @property
    def offset(self) -> int:
        """Western year = era year + offset."""
        return self.first_day.year - 1

    @property
    def last_year(self) -> int | None:
        return None if self.last_day is None else self.last_day.year - self.offset


# 明治 began (by the 改元 of 1868-10-23, made retroactive) on 1868-01-25; dates before 明治6 were lunar on paper.
ERAS: tuple[Era, ...] = (
    Era("明治", "明", "M", 1, date(1868, 1, 25), date(1912, 7, 29)),
    Era("大正", "大", "T", 2, date(1912, 7, 30), date(1926, 12, 24)),
    Era("昭和", "昭", "S", 3, date(1926, 12, 25), date(1989, 1, 7)),
    Era("平成", "平", "H", 4, date(1989, 1, 8), date(2019, 4, 30)),
    Era("令和", "令", "R", 5, date(2019, 5, 1), None),
)
ERA_NAMES = tuple(era.name for era in ERAS)
HEISEI_CARRY_OVER_LAST_DAY = date(2019, 12, 31)


def get_era(era: str | int) -> Era:
    """An era by name (令和), abbreviation (令), letter (R or r) or code (5 or "5")."""
    key = str(era).strip()
    key = unicodedata.normalize("NFKC", key)
    for candidate in ERAS:
        if key in (candidate.name, candidate.abbreviation, candidate.letter, candidate.letter.lower(),
                   str(candidate.code)):
            return candidate
    raise WarekiError(f"元号「{era}」は不明です / unknown era {era!r}")


def is_heisei_carry_over(era: str | int, year: int, month: int, day: int) -> bool:
    """平成31年 written for a day from 2019-05-01 on: a real day, but of 令和元年."""
    if get_era(era).name != "平成" or year != 31:
        return False
    try:
        western = date(2019, month, day)
    except ValueError:
        return False
    return western > ERAS[3].last_day  # type: ignore[operator]


def wareki_to_date(era: str | int, year: int, month: int, day: int, *, strict: bool = False) -> date:
    """The Western date of era/year/month/day; WarekiError when no such day exists in that era."""
    era_info = get_era(era)
    label = f"{era_info.name}{_year_label(year)}{month}月{day}日"
    if year < 1:
        raise WarekiError(f"{label}: 年は1（元年）以上です / era year must be 1 or more, got {year}")
    try:
        western = date(era_info.offset + year, month, day)
    except ValueError:
        raise WarekiError(f"{label}は存在しない日付です / {era_info.name} {year}-{month}-{day} is no real date") from None
    if western < era_info.first_day:
        raise WarekiError(f"{label}は{era_info.name}の始まり（{era_info.first_day}）より前です / "
                          f"{western} lies before the start of {era_info.name} ({era_info.first_day})")
    if era_info.last_day is not None and western > era_info.last_day:
        if not strict and is_heisei_carry_over(era_info.name, year, month, day):
            return western
        raise WarekiError(f"{label}は{era_info.name}の終わり（{era_info.last_day}）より後です / "
                          f"{western} lies after the end of {era_info.name} ({era_info.last_day})")
    return western


def _year_label(year: int) -> str:
    return "元年" if year == 1 else f"{year}年"


def era_of(d: date) -> Era:
    for era in reversed(ERAS):
        if d >= era.first_day:
            return era
    raise WarekiError(f"{d}は明治より前です / {d} lies before 明治 (1868-01-25)")


def date_to_wareki(d: date) -> tuple[str, int, int, int]:
    """(era name, era year, month, day), e.g. date(2024, 4, 15) → ("令和", 6, 4, 15)."""
    era = era_of(d)
    return era.name, d.year - era.offset, d.month, d.day


@dataclass(frozen=True)
class WarekiParts:
    """What a screen with an era select and three boxes wants, zero-padded to two digits."""
    era_name: str
    era_letter: str
    era_code: str
    year: str
    month: str
    day: str


def wareki_parts(d: date) -> WarekiParts:
    era = era_of(d)
    return WarekiParts(era.name, era.letter, str(era.code), f"{d.year - era.offset:02d}", f"{d.month:02d}",
                       f"{d.day:02d}")


WarekiStyle = Literal["letter", "code", "kanji", "kanji_padded", "dotted"]


def format_wareki(d: date, style: WarekiStyle = "kanji") -> str:
    """letter "R070415", code "5070415", kanji "令和7年4月15日" (元年 for year 1), kanji_padded "令和07年04月15日",
    dotted "R7.4.15"."""
    parts = wareki_parts(d)
    if style == "letter":
        return f"{parts.era_letter}{parts.year}{parts.month}{parts.day}"
    if style == "code":
        return f"{parts.era_code}{parts.year}{parts.month}{parts.day}"
    if style == "kanji":
        return f"{parts.era_name}{_year_label(int(parts.year))}{d.month}月{d.day}日"
    if style == "kanji_padded":
        return f"{parts.era_name}{parts.year}年{parts.month}月{parts.day}日"
    if style == "dotted":
        return f"{parts.era_letter}{int(parts.year)}.{d.month}.{d.day}"
    raise ValueError(f"unknown wareki style {style!r}")


# --- parsing OCR text ---------------------------------------------------------------------------------------

_ERA_TOKEN = "|".join(
    [era.name for era in ERAS] + [era.abbreviation for era in ERAS] + [era.letter for era in ERAS])
# Slips the engine makes that cannot mean anything else in their position: 年 read as 生, and the closing 日
# read as H, 目 or 曰. A letter H is only taken for 日 after the day's digits, never at the front (平成's H).
_YEAR_MARK = r"(?:[年生]|[./\-]|\s)"
_MONTH_MARK = r"(?:月|[./\-]|\s)"
_DAY_MARK = r"[日H目曰]?"
# In a number slot only: O/o read for 0, l/I/| for 1. S/B/Z are left alone here (S is also 昭和's letter).
_NUMBER = r"(?:\d|[Ool|I]){1,2}"
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"})

_SPELLED = re.compile(
    rf"^(?P<era>{_ERA_TOKEN})?\s*(?P<year>元|{_NUMBER})\s*{_YEAR_MARK}\s*(?P<month>{_NUMBER})\s*{_MONTH_MARK}"
    rf"\s*(?P<day>{_NUMBER})\s*{_DAY_MARK}$")
# "R070415", "5070415", or "070415" when the era is known: how legacy screens and CSV files write dates.
_COMPACT = re.compile(r"^(?P<era>[MTSHR1-5])?(?P<year>\d{2})(?P<month>\d{2})(?P<day>\d{2})$")
_UNKNOWN_PREFIX = re.compile(r"^(?P<prefix>[^\d元\s]{1,2})\s*(?P<rest>(?:元|\d).*)$")


def parse_wareki_text(text: str, era: str | None = None, *, strict: bool = False) -> date:
    """The date in OCR text such as "令和6年4月15日", "6年4月15日" (era given), "元年5月1日", "R6.4.15".

    `era` is the era known from elsewhere (a circled mark, or printed on the form). An era written in the text
    must agree with it. A prefix that is not an era but shares a character with the given era ("今和" for a
    printed 令和) is taken as a misread of the printed era.
    """
    cleaned = _clean(text)
    if not cleaned:
        raise WarekiError(f"日付が空です / no date in {text!r}")
    known_era = get_era(era) if era else None

    match = _COMPACT.match(cleaned.replace(" ", ""))
    if match and (match["era"] or known_era):
        text_era = get_era(match["era"]) if match["era"] else None
        chosen = _agreeing_era(text_era, known_era, text)
        return wareki_to_date(chosen.name, int(match["year"]), int(match["month"]), int(match["day"]),
                              strict=strict)

    match = _SPELLED.match(cleaned)
    if match is None and known_era is not None:
        misread = _UNKNOWN_PREFIX.match(cleaned)
        if misread and set(misread["prefix"]) & set(known_era.name):
            match = _SPELLED.match(misread["rest"])
    if match is None:
        raise WarekiError(f"「{text}」を和暦の日付として読めません / cannot read {text!r} as an era date")
    text_era = get_era(match["era"]) if match["era"] else None
    chosen = _agreeing_era(text_era, known_era, text)
    year = 1 if match["year"] == "元" else _number(match["year"])
    return wareki_to_date(chosen.name, year, _number(match["month"]), _number(match["day"]), strict=strict)


def _clean(text: str) -> str:
    # NFKC turns full-width digits and spaces into ASCII and ㍻/㋿ into 平成/令和.
    normalized = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", " ", normalized).strip()


def _number(token: str) -> int:
    return int(token.translate(_DIGIT_LOOKALIKES))


def _agreeing_era(text_era: Era | None, known_era: Era | None, text: str) -> Era:
    if text_era and known_era and text_era != known_era:
        raise WarekiError(f"「{text}」の元号{text_era.name}が{known_era.name}と食い違います / "
                          f"the era in {text!r} ({text_era.name}) contradicts {known_era.name}")
    chosen = text_era or known_era
    if chosen is None:
        raise WarekiError(f"「{text}」に元号がありません / no era in {text!r} and none given")
    return chosen
