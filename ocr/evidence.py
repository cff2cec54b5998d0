"""Evidence between fields that the engine's score cannot give: does the kana reading agree with the kanji name?

The reading of a kanji name comes from pykakasi's dictionary (kakasi's kanwa dictionary, shipped inside the wheel;
nothing is downloaded). A name is matched against its kana by trying every dictionary reading of every dictionary
word that starts at each position, pruned by the kana itself, so names whose words have several readings (河野
コウノ/カワノ, 中島 ナカジマ/ナカシマ) agree under any of them. A word after the first may take its first kana
voiced (連濁: 中 + 川 → ナカガワ).

The evidence is used in one direction only:
- agreement of both family and given name supports the kana reading (an independent read of the name confirms it);
- disagreement of the **family** name, where the dictionary knows every character of it, is a reason to ask a
  person about both fields (`name_kana_mismatch`);
- a given name that disagrees proves nothing: given names often have readings no dictionary holds (七夏 ナナミ,
  知実 サトミ).
Homophones (斉藤/斎藤) and variant characters (髙橋/高橋) read the same, so agreement never vouches for the
kanji name itself.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import jaconv

Verdict = Literal["agree", "disagree", "unknown"]

# Variant characters the dictionary does not know, read as their common form (for the reading only: the value
# written is never changed here).
READING_VARIANTS = str.maketrans({"髙": "高", "﨑": "崎", "嵜": "崎", "濵": "浜", "濱": "浜", "德": "徳", "邊": "辺",
                                   "邉": "辺", "籠": "篭"})
# Characters a name read with may hide a register variant the recogniser cannot tell from them, measured by
# rendering each family in the six fonts the samples use (four printed, two handwriting-like) and on 60 generated
# 給与支払報告書 with half the surnames variant: 髙 reads 高 (19 of 19), 﨑 reads 崎 (17 of 17), 嵜 reads 寄 (6 of
# 6), 濵 reads 濱, 演, 浪, 滬, 瀘, 澶 or 瀆 (never 浜), 邉 reads 邊 and 徳 reads 德 in handwriting. 辺/邊, 浜/濱 and
# 篭/籠 were read as written every time, so 辺, 浜 and 篭 are not in the set: a name read with them is as sure as
# its score. Only a person looking at the crop can tell the others.
VARIANT_PRONE = frozenset("高髙崎﨑嵜寄濱濵演浪滬瀘澶瀆徳德邊邉")
_VOICED = dict(zip("カキクケコサシスセソタチツテトハヒフヘホ", "ガギグゲゴザジズゼゾダヂヅデドバビブベボ"))
_SEMI_VOICED = dict(zip("ハヒフヘホ", "パピプペポ"))
# Generous bound on the search (a four-character name explores a few dozen states).
MAX_STATES = 20000


@dataclass(frozen=True)
class NameKanaEvidence:
    family: Verdict
    given: Verdict
    family_split: int | None = None  # characters of the kanji name that the family kana covers, when it agrees
    separated: bool = True  # the kana has exactly one space, between family and given name
    # The given kana stops inside a dictionary reading of the given name (修平, 「シュウヘ」): its end was cut off.
    given_cut: bool = False
    # The given name reads, in full, as only the beginning of the given kana (明 for アケミ, when 明美 was written):
    # the name's last character was lost. On the generated population's 3,000 names and 100 common one-character
    # given names (健 タケシ, 博 ヒロシ, 栞 シオリ…) none read so; of 802 names with the last character dropped, 706 did.
    name_cut: bool = False

    @property
    def agrees(self) -> bool:
        """Family and given name both read as written, one space between them: support for the kana reading."""
        return self.family == "agree" and self.given == "agree" and self.separated

    @property
    def mismatch(self) -> bool:
        """The family name's kana is none of its dictionary readings: ask a person about both fields."""
        return self.family == "disagree"


def name_kana_evidence(name: str, kana: str) -> NameKanaEvidence:
    """Whether `kana` (family and given name separated by one space, as the read-result contract writes it) is
    a reading of the kanji `name` (no space between family and given name, e.g. 「佐藤健太」)."""
    name = _plain_name(name)
    parts = _kana_parts(kana)
    if not name or not parts or not all(_readable(ch) for ch in name):
        return NameKanaEvidence("unknown", "unknown", separated=len(parts) == 2)
    if len(parts) != 2:
        # Without the family/given separator only the whole can be compared, and only as support.
        verdict: Verdict = "agree" if reads_as(name, "".join(parts)) else "unknown"
        return NameKanaEvidence(verdict, verdict, separated=False)
    family, given = parts
    for split in range(1, len(name)):
        if reads_as(name[:split], family):
            if reads_as(name[split:], given):
                return NameKanaEvidence("agree", "agree", split)
            given_cut, name_cut = _partial_readings(name[split:], given)
            return NameKanaEvidence("agree", "unknown", split, given_cut=given_cut, name_cut=name_cut)
    # The family kana is no reading of any beginning of the name. Only a dictionary that knows the characters
    # can say so: an unknown character (外字, a rare variant) leaves the question open.
    if all(_has_entries(ch) for ch in name):
        return NameKanaEvidence("disagree", "unknown")
    return NameKanaEvidence("unknown", "unknown")


# Katakana the recogniser confuses by shape (ミノル → ミノリ, モモコ → モモニ, バ → パ). The dictionary is generous —
# 子 reads コ, ゴ, シ, ジ, ス, ズ or ネ; 稔 reads ミノル or ミノリ — so agreement with the name vouches for a kana only
# when no such confusion of it would agree too. A voicing mark read or lost (マナブ → マナフ) is not among them:
# 連濁 lets nearly every name read voiced and unvoiced, so no name could vouch for any kana.
_SHAPE_LOOKALIKES = ("コニユ", "ルリレ", "シツ", "ソンノ", "ウワフ", "クケタ", "チテ", "ナメ", "ヨユ", "ヌス", "マア",
                     "ロコ", "ラヲ", "ヲテ", "ヤャ", "ユュ", "ヨョ", "ツッ", "イィ", "アァ", "エェ", "オォ", "カヵ", "ケヶ")


@lru_cache(maxsize=1)
def _kana_lookalikes() -> dict[str, frozenset[str]]:
    confusable: dict[str, set[str]] = {}
    for group in _SHAPE_LOOKALIKES:
        for ch in group:
            confusable.setdefault(ch, set()).update(c for c in group if c != ch)
    for plain, semi in _SEMI_VOICED.items():  # バ and パ differ by the mark alone
        confusable.setdefault(_VOICED[plain], set()).add(semi)
        confusable.setdefault(semi, set()).add(_VOICED[plain])
    return {ch: frozenset(others) for ch, others in confusable.items()}


def confusable_readings(name: str, kana: str) -> list[str]:
    """Kana one look-alike character away from `kana` that the name reads as too: the name cannot tell them
    apart, so it cannot vouch for the one the recogniser chose."""
    lookalikes = _kana_lookalikes()
    found = []
    for index, ch in enumerate(kana):
        for other in sorted(lookalikes.get(ch, ())):
            candidate = kana[:index] + other + kana[index + 1:]
            if name_kana_evidence(name, candidate).agrees:
                found.append(candidate)
    return found


def may_be_variant(name: str) -> bool:
    """Whether a name read with common forms may have been written with a register variant (髙, 﨑, 濵, 邊…)."""
    return any(ch in VARIANT_PRONE for ch in name)


def separate_kana(name: str, kana: str) -> str | None:
    """The kana with its family/given space put back, or None when there is not one unambiguous place for it.

    `name` is the kanji name as the recogniser saw it. With one space in it, the family name is known and the
    space goes after its reading (「中村 祐樹」, 「ナカムラユウキ」 → 「ナカムラ ユウキ」). Without one, only a 「ー」 standing
    where a family name's reading ends is taken for the printed 全角 space (「ナカムラーサユリ」: no given name starts
    with ー). Anything less certain is left to a person."""
    parts = _kana_parts(kana)
    name_parts = (name or "").split()  # str.split also splits at a 全角 space
    if len(parts) != 1 or len(name_parts) not in (1, 2):
        return None
    plain = _plain_name(name_parts[0])
    if not plain or not all(_readable(ch) for ch in plain):
        return None
    families = [plain] if len(name_parts) == 2 else [plain[:split] for split in range(1, len(plain))]
    joined = parts[0]
    found = set()
    for position in range(1, len(joined)):
        if not any(reads_as(family, joined[:position]) for family in families):
            continue
        dash = joined[position] == "ー"
        rest = joined[position + 1:] if dash else joined[position:]
        if rest and not rest.startswith("ー") and (dash or len(name_parts) == 2):
            found.add(f"{joined[:position]} {rest}")
    return found.pop() if len(found) == 1 else None


def reads_as(kanji: str, kana: str) -> bool:
    """Whether the dictionary allows `kana` (katakana, no spaces) as a reading of `kanji`."""
    kanji = _plain_name(kanji)
    kana = _katakana(kana).replace(" ", "")
    if not kanji or not kana:
        return False
    return _match(kanji, kana)


@lru_cache(maxsize=4096)
def _match(kanji: str, kana: str) -> bool:
    states = 0
    stack = [(0, 0)]
    seen: set[tuple[int, int]] = set()
    while stack:
        i, j = stack.pop()
        if i == len(kanji) and j == len(kana):
            return True
        if i == len(kanji) or j == len(kana) or (i, j) in seen:
            continue
        seen.add((i, j))
        states += 1
        if states > MAX_STATES:
            return False
        for length, reading in _word_readings(kanji, i):
            for variant in _with_rendaku(reading) if i > 0 else (reading,):
                if kana.startswith(variant, j):
                    stack.append((i + length, j + len(variant)))
    return False


@lru_cache(maxsize=4096)
def _partial_readings(kanji: str, kana: str) -> tuple[bool, bool]:
    """Whether (1) `kana` is a dictionary reading of `kanji` with its end missing — it runs out inside a character's
    reading, or before the last characters — and (2) a dictionary reading of the whole of `kanji` is `kana` with
    its end missing."""
    kana_short = kanji_short = False
    if not kanji or not kana:
        return False, False
    stack, seen = [(0, 0)], set()
    while stack and len(seen) <= MAX_STATES and not (kana_short and kanji_short):
        i, j = stack.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(kanji):
            kanji_short = kanji_short or 0 < j < len(kana)
            continue
        if j == len(kana):
            kana_short = True
            continue
        for length, reading in _word_readings(kanji, i):
            for variant in _with_rendaku(reading) if i > 0 else (reading,):
                rest = kana[j:]
                if len(rest) < len(variant) and variant.startswith(rest):
                    kana_short = True
                if kana.startswith(variant, j):
                    stack.append((i + length, j + len(variant)))
    return kana_short, kanji_short


def _word_readings(text: str, start: int) -> list[tuple[int, str]]:
    """(length, katakana reading) of every dictionary word starting at `start`, and of a kana character itself."""
    ch = text[start]
    if _is_kana(ch):
        return [(1, _katakana(ch))]
    readings: list[tuple[int, str]] = []
    if ch == "々" and start > 0:
        # The repetition mark reads as the character before it (佐々木 is in the dictionary, 奈々 may not be).
        readings += [(1, r) for length, r in _word_readings(text, start - 1) if length == 1]
    for word, yomis in _entries(ch).items():
        if text.startswith(word, start):
            readings += [(len(word), _katakana(yomi)) for yomi in yomis]
    return readings


def _with_rendaku(reading: str) -> tuple[str, ...]:
    first = reading[:1]
    variants = [reading]
    for table in (_VOICED, _SEMI_VOICED):
        if first in table:
            variants.append(table[first] + reading[1:])
    return tuple(variants)


@lru_cache(maxsize=8192)
def _entries(ch: str) -> dict[str, tuple[str, ...]]:
    from pykakasi.kanji import Kanwa

    table = Kanwa().load(ch) or {}
    # Entries with a context (okurigana) condition are verb stems; a name takes the plain ones.
    return {word: tuple(yomi for yomi, context in values if context is None)
            for word, values in table.items() if any(context is None for _, context in values)}


def _has_entries(ch: str) -> bool:
    return _is_kana(ch) or ch == "々" or bool(_entries(ch))


def _readable(ch: str) -> bool:
    return _is_kana(ch) or ch == "々" or "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _is_kana(ch: str) -> bool:
    return "ぁ" <= ch <= "ゖ" or "ァ" <= ch <= "ヺ" or ch == "ー"


def _plain_name(name: str) -> str:
    from pykakasi.kanji import Itaiji

    text = "".join(ch for ch in unicodedata.normalize("NFKC", name or "") if not ch.isspace())
    return Itaiji().convert(text.translate(READING_VARIANTS))


def _katakana(text: str) -> str:
    return jaconv.hira2kata(unicodedata.normalize("NFKC", text))


def _kana_parts(kana: str) -> list[str]:
    return _katakana(kana or "").split()


# Kinds where a dropped character makes another value: a date whose day 13 reads 3, an amount missing a digit.
SHORT_READING_KINDS = frozenset({"date_wareki", "amount"})
_COUNTED_CHARACTERS = frozenset("0123456789△▲-")


def reads_shorter_than_ink(kind: str, raw_text: str, stroke_groups: int) -> bool:
    """Whether a date or amount was read with fewer digits than the ink in its box has separate characters
    (ocr.crops.stroke_groups): handwritten 2005-02-13 read 2005-02-03 at 0.9991 had five groups, four digits read.
    Touching characters count as one group, so the check can only miss a short reading, never invent one, except
    where a character is written in pieces side by side."""
    if kind not in SHORT_READING_KINDS:
        return False
    read = sum(ch in _COUNTED_CHARACTERS for ch in unicodedata.normalize("NFKC", raw_text or ""))
    return stroke_groups > read
