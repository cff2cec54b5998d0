"""The Tesseract peer recogniser on crops rendered with the Debian IPAex Gothic font (make setup installs both)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr.recognize import Recognizer, make_recognizer
from ocr.recognize_tesseract import TesseractRecognizer, fold_onto

GOTHIC = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
DIGITS = "0123456789"
KATAKANA = "".join(chr(c) for c in range(ord("ァ"), ord("ヶ") + 1)) + "ー　 "


def render_line(text: str, size: int = 40) -> np.ndarray:
    face = ImageFont.truetype(GOTHIC, size)
    left, top, right, bottom = face.getbbox(text)
    image = Image.new("L", (right - left + 24, bottom - top + 20), 255)
    ImageDraw.Draw(image).text((12 - left, 10 - top), text, font=face, fill=0)
    return np.array(image)


@pytest.fixture(scope="module")
def recognizer() -> TesseractRecognizer:
    return TesseractRecognizer()


def test_reads_digit_strings_exactly_with_scores_in_range(recognizer: TesseractRecognizer) -> None:
    texts = ["1234567890", "20240401", "4300012345678", "5551212"]
    results = recognizer.recognize([render_line(t) for t in texts], [DIGITS] * len(texts))
    assert [r.text for r in results] == texts
    assert all(0.0 <= r.score <= 1.0 for r in results)
    assert all(r.score > 0.5 for r in results)  # the whitelisted run's confidence 0 is not what is reported


def test_reads_japanese_with_scores_in_range(recognizer: TesseractRecognizer) -> None:
    crops = [render_line("千葉県千葉市"), render_line("ヤマダ　タロウ"), render_line("令和6年4月1日"),
             np.full((40, 200), 255, dtype=np.uint8), np.zeros((1, 1), dtype=np.uint8)]
    results = recognizer.recognize(crops, [None, KATAKANA, None, DIGITS, None])
    assert len(results) == len(crops)
    assert all(0.0 <= r.score <= 1.0 for r in results)
    assert results[0].text == "千葉県千葉市"
    assert results[1].text.replace(" ", "") == "ヤマダタロウ"
    assert results[4].text == "" and results[4].score == 0.0


def test_charset_fold_maps_lookalikes_and_drops_the_rest() -> None:
    assert fold_onto("O12I3S", DIGITS) == "012135"
    assert fold_onto("1.234,500円", DIGITS + ",") == "1,234,500"  # a period in an amount is its comma
    assert fold_onto("1.234,500円", DIGITS) == "1234500"


def test_registered_and_lazily_imported(recognizer: TesseractRecognizer) -> None:
    made = make_recognizer("tesseract")
    assert isinstance(made, Recognizer) and made.name == "tesseract"
    assert made.recognize([render_line("0120")], [DIGITS])[0].text == "0120"
    probe = "import sys, ocr.recognize; print('pytesseract' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "False"
