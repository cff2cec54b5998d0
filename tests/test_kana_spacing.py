"""The family/given space of a kana name, as the decoder places it from the gaps between characters, and kana of
the wrong size flagged by the normaliser."""
from __future__ import annotations

import pytest

from ocr.normalize import normalize
from ocr.recognize import _text_with_gap_spaces


def _runs(text: str, centres: list[int]) -> list[tuple[str, int, int, float]]:
    """One run per character, a timestep either side of its centre, as greedy CTC decoding makes them."""
    assert len(text) == len(centres)
    return [(ch, centre - 1, centre + 1, 0.99) for ch, centre in zip(text, centres)]


def test_one_space_at_the_clearly_widest_gap():
    # アベ|ヨウスケ: steps of 4 and one of 9.
    assert _text_with_gap_spaces(_runs("アベヨウスケ", [2, 6, 15, 19, 23, 27])) == "アベ ヨウスケ"


def test_a_modestly_wide_gap_among_ordinary_steps_still_separates():
    # Steps 4, 7, 5, 4, 4: the 7 is wide (≥ 1.5 × 4) and the 5 is not, so nothing competes with it.
    assert _text_with_gap_spaces(_runs("アベヨウスケ", [2, 6, 13, 18, 22, 26])) == "アベ ヨウスケ"


def test_never_a_second_space_inside_the_given_name():
    # The gap after ヨウ (7) is wide by the old rule but clearly narrower than the family/given gap (11).
    assert _text_with_gap_spaces(_runs("アベヨウスケ", [2, 6, 17, 21, 28, 32])) == "アベ ヨウスケ"


def test_two_gaps_of_about_the_same_width_give_no_space():
    # ナカ|ガワ|ユイ spaced evenly by hand: which gap separates the names is not clear, so none is guessed (the
    # name/kana check then sends the field to review for its missing separator).
    assert _text_with_gap_spaces(_runs("ナカガワユイ", [2, 6, 14, 18, 27, 31])) == "ナカガワユイ"


def test_no_space_without_a_wide_gap_or_when_the_model_gave_one():
    assert _text_with_gap_spaces(_runs("サトウケンタ", [2, 6, 11, 15, 18, 23])) == "サトウケンタ"
    assert _text_with_gap_spaces(_runs("サトウ ケンタ", [2, 6, 10, 13, 16, 20, 24])) == "サトウ ケンタ"
    assert _text_with_gap_spaces(_runs("サト", [2, 12])) == "サト"


@pytest.mark.parametrize("reading", ["シヨウタ", "ジユン", "リユウ", "ッバサ", "サッ", "ヤマダ ッバサ", "サィトウ"])
def test_wrong_size_kana_is_flagged_not_changed(reading):
    result = normalize("kana", reading)
    assert result.value == reading and "small_kana_suspicious" in result.problems


@pytest.mark.parametrize("reading", ["ショウタ", "ジュン", "ツバサ", "ハットリ", "キヨシ", "ニシヤマ", "ヨシユキ",
                                     "イッセイ", "サイトウ ケンタ"])
def test_right_size_kana_is_not_flagged(reading):
    assert normalize("kana", reading).problems == []
