"""Turn the engine's text for one field into the value the read-result contract promises (DESIGN.md).

`normalize(kind, raw_text, spec, era_value)` gives the value and a list of short problem codes. A problem is
something a person should look at: the value could not be made to fit its kind, or the text was changed in a way
that might matter (a Chinese character form replaced, a known misread repaired, a name separator guessed).
Repairs that the field's own evidence will check anyway — digit look-alikes in numeric fields, whose check digits
and arithmetic are validated next — are made silently.

Free text drops the space between two Japanese characters (「鈴木　拓真」 → 「鈴木拓真」): the engine sees such
spaces only now and then, so keeping them would make two reads of one form differ. Kana keeps one space between
family and given name, which the recogniser restores from the gap.

Empty text gives `None` with no problem: whether a field may be empty is the validator's question, and the
review app normalises a cleared field the same way.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import jaconv

from ocr.templates import ERAS, FieldSpec
from ocr.wareki import WarekiError, parse_wareki_text


@dataclass
class Normalized:
    value: str | bool | None
    problems: list[str] = field(default_factory=list)


NUMERIC_KINDS = ("digits", "amount", "my_number", "corporate_number", "phone", "postal_code")


def normalize(kind: str, raw_text: str, spec: FieldSpec | None = None, era_value: str | None = None) -> Normalized:
    text = raw_text or ""
    if kind in ("era", "choice"):
        return _normalize_option(kind, text, spec)
    if kind == "checkbox":
        return _normalize_checkbox(text)
    if not text.strip() or _only_preprinted(text, spec):
        return Normalized(None)
    if kind in NUMERIC_KINDS:
        return _normalize_numeric(kind, text, spec)
    if kind == "kana":
        normalized = _normalize_kana(_without_preprinted(nfkc_keeping_variants(text), spec))
        if spec is not None and spec.content == "organisation_name" and isinstance(normalized.value, str):
            # A company's reading has no family/given split: a gap the recogniser saw is not a space.
            normalized = Normalized(normalized.value.replace(" ", ""), normalized.problems)
        return normalized
    if kind == "text":
        normalized = _normalize_text(_without_preprinted(nfkc_keeping_variants(text), spec))
        if spec is not None and spec.content == "bank_account" and normalized.value:
            normalized = Normalized(_account_spacing(normalized.value), normalized.problems)
        if spec is not None and spec.content == "code" and isinstance(normalized.value, str):
            # An employer's own number for the employee (受給者番号): a gap inside it is not part of it.
            normalized = Normalized(normalized.value.replace(" ", ""), normalized.problems)
        if spec is not None and spec.content == "address" and normalized.value:
            # Spaces in an address are layout (「652番地9 ハイツ288」): kept, a value would depend on the gap's width.
            normalized = Normalized(address_ke(normalized.value.replace(" ", "")), normalized.problems)
        return normalized
    if kind == "date_wareki":
        return _normalize_date(text, spec, era_value)
    raise ValueError(f"unknown field kind {kind!r}")


# --- Unicode ---------------------------------------------------------------------------------------------------

def _is_cjk_compatibility_ideograph(ch: str) -> bool:
    code = ord(ch)
    return 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F


def nfkc_keeping_variants(text: str) -> str:
    """NFKC, except for CJK compatibility ideographs (e.g. 神 U+FA19): NFKC would replace the variant written."""
    if not any(_is_cjk_compatibility_ideograph(ch) for ch in text):
        return unicodedata.normalize("NFKC", text)
    pieces: list[str] = []
    run: list[str] = []
    for ch in text:
        if _is_cjk_compatibility_ideograph(ch):
            pieces.append(unicodedata.normalize("NFKC", "".join(run)))
            pieces.append(ch)
            run = []
        else:
            run.append(ch)
    pieces.append(unicodedata.normalize("NFKC", "".join(run)))
    return "".join(pieces)


def _single_spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _only_preprinted(text: str, spec: FieldSpec | None) -> bool:
    """The engine read nothing but the blank form's own text, e.g. 「令和　年　月　日」 or 「円」."""
    if spec is None or not spec.preprinted_text:
        return False
    printed = set(unicodedata.normalize("NFKC", spec.preprinted_text)) - {" "}
    read = set(unicodedata.normalize("NFKC", text)) - {" "}
    return read <= printed


def _without_preprinted(text: str, spec: FieldSpec | None) -> str:
    """Drop the blank form's own text (e.g. 〒 or 円) where the engine read it at either end of the box."""
    if spec is None or not spec.preprinted_text:
        return text
    for piece in unicodedata.normalize("NFKC", spec.preprinted_text).split():
        stripped = text.strip()
        if stripped.startswith(piece):
            text = stripped[len(piece):]
        elif stripped.endswith(piece):
            text = stripped[: -len(piece)]
    return text


# --- numeric kinds ---------------------------------------------------------------------------------------------

# What the engine reads for a digit when it decodes freely. Only applied inside numeric fields.
DIGIT_LOOKALIKES = {
    "O": "0", "o": "0", "D": "0", "Q": "0", "〇": "0", "○": "0",
    "l": "1", "I": "1", "i": "1", "|": "1", "!": "1",
    "Z": "2", "z": "2",
    "S": "5", "s": "5",
    "b": "6", "G": "6",
    "B": "8",
    "g": "9", "q": "9",
}
_MINUS_SIGNS = "△▲-−‐ー―"
_DASHES = "-−‐ー―一"
# Yen marks, 金…也, and the filler stars some people write around an amount.
_AMOUNT_DECORATION = re.compile(r"^[¥\\金*※]+|[円也*※]+$")
_SEPARATORS_IN_NUMBERS = ",.、。'`"


def _normalize_numeric(kind: str, text: str, spec: FieldSpec | None) -> Normalized:
    text = nfkc_keeping_variants(text)
    boxed = bool(spec and spec.cells)
    if spec and spec.preprinted_text:
        for ch in unicodedata.normalize("NFKC", spec.preprinted_text):
            if not ch.isdigit() and not ch.isspace():
                text = text.replace(ch, "")
    text = re.sub(r"\s+", "", text)
    if kind == "amount":
        return _normalize_amount(text, spec, boxed)
    if kind == "postal_code":
        return _normalize_postal_code(text)
    if kind == "phone":
        return _normalize_phone(text)
    digits = _digits_with_lookalikes(re.sub(f"[{re.escape(_DASHES + _SEPARATORS_IN_NUMBERS)}]", "", text), boxed)
    if not digits:
        return Normalized(None, ["not_digits"])
    problems = [] if digits.isdigit() else ["not_digits"]
    expected = {"my_number": 12, "corporate_number": 13}.get(kind)
    if expected is not None and len(digits) != expected:
        problems.append("wrong_length")
    elif expected is None and spec and spec.cells and len(digits) > spec.cells:
        problems.append("wrong_length")
    return Normalized(digits + _suffix(spec) if not problems else digits, problems)


def _digits_with_lookalikes(text: str, boxed: bool) -> str:
    if boxed:
        # In a row of printed cells a "|" or bracket is a cell line, not a 1.
        text = re.sub(r"[|\[\]]", "", text)
    return "".join(DIGIT_LOOKALIKES.get(ch, ch) for ch in text)


def _suffix(spec: FieldSpec | None) -> str:
    return spec.preprinted_suffix if spec and spec.preprinted_suffix else ""


def _normalize_amount(text: str, spec: FieldSpec | None, boxed: bool) -> Normalized:
    text = _AMOUNT_DECORATION.sub("", text)
    negative = bool(text) and text[0] in _MINUS_SIGNS
    if negative:
        text = text[1:]
    # A trailing dash closes an amount ("1,234-"), as a stop mark against additions.
    text = text.rstrip(_DASHES)
    suffix = _suffix(spec)
    if suffix and spec and spec.preprinted_text and suffix in spec.preprinted_text and text.endswith(suffix):
        text = text[: -len(suffix)]  # the printed suffix sits inside the box and was read with the digits
    # Commas are often read as periods; yen amounts have no decimals, so both are separators.
    digits = _digits_with_lookalikes(re.sub(f"[{re.escape(_SEPARATORS_IN_NUMBERS)}]", "", text), boxed)
    if not digits:
        return Normalized(None, ["not_digits"])
    if not digits.isdigit():
        return Normalized(("-" if negative else "") + digits, ["not_digits"])
    problems = [] if _grouped_in_thousands(text) else ["digit_grouping_mismatch"]
    digits = (digits + suffix).lstrip("0") or "0"
    if spec and spec.cells and len(digits) > spec.cells + len(suffix):
        problems.append("wrong_length")
    return Normalized("-" + digits if negative and digits != "0" else digits, problems)


def _grouped_in_thousands(text: str) -> bool:
    """Whether an amount's separators, where it has any, stand every three digits from the right (1,234,500).

    A digit dropped or read twice moves a group's length off three (「1,23,500」), so separators that do not
    agree with the digits send the amount to a person rather than let the digits stand alone."""
    groups = re.split(f"[{re.escape(_SEPARATORS_IN_NUMBERS)}]", text)
    if len(groups) == 1:
        return True
    return 1 <= len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:])


def _normalize_postal_code(text: str) -> Normalized:
    text = text.lstrip("〒")
    digits = _digits_with_lookalikes(re.sub(f"[{re.escape(_DASHES)}]", "", text), boxed=False)
    if not digits.isdigit():
        return Normalized(digits or None, ["not_digits"])
    if len(digits) != 7:
        return Normalized(digits, ["wrong_length"])
    return Normalized(f"{digits[:3]}-{digits[3:]}")


# The Japanese numbering plan: 00 and 010 start calls abroad, never a number here (handwritten 070 read 010 at
# 0.998); mobiles, IP phones and M2M (070/080/090, 050, 020, 060) and 0800 have 11 digits, every other number 10.
_NEVER_DOMESTIC = ("00", "010")
_ELEVEN_DIGIT_PREFIXES = ("020", "050", "060", "070", "080", "090", "0800")


def _normalize_phone(text: str) -> Normalized:
    """Digits with the writer's grouping kept as ASCII hyphens: "(043)245-5111" → "043-245-5111"."""
    text = re.sub(r"^(?:TEL|Tel|tel|電話)[:.]?", "", text)
    text = re.sub(r"^\((\d+)\)", r"\1-", text)
    text = re.sub(r"[()]", "-", text)
    text = re.sub(f"[{re.escape(_DASHES)}]+", "-", text).strip("-")
    grouped = "".join(DIGIT_LOOKALIKES.get(ch, ch) for ch in text)
    digits = grouped.replace("-", "")
    if not digits.isdigit():
        return Normalized(grouped or None, ["not_digits"])
    if not digits.startswith("0") or digits.startswith(_NEVER_DOMESTIC):
        return Normalized(grouped, ["not_phone"])
    if len(digits) != (11 if digits.startswith(_ELEVEN_DIGIT_PREFIXES) else 10):
        return Normalized(grouped, ["wrong_length"])
    # A Japanese number is written in three groups; a thin hyphen is the first thing a fax loses (「047091-3257」 at
    # 0.9998), and where the groups split cannot be told from the digits, so a person looks.
    if grouped.count("-") != 2:
        return Normalized(grouped, ["phone_grouping_unsure"])
    return Normalized(grouped)


# --- kana ------------------------------------------------------------------------------------------------------

_KATAKANA = "ァ-ヺ"
_KANJI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々"
_KANA_OK = re.compile(f"[{_KATAKANA}ー・ ]+")
# Small vowels and ャュョヮ only follow these in Japanese (and loan-word) readings; サィトウ is a misread サイトウ.
_SMALL_KANA_FOLLOWS = {
    "ァ": "ファヴツクグウ", "ィ": "フヴテデウスズツクグト", "ゥ": "トドフクヴ", "ェ": "フヴシジチツウイクグテデ",
    "ォ": "フヴツウクグ", "ャ": "キギシジチヂニヒビピミリテデフヴ", "ュ": "キギシジチヂニヒビピミリテデフヴ",
    "ョ": "キギシジチヂニヒビピミリフヴ", "ヮ": "クグ",
}


def _normalize_kana(text: str) -> Normalized:
    problems: list[str] = []
    text = jaconv.hira2kata(jaconv.h2z(text, kana=True, ascii=False, digit=False))
    # In a reading, ヶ and ヵ are never right: the engine confuses them with ケ and カ.
    text = text.replace("ヶ", "ケ").replace("ヵ", "カ")
    text = _long_vowel_marks_between_kana(text)
    text = _single_spaces(text)
    separated = _separator_read_as_long_vowel(text)
    if separated != text:
        text = separated
        problems.append("kana_separator_guessed")
    if not _KANA_OK.fullmatch(text):
        problems.append("not_kana")
    if _has_misplaced_small_kana(text):
        problems.append("small_kana_suspicious")
    return Normalized(text, problems)


def _long_vowel_marks_between_kana(text: str) -> str:
    """コ一ポ → コーポ: a dash or kanji 一 after katakana is the long-vowel mark."""
    return re.sub(f"(?<=[{_KATAKANA}])[一\\-−‐―—]", "ー", text)


def _separator_read_as_long_vowel(text: str) -> str:
    """イトウータカシー → イトウ タカシ: the study's misread of a full-width space between the names.

    Only when the shape is unmistakable: no space at all, a trailing ー (names almost never end in one
    in this position), and exactly one other ー with kana on both sides.
    """
    if " " in text or not text.endswith("ー"):
        return text
    body = text[:-1]
    if body.count("ー") != 1:
        return text
    family, given = body.split("ー")
    if len(family) >= 2 and len(given) >= 2 and not family.endswith("ー"):
        return f"{family} {given}"
    return text


# A large ユ/ヨ between an イ-row kana and ウ/ン is almost always a small one read large (シヨウ for ショウ, ジユン
# for ジュン); the legitimate large readings in names (キヨシ, ニシヤマ, ヨシユキ) are not followed by ウ or ン.
_LARGE_YOON = re.compile("[キギシジチヂニヒビピミリ](?:ユ[ウン]|ヨウ)")
# ッ doubles the consonant that follows: never at the start of a word, after ン/ー/ッ, or before a vowel, ン or ー;
# nor before the nasal and liquid rows (ナ, マ, ヤ, ラ, ワ), which no Japanese word doubles (マッモト for マツモト
# was accepted at 0.989). ハ行 stays allowed for loanwords (バッハ, ゴッホ).
_SOKUON_BEFORE_NOT = set("アイウエオンーッャュョァィゥェォ ナニヌネノマミムメモヤユヨラリルレロワヲ")
_SOKUON_AFTER_NOT = set("ンーッ ")


def _has_misplaced_small_kana(text: str) -> bool:
    """Small kana where Japanese has none, or a large one where it needs a small one: the engine confuses the
    sizes (サィトウ, ッバサ, シヨウタ). Flagged for a person, never changed: which size was written is theirs."""
    for previous, ch in zip(" " + text, text):
        allowed_after = _SMALL_KANA_FOLLOWS.get(ch)
        if allowed_after is not None and previous not in allowed_after:
            return True
    for index, ch in enumerate(text):
        if ch != "ッ":
            continue
        previous = text[index - 1] if index else " "
        following = text[index + 1] if index + 1 < len(text) else " "
        if previous in _SOKUON_AFTER_NOT or following in _SOKUON_BEFORE_NOT:
            return True
    return bool(_LARGE_YOON.search(text))


# --- free text -------------------------------------------------------------------------------------------------

# Chinese character forms the engine writes where Japanese has its own. Only forms that a Japanese writer would
# not normally use; variants that really are written (髙, 﨑, 邊, 濵, …) are deliberately absent. The 旧字体 here
# (徵 穗 惠 黑) can be written in a name, which is why every replacement is a problem a person confirms.
CHINESE_FORMS = {
    "徵": "徴", "穗": "穂", "惠": "恵", "黑": "黒",
    "爱": "愛", "岛": "島", "东": "東", "门": "門", "马": "馬", "间": "間", "长": "長", "县": "県", "书": "書",
    "车": "車", "华": "華", "业": "業", "义": "義", "张": "張", "陈": "陳", "刘": "劉", "杨": "楊", "赵": "趙",
    "吴": "呉", "冈": "岡", "桥": "橋", "滨": "浜", "仓": "倉", "园": "園", "绿": "緑", "纪": "紀", "织": "織",
    "线": "線", "给": "給", "经": "経", "续": "続", "纳": "納", "额": "額", "养": "養", "务": "務", "员": "員",
    "职": "職", "报": "報", "动": "動", "发": "発", "证": "証", "认": "認", "边": "辺", "达": "達", "远": "遠",
    "进": "進", "运": "運", "连": "連", "过": "過", "铁": "鉄", "银": "銀", "锦": "錦", "镰": "鎌", "阳": "陽",
    "际": "際", "陆": "陸", "鸟": "鳥", "齐": "斉", "实": "実", "宫": "宮", "对": "対", "师": "師", "归": "帰",
    "户": "戸", "树": "樹", "样": "様", "泽": "沢", "济": "済", "满": "満", "现": "現", "电": "電", "种": "種",
    "积": "積", "笔": "筆", "组": "組", "细": "細", "终": "終", "缘": "縁", "网": "網", "脑": "脳", "荣": "栄",
    "药": "薬", "见": "見", "观": "観", "计": "計", "记": "記", "设": "設", "调": "調", "贝": "貝", "负": "負",
    "财": "財", "费": "費", "资": "資", "轮": "輪", "邮": "郵", "铃": "鈴", "闻": "聞", "须": "須", "顺": "順",
    "预": "預", "领": "領", "题": "題", "风": "風", "飞": "飛", "馆": "館", "鱼": "魚", "鲜": "鮮", "鹤": "鶴",
    "鸭": "鴨", "鸿": "鴻", "鹰": "鷹", "赏": "賞", "聪": "聡", "产": "産", "课": "課", "產": "産",
    "别": "別", "检": "検", "热": "熱", "增": "増",
}
# Misreads that are wrong only in context: 干 is a real character (干潟), but not in 千葉 or 八千代.
KNOWN_MISREADS = {
    "干葉": "千葉", "干代": "千代", "干歳": "千歳", "干住": "千住", "干里": "千里", "干駄": "千駄",
    "干尋": "千尋", "干秋": "千秋", "干春": "千春", "干恵": "千恵", "干夏": "千夏", "干佳": "千佳", "干鶴": "千鶴",
    "丁日": "丁目", "丁月": "丁目", "艾店": "支店",
}

_ACCOUNT_TYPE_BEFORE_NUMBER = re.compile(r"(普通|当座|貯蓄|通常|別段)\s*(?=\d)")


# 鎌ケ谷, 袖ケ浦, 鍛冶ケ沢: place names are written with a small 「ヶ」 or a full 「ケ」 for the same place, and the
# recogniser cannot tell the two sizes apart. Addresses are kept with 「ケ」, as the postal code data and most
# municipal address masters write them, so the value does not depend on the glyph's size.
_SMALL_KE_BETWEEN_KANJI = re.compile(f"(?<=[{_KANJI}])[ヶヵ](?=[{_KANJI}])")


def address_ke(text: str) -> str:
    return _SMALL_KE_BETWEEN_KANJI.sub(lambda match: "ケ" if match.group() == "ヶ" else "カ", text)


def _account_spacing(text: str) -> str:
    """One space between the account type and its number (「普通 5513991」): the recogniser drops or keeps that
    space by the width of the gap, and a value must not depend on it."""
    return _ACCOUNT_TYPE_BEFORE_NUMBER.sub(r"\1 ", text)


def _normalize_text(text: str) -> Normalized:
    problems: list[str] = []
    text = _japanese_spacing(_single_spaces(text))
    # The engine gives a Latin middle dot for 「・」 between Japanese words (給料・賞与 → 給料·賞与).
    text = re.sub(f"(?<=[{_JAPANESE}])[·•‧∙](?=[{_JAPANESE}])", "・", text)
    replaced = "".join(CHINESE_FORMS.get(ch, ch) for ch in text)
    if replaced != text:
        problems.append("chinese_variant")
        text = replaced
    repaired = text
    for wrong, right in KNOWN_MISREADS.items():
        repaired = repaired.replace(wrong, right)
    # A kanji or a dash inside katakana is a katakana misread (コ一ポ, コ-ポ → コーポ; コ一卜 → コート); a
    # long-vowel mark never follows a kanji, so there it is 一 (市ーツ橋 → 市一ツ橋); J before 目 after a number is 丁.
    # 八 and 了 before katakana open a katakana word (八イツ → ハイツ, 了一バン → アーバン): no Japanese word has them
    # there, but for 八ツ, 八ヶ and 八ケ (八ツ橋, 八ヶ岳).
    repaired = re.sub(f"八(?=[一ー]?[{_KATAKANA}])(?![ツッヶケヵ])", "ハ", repaired)
    repaired = re.sub(f"了(?=[一ー]?[{_KATAKANA}])", "ア", repaired)
    repaired = re.sub(f"(?<=[{_KATAKANA}])([一ー]?)卜", r"\1ト", repaired)
    repaired = re.sub(f"(?<=[{_KATAKANA}])[一\\-−‐―](?=[{_KATAKANA}])", "ー", repaired)
    repaired = re.sub(f"(?<=[{_KANJI}])ー", "一", repaired)
    repaired = re.sub(r"(?<=\d)[J工]目", "丁目", repaired)  # printed 11丁目 was read 11工目 at an accepting score
    if repaired != text:
        problems.append("known_misread")
        text = repaired
    return Normalized(text, problems)


_JAPANESE = f"{_KANJI}ぁ-ゖァ-ヺー・、。「」〆"


def _japanese_spacing(text: str) -> str:
    """No space between two Japanese characters: 「鈴木　拓真」 → 「鈴木拓真」, 「15号 コーポ」 → 「15号コーポ」.

    The engine sees a full-width space only sometimes and a half-width one almost never, so a value that kept
    them would differ between two reads of the same form. Spaces next to Latin letters or digits stay.
    """
    return re.sub(f"(?<=[{_JAPANESE}]) (?=[{_JAPANESE}])", "", text)


# --- dates, marks ----------------------------------------------------------------------------------------------

def _normalize_date(text: str, spec: FieldSpec | None, era_value: str | None) -> Normalized:
    era = era_value or (spec.era if spec else None)
    try:
        return Normalized(parse_wareki_text(text, era).isoformat())
    except WarekiError as error:
        if era is None and "no era" in str(error):
            return Normalized(None, ["era_missing"])
        return Normalized(None, ["bad_date"])


def _normalize_option(kind: str, text: str, spec: FieldSpec | None) -> Normalized:
    chosen = text.strip()
    if not chosen:
        return Normalized(None)
    options = list(spec.options or []) if spec else []
    if not options and kind == "era":
        options = list(ERAS)
    labels = spec.printed_option_labels() if spec and spec.options else options
    if chosen in options:
        return Normalized(chosen)
    if chosen in labels:
        return Normalized(options[labels.index(chosen)])
    return Normalized(None, ["not_an_option"])


_TICKED = {"true", "1", "yes", "on", "x", "✓", "✔", "レ", "☑", "☒", "■", "●", "○", "〇"}
_UNTICKED = {"false", "0", "no", "off", "", "□", "☐"}


def _normalize_checkbox(text: str) -> Normalized:
    key = unicodedata.normalize("NFKC", text).strip().lower()
    if key in _TICKED:
        return Normalized(True)
    if key in _UNTICKED:
        return Normalized(False)
    return Normalized(None, ["not_checkbox"])
