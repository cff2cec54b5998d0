"""The legacy system's own 和暦: 元号 codes 1–5 and 7-character dates "GYYMMDD" (e.g. 3600412 = 昭和60年4月12日).

The simulator keeps its own copy of the era table rather than sharing the robot's: it stands for an outside
system, and a shared bug would hide itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Era:
    code: str
    name: str
    letter: str
    first_day: date
    last_day: date | None

    @property
    def offset(self) -> int:
        return self.first_day.year - 1


ERAS: tuple[Era, ...] = (
    Era("1", "明治", "M", date(1868, 1, 25), date(1912, 7, 29)),
    Era("2", "大正", "T", date(1912, 7, 30), date(1926, 12, 24)),
    Era("3", "昭和", "S", date(1926, 12, 25), date(1989, 1, 7)),
    Era("4", "平成", "H", date(1989, 1, 8), date(2019, 4, 30)),
    Era("5", "令和", "R", date(2019, 5, 1), None),
)
ERAS_BY_CODE = {era.code: era for era in ERAS}


def to_western(era_code: str, year: int, month: int, day: int) -> date | None:
    """The Western date, or None when it is no real day of that era (e.g. 昭和64年2月1日)."""
    era = ERAS_BY_CODE.get(era_code)
    if era is None or year < 1:
        return None
    try:
        western = date(era.offset + year, month, day)
    except ValueError:
        return None
    if western < era.first_day or (era.last_day is not None and western > era.last_day):
        return None
    return western


def era_of(day: date) -> tuple[Era, int]:
    for era in reversed(ERAS):
        if day >= era.first_day:
            return era, day.year - era.offset
    raise ValueError(f"{day} lies before 明治")


def encode(era_code: str, year: int, month: int, day: int) -> str:
    return f"{era_code}{year:02d}{month:02d}{day:02d}"


def display(encoded: str) -> str:
    """3600412 → 昭和60年04月12日, as the screens show it."""
    era = ERAS_BY_CODE[encoded[0]]
    return f"{era.name}{encoded[1:3]}年{encoded[3:5]}月{encoded[5:7]}日"
