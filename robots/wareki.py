"""Which era a Western date falls in, and its year in that era (facts of the calendar, not of any system)."""
from __future__ import annotations

from datetime import date

# (name, letter, first day) newest first; an era runs until the next one starts.
_ERAS: tuple[tuple[str, str, date], ...] = (
    ("令和", "R", date(2019, 5, 1)),
    ("平成", "H", date(1989, 1, 8)),
    ("昭和", "S", date(1926, 12, 25)),
    ("大正", "T", date(1912, 7, 30)),
    ("明治", "M", date(1868, 1, 25)),
)


def era_of(day: date) -> tuple[str, str, int]:
    """(era name, era letter, year in the era) of a date; 元年 is year 1."""
    for name, letter, first_day in _ERAS:
        if day >= first_day:
            return name, letter, day.year - first_day.year + 1
    raise ValueError("the date lies before 明治")
