import pytest

from ocr.normalize import Normalized, normalize, nfkc_keeping_variants
from ocr.templates import FieldSpec, load_template

IDO = load_template("ido_todoke")


def spec(**overrides) -> FieldSpec:
    base = {"name": "f", "label": "f", "box": (0, 0, 10, 10), "kind": "text"}
    base.update(overrides)
    return FieldSpec(**base)


# --- amounts ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("1,234,500", "1234500"),
    ("1.234.500", "1234500"),  # commas read as periods
    ("１，２３４，５００", "1234500"),
    ("¥1,234,500", "1234500"),
    ("￥ 1,234,500 円", "1234500"),
    ("金1,234,500円也", "1234500"),
    ("1,234,500-", "1234500"),
    ("1 234 500", "1234500"),
    ("△12,000", "-12000"),
    ("▲12,000", "-12000"),
    ("-12,000", "-12000"),
    ("1O5,OOO", "105000"),
    ("l,2S4,B00", "1254800"),
    ("Z0,000", "20000"),
    ("0", "0"),
    ("△0", "0"),
    ("001,000", "1000"),
])
def test_amount(raw, expected):
    assert normalize("amount", raw) == Normalized(expected, [])


@pytest.mark.parametrize("raw, value", [
    ("1,23,500", "123500"),  # a digit lost: the groups no longer stand every three digits
    ("12,3456", "123456"),
    ("1,2345,600", "12345600"),  # a digit read twice
    ("1234,500,", "1234500"),
])
def test_separators_that_disagree_with_the_digits_send_an_amount_to_a_person(raw, value):
    assert normalize("amount", raw) == Normalized(value, ["digit_grouping_mismatch"])


def test_amount_with_preprinted_yen_in_the_box():
    nenzeigaku = IDO.field("nenzeigaku")
    assert normalize("amount", "123,400円", nenzeigaku) == Normalized("123400", [])
    assert normalize("amount", "円", nenzeigaku) == Normalized(None, [])


def test_amount_preprinted_suffix_is_appended():
    thousands = spec(kind="amount", preprinted_suffix="000")
    assert normalize("amount", "1,234", thousands).value == "1234000"
    assert normalize("amount", "△5", thousands).value == "-5000"
    printed_in_box = spec(kind="amount", preprinted_suffix="000", preprinted_text="000円")
    assert normalize("amount", "1,234000", printed_in_box).value == "1234000"
    assert normalize("amount", "1,234", printed_in_box).value == "1234000"


@pytest.mark.parametrize("raw", ["12a4", "壱万円", "1,2x4"])
def test_amount_not_digits(raw):
    assert "not_digits" in normalize("amount", raw).problems


def test_amount_too_long_for_its_cells():
    assert normalize("amount", "1234567", spec(kind="amount", cells=6)).problems == ["wrong_length"]


# --- identifiers -----------------------------------------------------------------------------------------------

def test_my_number():
    my_number = IDO.field("my_number")
    assert normalize("my_number", "123456789018", my_number) == Normalized("123456789018", [])
    assert normalize("my_number", "１２３４ ５６７８ ９０１８", my_number) == Normalized("123456789018", [])
    assert normalize("my_number", "1234-5678-9018", my_number) == Normalized("123456789018", [])
    assert normalize("my_number", "l23456789Ol8", my_number) == Normalized("123456789018", [])
    assert normalize("my_number", "12345678901", my_number).problems == ["wrong_length"]
    assert normalize("my_number", "12345678901X", my_number).problems == ["not_digits"]


def test_cell_lines_are_not_ones_in_boxed_numbers():
    my_number = IDO.field("my_number")  # 12 cells
    assert normalize("my_number", "1|2|3|4|5|6|7|8|9|0|1|8", my_number).value == "123456789018"
    assert normalize("my_number", "|23456789018", spec(kind="my_number")).value == "123456789018"  # no cells: a 1


def test_corporate_number():
    hojin = IDO.field("shiharaisha_hojin_bango")
    assert normalize("corporate_number", "7000012050002", hojin) == Normalized("7000012050002", [])
    assert normalize("corporate_number", "7OOOO12O5OOO2", hojin) == Normalized("7000012050002", [])
    assert normalize("corporate_number", "700001205000", hojin).problems == ["wrong_length"]


def test_digits():
    shitei = IDO.field("shitei_bango")  # 8 cells
    assert normalize("digits", "00123456", shitei) == Normalized("00123456", [])  # leading zeros kept
    assert normalize("digits", "123456789", shitei).problems == ["wrong_length"]
    assert normalize("digits", "12345", shitei) == Normalized("12345", [])


@pytest.mark.parametrize("raw, expected, problems", [
    ("260-8722", "260-8722", []),
    ("〒260-8722", "260-8722", []),
    ("2608722", "260-8722", []),
    ("２６０ー８７２２", "260-8722", []),
    ("26O-8722", "260-8722", []),
    ("260-872", "260872", ["wrong_length"]),
])
def test_postal_code(raw, expected, problems):
    assert normalize("postal_code", raw) == Normalized(expected, problems)


@pytest.mark.parametrize("raw, expected, problems", [
    ("043-245-5111", "043-245-5111", []),
    ("(043)245-5111", "043-245-5111", []),
    ("０４３－２４５－５１１１", "043-245-5111", []),
    ("TEL 090-1234-5678", "090-1234-5678", []),
    ("0432455111", "0432455111", ["phone_grouping_unsure"]),  # where the groups split: a person looks
    ("047091-3257", "047091-3257", ["phone_grouping_unsure"]),  # a hyphen lost on a fax
    ("043-245-511", "043-245-511", ["wrong_length"]),
    ("143-245-5111", "143-245-5111", ["not_phone"]),
    ("010-5685-6875", "010-5685-6875", ["not_phone"]),  # handwritten 070 read 010: 010 calls abroad
    ("0120-123-456", "0120-123-456", []),
    ("0800-123-4567", "0800-123-4567", []),
    ("090-1234-567", "090-1234-567", ["wrong_length"]),  # a mobile number has 11 digits
    ("043-2455-51112", "043-2455-51112", ["wrong_length"]),
])
def test_phone(raw, expected, problems):
    assert normalize("phone", raw) == Normalized(expected, problems)


# --- kana ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("サトウ ケンタ", "サトウ ケンタ"),
    ("サトウ　ケンタ", "サトウ ケンタ"),
    ("サトウ   ケンタ ", "サトウ ケンタ"),
    ("ｻﾄｳ ｹﾝﾀ", "サトウ ケンタ"),
    ("さとう　けんた", "サトウ ケンタ"),
    ("ｶﾞﾝﾀﾞ ｼﾞｭﾝ", "ガンダ ジュン"),
    ("コ一ポ", "コーポ"),
    ("ユ-コ", "ユーコ"),
    ("ヨーコ", "ヨーコ"),
    ("スズキ イチロー", "スズキ イチロー"),
    ("カマガヤ", "カマガヤ"),
    ("ティナ", "ティナ"),
])
def test_kana(raw, expected):
    assert normalize("kana", raw) == Normalized(expected, [])


def test_kana_small_ke_is_ke():
    assert normalize("kana", "カマヶヤ").value == "カマケヤ"


def test_full_width_space_read_as_long_vowel_mark():
    assert normalize("kana", "イトウータカシー") == Normalized("イトウ タカシ", ["kana_separator_guessed"])
    # not clearly a separator: left alone
    assert normalize("kana", "イトウータカシ") == Normalized("イトウータカシ", [])
    assert normalize("kana", "ユーコー") == Normalized("ユーコー", [])


def test_kana_problems():
    assert normalize("kana", "サィトウ").problems == ["small_kana_suspicious"]
    assert normalize("kana", "マッモト ユイ").problems == ["small_kana_suspicious"]
    assert normalize("kana", "ハットリ ユイ").problems == []
    assert normalize("kana", "バッハショウジ").problems == []
    assert normalize("kana", "佐藤 ケンタ").problems == ["not_kana"]
    assert normalize("kana", "サトウ1").problems == ["not_kana"]


# --- text ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("千葉市中央区千葉港1-1", "千葉市中央区千葉港1-1"),
    ("  株式会社　ＡＢＣ商事 ", "株式会社 ABC商事"),
    ("ｶﾌﾞｼｷｶﾞｲｼｬ", "カブシキガイシャ"),
    ("㈱山田製作所", "(株)山田製作所"),
    ("山田  太郎", "山田太郎"),
    ("鈴木　拓真", "鈴木拓真"),
    ("千葉市中央区1丁目2番3号 コーポ千葉101", "千葉市中央区1丁目2番3号コーポ千葉101"),
    ("ABC  Corp 千葉支店", "ABC Corp 千葉支店"),
    ("干潟", "干潟"),
])
def test_text_plain(raw, expected):
    assert normalize("text", raw) == Normalized(expected, [])


@pytest.mark.parametrize("raw, expected", [
    ("特別徵収", "特別徴収"),
    ("爱知県", "愛知県"),
    ("穗積", "穂積"),
    ("惠子", "恵子"),
    ("広岛", "広島"),
    ("横浜市鹤見区", "横浜市鶴見区"),
    ("野付郡别海町", "野付郡別海町"),
])
def test_text_chinese_forms_are_replaced_and_reported(raw, expected):
    assert normalize("text", raw) == Normalized(expected, ["chinese_variant"])


@pytest.mark.parametrize("raw, expected", [
    ("干葉市中央区", "千葉市中央区"),
    ("八干代市", "八千代市"),
    ("中央区3丁日", "中央区3丁目"),
    ("コ一ポ山田", "コーポ山田"),
    ("八王子市ーツ橋4丁目", "八王子市一ツ橋4丁目"),
    ("コ-ポ浅草橋", "コーポ浅草橋"),
    ("土呂部コ一卜044", "土呂部コート044"),
    ("日光2J目13番10号", "日光2丁目13番10号"),
    ("猿ケ瀬11工目5番9号", "猿ケ瀬11丁目5番9号"),
    ("西勢25丁月22番7号", "西勢25丁目22番7号"),
    ("16号八イツ月島617", "16号ハイツ月島617"),
    ("12号了一バン中宮祠498", "12号アーバン中宮祠498"),
    ("5番12号八一ク西小来川", "5番12号ハーク西小来川"),
])
def test_text_known_misreads_are_repaired_and_reported(raw, expected):
    assert normalize("text", raw) == Normalized(expected, ["known_misread"])


@pytest.mark.parametrize("written", ["八ツ橋3丁目", "八ヶ岳", "八ケ崎", "八幡2丁目"])
def test_eight_before_tsu_or_ke_stays_a_kanji(written):
    assert normalize("text", written) == Normalized(written, [])


@pytest.mark.parametrize("written", ["髙橋", "山﨑", "渡邊", "濵田", "渡邉", chr(0xFA19) + "田"])
def test_variant_characters_that_were_written_are_kept(written):
    assert normalize("text", written) == Normalized(written, [])


def test_nfkc_keeps_compatibility_ideographs():
    assert nfkc_keeping_variants("ＡＢ" + chr(0xFA19) + "ｶﾞ") == "AB" + chr(0xFA19) + "ガ"


# --- dates -----------------------------------------------------------------------------------------------------

def test_date_with_printed_era():
    ido = IDO.field("ido_nengappi")  # 令和 printed in the box
    assert normalize("date_wareki", "令和6年4月15日", ido) == Normalized("2024-04-15", [])
    assert normalize("date_wareki", "令和 6年 4月 15H", ido) == Normalized("2024-04-15", [])
    assert normalize("date_wareki", "令和　　年　　月　　日", ido) == Normalized(None, [])
    assert normalize("date_wareki", "令和6年2月30日", ido) == Normalized(None, ["bad_date"])


def test_date_with_era_from_the_circled_mark():
    birth = IDO.field("seinengappi")
    assert normalize("date_wareki", "60年4月12日", birth, era_value="昭和") == Normalized("1985-04-12", [])
    assert normalize("date_wareki", "64年1月8日", birth, era_value="昭和") == Normalized(None, ["bad_date"])
    assert normalize("date_wareki", "60年4月12日", birth) == Normalized(None, ["era_missing"])
    assert normalize("date_wareki", "平成31年5月1日") == Normalized("2019-05-01", [])


# --- marks -----------------------------------------------------------------------------------------------------

def test_era_and_choice_validate_membership():
    era = IDO.field("seinengappi_era")
    assert normalize("era", "昭和", era) == Normalized("昭和", [])
    assert normalize("era", "昭", era) == Normalized("昭和", [])
    assert normalize("era", "天平", era) == Normalized(None, ["not_an_option"])
    assert normalize("era", "", era) == Normalized(None, [])
    hoho = IDO.field("choshu_hoho")
    assert normalize("choice", "一括徴収", hoho) == Normalized("一括徴収", [])
    assert normalize("choice", "特徴継続", hoho) == Normalized("特別徴収継続", [])
    assert normalize("choice", "退職", hoho) == Normalized(None, ["not_an_option"])


@pytest.mark.parametrize("raw, expected", [("true", True), ("✓", True), ("レ", True), ("1", True),
                                           ("false", False), ("", False), ("0", False)])
def test_checkbox(raw, expected):
    assert normalize("checkbox", raw) == Normalized(expected, [])


def test_checkbox_unreadable():
    assert normalize("checkbox", "maybe") == Normalized(None, ["not_checkbox"])


def test_empty_text_is_none_without_problem():
    for kind in ("text", "kana", "amount", "my_number", "date_wareki", "postal_code", "phone", "digits"):
        assert normalize(kind, "  ") == Normalized(None, []), kind


def test_unknown_kind():
    with pytest.raises(ValueError):
        normalize("barcode", "123")


def test_a_company_reading_has_no_family_given_space():
    from ocr.templates import load_template

    spec = load_template("hojin_shinkoku").field("hojin_mei_kana")
    assert normalize("kana", "イシカワ ショウジ", spec).value == "イシカワショウジ"
    assert normalize("kana", "イシカワ ショウジ").value == "イシカワ ショウジ"  # a person's keeps it
