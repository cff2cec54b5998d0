"""Name ↔ kana evidence (ocr/evidence.py) with pykakasi's real dictionary, and the template-level check built on it."""
from __future__ import annotations

import pytest

from ocr.evidence import may_be_variant, name_kana_evidence, reads_as, separate_kana
from ocr.templates import Template, load_template
from ocr.validate import name_kana_reasons, validate_cross_fields


@pytest.mark.parametrize("name, kana", [
    ("佐藤健太", "サトウ ケンタ"),
    ("中川結衣", "ナカガワ ユイ"),
    ("阿部陽介", "アベ ヨウスケ"),
    ("河野太郎", "カワノ タロウ"),  # 河野 has two readings; either agrees
    ("河野太郎", "コウノ タロウ"),
    ("佐々木翔", "ササキ ショウ"),
    ("髙橋裕樹", "タカハシ ユウキ"),  # a variant character reads as its common form
    ("山﨑さくら", "ヤマザキ サクラ"),
])
def test_agreeing_name_and_kana(name, kana):
    evidence = name_kana_evidence(name, kana)
    assert evidence.family == "agree" and evidence.given == "agree"
    assert evidence.agrees and not evidence.mismatch


def test_family_name_disagreement_flags():
    evidence = name_kana_evidence("佐藤健太", "スズキ ケンタ")
    assert evidence.family == "disagree" and evidence.mismatch and not evidence.agrees
    # A space in the wrong place makes the family kana no reading of the name's beginning.
    assert name_kana_evidence("佐藤健太", "サト ウケンタ").mismatch
    # A misread family kana: ナカグワ is no reading of 中川 (ナカガワ, ナカカワ are).
    assert name_kana_evidence("中川結衣", "ナカグワ ユイ").mismatch


def test_given_name_disagreement_alone_does_not_flag():
    # 七夏 ナナミ is a real given name the dictionary does not read that way.
    evidence = name_kana_evidence("佐々木七夏", "ササキ ナナミ")
    assert evidence.family == "agree" and evidence.given == "unknown"
    assert not evidence.mismatch and not evidence.agrees


def test_kana_without_one_separator_is_no_support():
    evidence = name_kana_evidence("中川結衣", "ナカガワユイ")
    assert not evidence.separated and not evidence.agrees and not evidence.mismatch
    assert not name_kana_evidence("中川結衣", "ナカ ガワ ユイ").agrees


def test_unknown_characters_leave_the_question_open():
    assert name_kana_evidence("Smith", "スミス ジョン").family == "unknown"
    assert not name_kana_evidence("", "サトウ ケンタ").mismatch


def test_reads_as_whole_words():
    assert reads_as("鈴木", "スズキ")
    assert reads_as("すずき", "スズキ")
    assert not reads_as("鈴木", "スズ")


def test_name_kana_reasons():
    assert name_kana_reasons("佐藤健太", "サトウ ケンタ", "n", "k") == []
    assert name_kana_reasons("佐藤健太", "スズキ ケンタ", "n", "k") == [("n", "name_kana_mismatch"),
                                                                    ("k", "name_kana_mismatch")]
    assert name_kana_reasons("佐藤健太", "サトウケンタ", "n", "k") == [("k", "kana_separator_missing")]
    assert name_kana_reasons("佐藤健太", "サトウ ケン タ", "n", "k")[0] == ("k", "kana_separator_missing")
    assert name_kana_reasons(None, None, "n", "k") == []


def test_templates_declare_their_pairs_and_cross_field_check_applies():
    ido = load_template("ido_todoke")
    assert ido.name_kana_pairs == [("shotokusha_name", "shotokusha_kana")]
    kyuyo = load_template("kyuyo_hokoku")
    assert ("shimei", "kana") in kyuyo.name_kana_pairs and len(kyuyo.name_kana_pairs) == 10
    values = {spec.name: None for spec in ido.fields}
    values.update(shotokusha_name="佐藤健太", shotokusha_kana="スズキ ケンタ")
    reasons = validate_cross_fields(ido, values)
    assert "name_kana_mismatch" in reasons["shotokusha_name"] and "name_kana_mismatch" in reasons["shotokusha_kana"]
    values.update(shotokusha_kana="サトウ ケンタ")
    assert "shotokusha_kana" not in validate_cross_fields(ido, values)


def test_a_pair_must_name_a_text_and_a_kana_field():
    raw = load_template("ido_todoke").model_dump()
    with pytest.raises(ValueError, match="not a field"):
        Template.model_validate({**raw, "name_kana_pairs": [["shotokusha_name", "no_such_field"]]})
    with pytest.raises(ValueError, match="must be a kana field"):
        Template.model_validate({**raw, "name_kana_pairs": [["shotokusha_name", "shotokusha_name"]]})


@pytest.mark.parametrize("name, kana, separated", [
    ("中村 祐樹", "ナカムラユウキ", "ナカムラ ユウキ"),  # the name's own space says where the family name ends
    ("河野　花子", "コウノハナコ", "コウノ ハナコ"),
    ("中村小百合", "ナカムラーサユリ", "ナカムラ サユリ"),  # a printed 全角 space read as 「ー」
    ("鈴木 ユーリ", "スズキユーリ", "スズキ ユーリ"),  # a long vowel inside the given name stays
    ("中村祐樹", "ナカムラユウキ", None),  # no space anywhere: 中|村 or 中村| is a guess, left to a person
    ("佐藤 健太", "サトウ ケンタ", None),  # already separated
    ("佐藤 健太", "スズキケンタ", None),  # the family name does not read so
])
def test_the_kana_separator_is_put_back_only_where_the_name_places_it(name, kana, separated):
    assert separate_kana(name, kana) == separated


def test_a_name_with_a_foldable_character_goes_to_a_person():
    from ocr.read import _flag_possible_variants
    from ocr.result import FieldReading
    from ocr.templates import load_template

    template = load_template("ido_todoke")
    readings = {"shotokusha_name": FieldReading(value="高木香織", confidence=0.999, status="accepted", reasons=[]),
                "shotokusha_kana": FieldReading(value="タカギ カオリ", confidence=0.999, status="accepted", reasons=[])}
    _flag_possible_variants(template, readings)
    assert readings["shotokusha_name"].status == "review"
    assert readings["shotokusha_name"].reasons == ["variant_possible"]
    assert readings["shotokusha_kana"].status == "accepted"
    plain = {"shotokusha_name": FieldReading(value="佐藤健太", confidence=0.999, status="accepted", reasons=[])}
    _flag_possible_variants(template, plain)
    assert plain["shotokusha_name"].status == "accepted"


@pytest.mark.parametrize("kana, accepted", [("ナカムラ サユリ", True), ("ナカムラ サユコ", False)])
def test_a_low_scored_kana_is_accepted_only_when_the_accepted_name_reads_as_it(kana, accepted):
    from ocr.read import _accept_kana_the_name_reads_as
    from ocr.result import FieldReading
    from ocr.templates import load_template

    readings = {"shotokusha_name": FieldReading(value="中村小百合", confidence=0.998, status="accepted", reasons=[]),
                "shotokusha_kana": FieldReading(value=kana, confidence=0.93, status="review",
                                                reasons=["low_confidence"])}
    _accept_kana_the_name_reads_as(load_template("ido_todoke"), readings)
    assert (readings["shotokusha_kana"].status == "accepted") is accepted
    assert readings["shotokusha_kana"].confidence == 0.93


@pytest.mark.parametrize("name, kana, cut", [
    ("遠藤修平", "エンドウ シュウヘ", True),  # stops inside 平's reading
    ("橋本淳", "ハシモト ジュ", True),
    ("近藤美香子", "コンドウ ミカ", True),  # stops before the last character
    ("遠藤修平", "エンドウ シュウヘイ", False),
    ("佐藤七夏", "サトウ ナナミ", False),  # a reading no dictionary holds is not a cut one
])
def test_a_kana_cut_short_is_told_from_a_reading_the_dictionary_does_not_know(name, kana, cut):
    from ocr.validate import name_kana_reasons

    assert name_kana_evidence(name, kana).given_cut is cut
    assert (("kana", "kana_cut_short") in name_kana_reasons(name, kana, "name", "kana")) is cut


def test_a_name_is_variant_prone_where_the_recogniser_folds_a_variant_into_what_it_read():
    # 濵 is read 濱, 演 or 瀘, 嵜 is read 寄, 髙 is read 高: a person must look at each of these.
    assert all(may_be_variant(name) for name in ("濱田太郎", "濵田太郎", "演田太郎", "髙木", "高木", "宮寄", "宮崎"))
    # 辺/邊, 浜/濱 and 篭/籠 are read as written: 渡辺 and 浜田 are as sure as their scores.
    assert not any(may_be_variant(name) for name in ("佐藤太郎", "渡辺健", "浜田学", "篭池明"))


@pytest.mark.parametrize("name_reasons, name_score, accepted", [
    (["variant_possible"], 0.999, True),  # 高橋 may be 髙橋: the reading タカハシ stands either way
    (["low_confidence"], 0.93, True),
    (["low_confidence"], 0.4, False),  # a name the engine hardly saw vouches for nothing
    (["unlikely_character"], 0.999, False),
    (["text_beyond_box"], 0.999, False),  # a name touching its frame may be cut as its kana is: 美加 / ミカ
])
def test_a_name_waiting_for_a_person_still_vouches_for_its_kana_unless_it_has_a_problem(name_reasons, name_score,
                                                                                         accepted):
    from ocr.read import _accept_kana_the_name_reads_as
    from ocr.result import FieldReading
    from ocr.templates import load_template

    readings = {"shotokusha_name": FieldReading(value="高橋裕樹", confidence=name_score, status="review",
                                                reasons=list(name_reasons), engine_score=name_score),
                "shotokusha_kana": FieldReading(value="タカハシ ユウキ", confidence=0.93, status="review",
                                                reasons=["low_confidence"])}
    _accept_kana_the_name_reads_as(load_template("ido_todoke"), readings)
    assert (readings["shotokusha_kana"].status == "accepted") is accepted
    assert readings["shotokusha_name"].status == "review"


@pytest.mark.parametrize("kana, accepted", [("ナカムラ クミコ", True), ("ナカムラ クミ", False), ("ナカムラ クミニ", False)])
def test_a_kana_touching_its_frame_is_accepted_only_when_the_whole_name_reads_as_it(kana, accepted):
    from ocr.read import _accept_kana_the_name_reads_as
    from ocr.result import FieldReading
    from ocr.templates import load_template

    readings = {"shotokusha_name": FieldReading(value="中村久美子", confidence=0.999, status="accepted", reasons=[]),
                "shotokusha_kana": FieldReading(value=kana, confidence=0.999, status="review",
                                                reasons=["text_beyond_box"])}
    _accept_kana_the_name_reads_as(load_template("ido_todoke"), readings)
    assert (readings["shotokusha_kana"].status == "accepted") is accepted


def test_a_name_does_not_vouch_for_a_kana_a_look_alike_away_from_another_of_its_readings():
    from ocr.evidence import confusable_readings
    from ocr.read import _accept_kana_the_name_reads_as
    from ocr.result import FieldReading
    from ocr.templates import load_template

    assert confusable_readings("岡本稔", "オカモト ミノル") == ["オカモト ミノリ"]  # 稔: ミノル or ミノリ
    assert confusable_readings("中村小百合", "ナカムラ サユリ") == []
    readings = {"shotokusha_name": FieldReading(value="岡本稔", confidence=0.999, status="accepted", reasons=[]),
                "shotokusha_kana": FieldReading(value="オカモト ミノリ", confidence=0.91, status="review",
                                                reasons=["low_confidence"])}
    _accept_kana_the_name_reads_as(load_template("ido_todoke"), readings)
    assert readings["shotokusha_kana"].status == "review"


@pytest.mark.parametrize("name, kana, flagged", [
    ("山本学", "ヤマモト マナプ", True),  # プ for ブ: 学 reads マナブ
    ("山本学", "ヤマモト マナブ", False),
    ("佐藤七夏", "サトウ ナナミ", False),  # a reading no dictionary holds, and no look-alike of one
])
def test_a_kana_one_look_alike_away_from_the_name_s_reading_goes_to_a_person(name, kana, flagged):
    from ocr.validate import name_kana_reasons

    reasons = name_kana_reasons(name, kana, "name", "kana")
    assert (("kana", "kana_lookalike_of_reading") in reasons) is flagged


@pytest.mark.parametrize("name, kana, cut", [
    ("山田明", "ヤマダ アケミ", True),  # 明美 with its last character lost, accepted at 0.9993 before
    ("佐藤健", "サトウ ケンタ", True),
    ("山田明美", "ヤマダ アケミ", False),
    ("佐藤健", "サトウ タケシ", False),  # one character read in full: タケシ is a reading of 健
    ("鈴木博", "スズキ ヒロシ", False),
    ("高橋栞", "タカハシ シオリ", False),
    ("佐藤翔太", "サトウ ショウタロウ", True),  # 翔太郎 with 郎 lost
])
def test_a_name_that_reads_as_only_the_beginning_of_its_kana_has_lost_its_end(name, kana, cut):
    from ocr.validate import name_kana_reasons

    assert (("name", "name_cut_short") in name_kana_reasons(name, kana, "name", "kana")) is cut
