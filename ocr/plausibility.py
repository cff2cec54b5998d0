"""Which characters are plausible in an address, a person's or an organisation's name, and which words a 'terms'
field is written with: evidence about a reading that the engine's score does not give.

The engine misreads 丁目 as 「JH」 or 「丁H」 and ハイツ as 「八イツ」 at scores above 0.98. Japanese addresses and
names do not mix Latin letters into kanji, nor a katakana-shaped kanji (八 力 口 工 夕 卜 二 一 了) into a katakana
word, and the register's characters are all in Windows-31J (cp932, which holds 髙 and 﨑 too): anything else is
asked of a person, never corrected here.
"""
from __future__ import annotations

import re

_KATAKANA = "ァ-ヺー"
# Kanji shaped like a katakana letter. Beside katakana they are a misread (八イツ, 了ーバン, ス力イ), except in the
# place-name patterns that really are written so (一ツ橋, 八ヶ岳, 二ノ宮, 八ツ山); after katakana only between two
# katakana or at the end (ス力イ), since a company name goes on in kanji (スカイ工業).
_KATAKANA_SHAPED_KANJI = "八力口工夕卜二一了"
_PLACE_NAME_KANA = "ツノケヶッ"
_LATIN_BETWEEN_JAPANESE = re.compile(r"[A-Za-z]")
_STRAY_PUNCTUATION = re.compile(r"[,.:;#!?*\"'@$%^&_=+<>|\\~`\[\]{}]")
_KANJI_BEFORE_KANA = re.compile(f"[{_KATAKANA_SHAPED_KANJI}](?=[{_KATAKANA}])")
_KANJI_AMONG_KANA = re.compile(f"(?<=[{_KATAKANA}])[{_KATAKANA_SHAPED_KANJI}](?=[{_KATAKANA}]|$)")
CHECKED_CONTENT = ("address", "person_name", "organisation_name")
# A building's or a company's katakana name is a loanword, where イ-row kana take a small ャュョ (シャルム, ニュー); the
# engine reads them large at 0.99. Official names that really keep them large (キヤノン) are rare enough to ask.
_LARGE_YOON_IN_LOANWORD = re.compile("(?<=[キギシジチヂニヒビピミリ])[ヤユヨ]")
_NUMBER_WITHOUT_GO = re.compile(r"丁目\d+番\d+$")


def implausible_characters(text: str, content: str | None) -> list[str]:
    """The characters of `text` that a field holding `content` should not contain (empty when plausible)."""
    if content not in CHECKED_CONTENT or not text:
        return []
    found: list[str] = []
    found += _LATIN_BETWEEN_JAPANESE.findall(text)
    found += stray_punctuation(text)
    for match in _KANJI_BEFORE_KANA.finditer(text):
        following = text[match.end():match.end() + 1]
        if following not in _PLACE_NAME_KANA:
            found.append(match.group())
    found += _KANJI_AMONG_KANA.findall(text)
    if content in ("address", "organisation_name"):
        found += _LARGE_YOON_IN_LOANWORD.findall(text)
    if content == "address" and _NUMBER_WITHOUT_GO.search(text):
        found.append("号")  # 「3丁目6番7」: the 号 after the last number is missing (dropped at the line's end)
    found += [ch for ch in text if not _in_cp932(ch)]
    return list(dict.fromkeys(found))


_OPENING, _CLOSING = "(（[［「『【", ")）]］」』】"


def stray_punctuation(text: str) -> list[str]:
    """Punctuation no field of our forms is written with, in any free-text field (a bank account, a company's
    name, a code): ASCII symbols, and a bracket without its pair (「り)そな銀行」 read at 0.99; 「(株)」 is paired)."""
    if not text:
        return []
    found = _STRAY_PUNCTUATION.findall(text)
    depth: list[str] = []
    for ch in text:
        if ch in _OPENING:
            depth.append(ch)
        elif ch in _CLOSING:
            if depth and _OPENING.index(depth[-1]) == _CLOSING.index(ch):
                depth.pop()
            else:
                found.append(ch)
    found += depth
    # A pair with nothing inside is a misread too: 「合同会社佐々木運輸()」 at 0.99, the seal beside the name read so.
    found += re.findall(f"[{re.escape(_OPENING)}][{re.escape(_CLOSING)}]", text)
    return list(dict.fromkeys(found))


def _in_cp932(ch: str) -> bool:
    try:
        ch.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


def vocabulary_match(text: str, vocabulary: list[str] | None) -> bool:
    """Whether `text` is exactly one of the field's words (after normalisation)."""
    return bool(vocabulary) and text in vocabulary
