"""The recogniser on real crops rendered with the Debian IPAex fonts: exact reads, digits-only decoding, no network."""
from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr.recognize import (
    ClassFolding,
    RapidOCRRecognizer,
    Recognition,
    Recognizer,
    decode_restricted,
    make_recognizer,
    RECOGNIZERS,
    rapidocr_model_path,
    register_recognizer,
)

MINCHO = "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf"
GOTHIC = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
DIGITS = "0123456789"
KATAKANA = "".join(chr(c) for c in range(ord("ァ"), ord("ヶ") + 1)) + "ー　 "

pytestmark = pytest.mark.skipif(not (Path(MINCHO).exists() and Path(GOTHIC).exists()),
                                reason="fonts-ipaexfont is not installed (make setup)")


def render_line(text: str, font: str = MINCHO, size: int = 40) -> np.ndarray:
    """A grey single-line crop as the reader cuts it from a 200 dpi page: dark text, a white margin."""
    face = ImageFont.truetype(font, size)
    left, top, right, bottom = face.getbbox(text)
    image = Image.new("L", (right - left + 24, bottom - top + 20), 255)
    ImageDraw.Draw(image).text((12 - left, 10 - top), text, font=face, fill=0)
    return np.array(image)


def render_cells(text: str, cells: int, font: str = GOTHIC) -> np.ndarray:
    """Digits right-aligned in a row of printed cells, cell lines included (the reader keeps them)."""
    cell, height, inset = 44, 48, 4
    face = ImageFont.truetype(font, 32)
    image = Image.new("L", (cell * cells - 2 * inset, height - 2 * inset), 255)
    draw = ImageDraw.Draw(image)
    for i in range(1, cells):
        draw.line([(i * cell - inset, 0), (i * cell - inset, height)], fill=0, width=2)
    first = cells - len(text)
    for i, ch in enumerate(text):
        draw.text(((first + i) * cell - inset + cell / 2, height / 2 - inset), ch, font=face, fill=0, anchor="mm")
    return np.array(image)


@pytest.fixture(scope="module")
def recognizer() -> RapidOCRRecognizer:
    return RapidOCRRecognizer()


def read(recognizer: Recognizer, crop: np.ndarray, charset: str | None = None) -> Recognition:
    return recognizer.recognize([crop], [charset])[0]


def test_kanji_name(recognizer):
    assert read(recognizer, render_line("山田太郎")).text == "山田太郎"


def test_katakana_name_free_text(recognizer):
    assert read(recognizer, render_line("サトウケンタ")).text == "サトウケンタ"


def test_katakana_name_with_kana_charset_keeps_the_space_between_names(recognizer):
    # The model itself drops the full-width space; the restricted decoder puts it back from the gap.
    for font in (MINCHO, GOTHIC):
        assert read(recognizer, render_line("サトウ　ケンタ", font), KATAKANA).text == "サトウ ケンタ"
        assert read(recognizer, render_line("イトウ　タカシ", font), KATAKANA).text == "イトウ タカシ"
    assert read(recognizer, render_line("サトウケンタ"), KATAKANA).text == "サトウケンタ"


def test_amount(recognizer):
    crop = render_line("1,234,500")
    assert read(recognizer, crop).text == "1,234,500"
    assert read(recognizer, crop, DIGITS + ",△▲-").text == "1,234,500"
    # Digits only: the commas are dropped, not forced into the nearest digit.
    assert read(recognizer, crop, DIGITS).text == "1234500"


def test_twelve_digit_number(recognizer):
    crop = render_line("123456789018", GOTHIC)
    assert read(recognizer, crop).text == "123456789018"
    assert read(recognizer, crop, DIGITS).text == "123456789018"


@pytest.mark.parametrize("digits, cells", [("123456789018", 12), ("7000012050002", 13), ("12345", 8)])
def test_digits_in_printed_cells(recognizer, digits, cells):
    crop = render_cells(digits, cells)
    # Free text reads the cell lines as "|" and some zeros as "ο"; digits-only decoding reads the number.
    assert read(recognizer, crop, DIGITS).text == digits


@pytest.mark.parametrize("written, expected", [("1O5", "105"), ("l2S4", "1254"), ("2O24", "2024")])
def test_digits_only_decoding_of_lookalikes(recognizer, written, expected):
    crop = render_line(written, GOTHIC)
    result = read(recognizer, crop, DIGITS)
    assert result.text.isdigit()
    assert result.text == expected


def test_free_text_matches_rapidocr_own_call(recognizer):
    from rapidocr import RapidOCR

    crop = render_line("千葉市中央区千葉港1-1")
    engine = RapidOCR(params={"Global.log_level": "warning", "Rec.model_path": str(rapidocr_model_path())})
    theirs = engine(np.dstack([crop] * 3), use_det=False, use_cls=False, use_rec=True)
    ours = read(recognizer, crop)
    assert ours.text == theirs.txts[0] == "千葉市中央区千葉港1-1"
    assert ours.score == pytest.approx(theirs.scores[0], abs=0.01)


def test_batch_keeps_input_order_and_mixes_charsets(recognizer):
    texts = ["山田太郎", "1,234,500", "123456789018", "令和6年4月15日", "サトウケンタ", "7,000", "千葉市",
             "99", "特別徴収", "0"]
    charsets = [None, DIGITS, DIGITS, None, None, DIGITS, None, DIGITS, None, DIGITS]
    results = recognizer.recognize([render_line(t) for t in texts], charsets)
    assert [r.text for r in results] == ["山田太郎", "1234500", "123456789018", "令和6年4月15日", "サトウケンタ",
                                        "7000", "千葉市", "99", "特別徴収", "0"]
    assert all(0.0 < r.score <= 1.0 for r in results)


def test_empty_input_and_degenerate_crops(recognizer):
    assert recognizer.recognize([], []) == []
    blank = np.full((40, 120), 255, np.uint8)
    results = recognizer.recognize([np.zeros((0, 10), np.uint8), blank], [None, DIGITS])
    assert results[0] == Recognition("", 0.0)
    assert results[1].text == ""
    with pytest.raises(ValueError):
        recognizer.recognize([blank], [])


def test_restricted_score_is_lowered_by_mass_outside_the_charset():
    characters = ["blank", "0", "1", "万", " "]
    folding = ClassFolding.build(characters, DIGITS)
    # Three timesteps: "1" sure, blank, then a glyph the model takes for 万 with a little "1".
    probabilities = np.array([[0.0, 0.0, 1.0, 0.0, 0.0],
                              [1.0, 0.0, 0.0, 0.0, 0.0],
                              [0.05, 0.0, 0.15, 0.8, 0.0]])
    result = decode_restricted(probabilities, folding)
    assert result.text == "11"
    assert result.score == pytest.approx((1.0 + 0.15) / 2)


def test_recognizer_never_touches_the_network(monkeypatch):
    import rapidocr
    from rapidocr.utils.download_file import DownloadFile

    model = rapidocr_model_path()
    assert model.is_file() and Path(rapidocr.__file__).resolve().parent in model.parents

    def refuse(*args, **kwargs):
        raise AssertionError("the recogniser tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(DownloadFile, "run", refuse)
    fresh = RapidOCRRecognizer()
    assert fresh.model_path == model
    assert read(fresh, render_line("12", GOTHIC), DIGITS).text == "12"


def test_one_onnxruntime_thread(recognizer):
    session = recognizer._text_rec.session.session
    assert session.get_session_options().intra_op_num_threads == 1


def test_registry(monkeypatch):
    assert isinstance(make_recognizer("rapidocr"), RapidOCRRecognizer)
    with pytest.raises(ValueError, match="unknown recogniser"):
        make_recognizer("no-such-engine")

    class Echo:
        name = "echo"

        def recognize(self, crops, charset):
            return [Recognition("x", 1.0) for _ in crops]

    monkeypatch.setattr("ocr.recognize.RECOGNIZERS", dict(RECOGNIZERS))
    register_recognizer("echo", Echo)
    assert make_recognizer("echo").recognize([np.zeros((2, 2))], [None]) == [Recognition("x", 1.0)]
    assert isinstance(make_recognizer("ocr.recognize:RapidOCRRecognizer"), Recognizer)
    with pytest.raises(TypeError):
        make_recognizer("pathlib:PurePath")


def test_gap_space_only_where_the_gap_is_clearly_wider():
    from ocr.recognize import greedy_ctc

    outputs = ["", "サ", "ト", "ウ", "ケ", "ン", "タ", " "]

    def scores_at(steps: dict[int, int], length: int = 30) -> np.ndarray:
        scores = np.zeros((length, len(outputs)))
        scores[:, 0] = 1.0
        for step, output in steps.items():
            scores[step] = 0.0
            scores[step, output] = 1.0
        return scores

    spaced = scores_at({2: 1, 6: 2, 10: 3, 18: 4, 22: 5, 26: 6})  # a gap of 8 timesteps among steps of 4
    assert greedy_ctc(spaced, outputs, gap_spaces=True).text == "サトウ ケンタ"
    assert greedy_ctc(spaced, outputs, gap_spaces=False).text == "サトウケンタ"
    uneven = scores_at({2: 1, 6: 2, 11: 3, 15: 4, 18: 5, 23: 6})  # steps of 3 to 5: handwriting, no space
    assert greedy_ctc(uneven, outputs, gap_spaces=True).text == "サトウケンタ"


def test_a_period_between_digits_counts_as_the_comma_an_amount_allows():
    from ocr.recognize import ClassFolding

    characters = ["", "1", "2", ",", ".", "A"]
    folding = ClassFolding.build(characters, "0123456789,")
    outputs_of = dict(zip(folding.sources.tolist(), (folding.outputs[i] for i in folding.matrix.argmax(axis=1))))
    assert outputs_of[4] == ","  # the period is folded onto the comma, not dropped as a separator
    digits_only = ClassFolding.build(characters, "0123456789")
    outputs_of = dict(zip(digits_only.sources.tolist(), (digits_only.outputs[i] for i in digits_only.matrix.argmax(axis=1))))
    assert outputs_of[3] == outputs_of[4] == ""  # where no comma is allowed both are the blank


@pytest.mark.parametrize("font", [MINCHO, GOTHIC])
def test_the_probability_left_on_a_quiet_variant_tells_which_was_written(recognizer, font):
    from ocr.read import QUIET_VARIANT_ODDS, with_quiet_variants

    written_variant, written_common = recognizer.recognize(
        [render_line("髙橋翔太", font), render_line("高橋翔太", font)], [None, None])
    assert written_variant.text == written_common.text == "高橋翔太"  # the model itself chooses 高 for both
    (_, _, _, variant_odds), = written_variant.variant_odds
    (_, _, _, common_odds), = written_common.variant_odds
    assert variant_odds > QUIET_VARIANT_ODDS > common_odds
    assert with_quiet_variants(written_variant) == "髙橋翔太"
    assert with_quiet_variants(written_common) == "高橋翔太"


def test_quiet_variants_replace_only_the_occurrence_the_odds_name():
    from ocr.read import with_quiet_variants

    reading = Recognition("高橋高子", 0.99, variant_odds=((0, "高", "髙", 0.0001), (1, "高", "髙", 0.02)))
    assert with_quiet_variants(reading) == "高橋髙子"
    assert with_quiet_variants(Recognition("高橋", 0.99)) == "高橋"  # an engine without class probabilities


def test_a_character_that_nearly_beat_the_blank_shows_in_the_near_miss_text():
    folding = ClassFolding.build(["", "3", "0", ","], DIGITS + ",")
    # 33,000 as handwriting gave it: the second 3 lost to the blank 0.486 to 0.506, so greedy decoding reads 3,000.
    steps = [[0.74, 0.26, 0, 0], [0.003, 0.995, 0, 0], [0.99, 0, 0, 0], [0.506, 0.486, 0, 0], [0, 0, 0, 1.0],
             [0.99, 0, 0, 0], [0, 0, 1.0, 0], [0.99, 0, 0, 0], [0, 0, 1.0, 0], [0.99, 0, 0, 0], [0, 0, 1.0, 0]]
    reading = decode_restricted(np.array(steps, dtype=np.float32), folding)
    assert reading.text == "3,000"
    assert reading.near_miss_text == "33,000"
    # A character's own onset (0.26 before the 3 it belongs to) adds nothing.
    sure = decode_restricted(np.array(steps[:3] + steps[4:], dtype=np.float32), folding)
    assert sure.text == sure.near_miss_text == "3,000"
