"""Real place names for generated addresses: a 都道府県 + 市区町村 + 町域 from the postal code data (the same data
the reader checks addresses against, ocr/addresses.py).

Faker's ja_JP addresses join a random prefecture, city and town (「大分県西東京市押上」), none of which a reader
can check. The place is replaced by a real one chosen from the Faker text itself (a stable hash), so a seed
draws exactly as many random numbers as before and every other generated value stays what it was.
"""
from __future__ import annotations

import re
import zlib
from functools import lru_cache

from ocr.addresses import place_names

_PLACE_PART = re.compile(r"^\D*")  # everything before the first digit: the place name Faker made up


@lru_cache(maxsize=16)
def _places(prefecture: str | None, city_prefix: str | None) -> tuple[str, ...]:
    names = place_names()
    return tuple(sorted(f"{p}{city}{town}" for (p, city), towns in names.towns_by_city.items() for town in towns
                        if (prefecture is None or p == prefecture)
                        and (city_prefix is None or city.startswith(city_prefix))))


def real_place(hint: str, *, prefecture: str | None = None, city_prefix: str | None = None) -> str:
    """A real 都道府県 + 市区町村 + 町域 (in `prefecture`, in a municipality starting with `city_prefix`), the same
    one for the same `hint`."""
    places = _places(prefecture, city_prefix)
    if not places:
        raise ValueError(f"no place in the postal data for {prefecture!r} {city_prefix!r}")
    return places[zlib.crc32(hint.encode("utf-8")) % len(places)]


def at_a_real_place(faker_address: str) -> str:
    """Faker's address with its made-up place replaced by a real one; 丁目・番地 and building kept."""
    return real_place(faker_address) + _PLACE_PART.sub("", faker_address, count=1)
