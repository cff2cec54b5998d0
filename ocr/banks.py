"""Bank and branch names against the Zengin data (`zengin-code`, offline): which 金融機関 a 還付口座 begins with,
and whether the branch written after it is one of that institution's branches.

The recogniser reads 「りそな銀行」 as 「り)そな銀行」 at 0.99, and a branch name is as easily misread as a town's.
The Zengin data knows every bank, 信用金庫, 信用組合, 労働金庫 and 農協 with its branches (about 1,150
institutions, 30,000 branches), so an account whose institution or branch is none of them goes to a person, as an
address whose place name is not in the postal data does (ocr/addresses.py). Nothing is corrected here.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Zengin writes the kind of institution short (千葉信金); a form writes it in full (千葉信用金庫), or short.
_SHORT_TO_FULL = (("信金", "信用金庫"), ("信組", "信用組合"), ("労金", "労働金庫"), ("農協", "農業協同組合"),
                  ("漁協", "漁業協同組合"), ("信漁連", "信用漁業協同組合連合会"), ("信連", "信用農業協同組合連合会"))
# Zengin codes below this are banks, whose names Zengin writes without 「銀行」 (りそな, 三菱UFJ).
_BANK_CODE_LIMIT = 1000
_BRANCH_ENDINGS = ("支店", "出張所", "支所", "営業部", "本店", "営業所")


@dataclass(frozen=True)
class BankCheck:
    bank_known: bool
    branch_known: bool | None  # None: no branch written, or the bank unknown
    bank: str | None = None  # the institution's name as written on the form


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").replace(" ", "").replace("\u3000", "")


@lru_cache(maxsize=1)
def _institutions() -> dict[str, str]:
    """Every way a form writes an institution's name → its Zengin code."""
    from zengin_code import Bank

    names: dict[str, str] = {}
    for code, bank in Bank.all.items():
        name = _plain(bank.name)
        # A bank is written with its 「銀行」 (ゆうちょ銀行 too): a bare 「京葉」 is the start of 京葉信用金庫 as well.
        is_bank = (code.isdigit() and int(code) < _BANK_CODE_LIMIT) or name == "ゆうちょ"
        spellings = {name + "銀行"} if is_bank else {name}
        for short, full in _SHORT_TO_FULL:
            if name.endswith(short):
                spellings.add(name[: -len(short)] + full)
        for spelling in spellings:
            names.setdefault(spelling, code)
    return names


@lru_cache(maxsize=2048)
def _branches(code: str) -> frozenset[str]:
    from zengin_code import Bank

    return frozenset(_plain(branch.name) for branch in Bank.all[code].branches.values())


def check_bank_account(text: str) -> BankCheck:
    """Whether an account written 「<金融機関><支店> <種目> <番号>」 names a real institution and branch."""
    plain = _plain(text)
    institutions = _institutions()
    matches = [name for name in institutions if plain.startswith(name)]
    if not matches:
        return BankCheck(False, None)
    bank = max(matches, key=len)
    rest = plain[len(bank):]
    branch_text = _branch_part(rest)
    if branch_text is None:
        return BankCheck(True, None, bank)
    branches = _branches(institutions[bank])
    known = branch_text in branches or any(branch_text == b + ending or b == branch_text + ending
                                           for b in branches for ending in _BRANCH_ENDINGS if b.startswith(branch_text[:1]))
    return BankCheck(True, known, bank)


def _branch_part(rest: str) -> str | None:
    """The branch as written, up to and without its 「支店」, or the whole of a 「…営業部」 / 「本店」 name."""
    best: int | None = None
    for ending in _BRANCH_ENDINGS:
        at = rest.find(ending)
        if at >= 0 and (best is None or at < best):
            best, found = at, ending
    if best is None:
        return None
    if found == "支店":
        return rest[:best]
    return rest[:best + len(found)]
