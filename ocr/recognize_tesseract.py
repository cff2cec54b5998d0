"""Tesseract (Debian's 5.3 with the `jpn` model) as a peer recogniser for field crops, through pytesseract.

Each call reads all crops of a page in as few Tesseract runs as possible: the crops are written as PNGs and
Tesseract is given a list file, so the `jpn` model is loaded once per run instead of once per crop (14 ms a crop
against 154 ms with one run per crop, measured here on single-line crops, OMP_THREAD_LIMIT=1). Every crop is read
as one text line (`--psm 7`) at the template's 200 dpi with the LSTM engine (`--oem 1`).

Charset-restricted fields: Tesseract ≥ 4.1 does honour `tessedit_char_whitelist` in the LSTM engine (5.3 here),
but (a) it drops characters outside the list instead of mapping look-alikes ("O12l3S" → "0123"), and (b) every
word read with a whitelist reports confidence 0 (tesseract-ocr/tesseract#3856, madmaze/pytesseract#437). So a
crop with a charset is read twice: once whitelisted (that text is returned) and once freely (its word confidences
give the score). The free reading folded onto the charset with the same look-alike rules as rapidocr's restricted
decoding (O→0, 力→カ, separators dropped …) must agree with the whitelisted one; where they differ the score is
halved, so the field goes to a person rather than being accepted on a confidence that belongs to other text.

Spaces: Tesseract puts a space where it sees a gap, not between every Japanese character; ocr/normalize.py already
closes spaces inside Japanese text and removes them from numeric kinds, so they are passed through as read.

The score is the mean of Tesseract's per-word confidences (image_to_data's TSV `conf`, 0-100) weighted by the
characters in each word, divided by 100. Nothing here downloads: the `jpn` model comes from the Debian package
tesseract-ocr-jpn (`make setup`).
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

import numpy as np

from ocr.recognize import SEPARATOR_CLASSES, Recognition, _fold_target

TEMPLATE_DPI = 200
# A crop whose free and whitelisted readings disagree keeps this share of its score.
DISAGREEMENT_FACTOR = 0.5
# Seconds for one Tesseract run over a page's crops (a page has about 25).
RUN_TIMEOUT_S = 120


class TesseractRecognizer:
    """Tesseract `jpn`, LSTM, one line per crop; crops of one page read in one Tesseract process per charset."""

    name = "tesseract"

    def __init__(self, *, lang: str = "jpn", threads: int = 1, dpi: int = TEMPLATE_DPI,
                 timeout_s: int = RUN_TIMEOUT_S) -> None:
        import pytesseract

        self._pytesseract = pytesseract
        # Tesseract's OpenMP would start a thread per core in every worker process; the batch runs one worker
        # per core already, and one thread a process was 4x faster here (14 against 57 ms a crop).
        os.environ.setdefault("OMP_THREAD_LIMIT", str(threads))
        try:
            version = pytesseract.get_tesseract_version()
            languages = pytesseract.get_languages(config="")
        except pytesseract.TesseractNotFoundError as exc:
            raise RuntimeError("tesseract is not installed: run make setup (Debian tesseract-ocr)") from exc
        if lang not in languages:
            raise RuntimeError(f"Tesseract has no {lang!r} model: run make setup (Debian tesseract-ocr-{lang})")
        self.version = str(version)
        self.lang = lang
        self.dpi = dpi
        self.timeout_s = timeout_s

    def recognize(self, crops: list[np.ndarray], charset: list[str | None]) -> list[Recognition]:
        if len(charset) != len(crops):
            raise ValueError(f"{len(crops)} crops but {len(charset)} charsets")
        results: list[Recognition] = [Recognition("", 0.0)] * len(crops)
        readable = [i for i, crop in enumerate(crops) if crop.size and min(crop.shape[:2]) >= 4]
        if not readable:
            return results
        with tempfile.TemporaryDirectory(prefix="taxintake-tess-") as scratch:
            folder = Path(scratch)
            files = {i: _write_png(folder / f"{i}.png", crops[i]) for i in readable}
            free = self._read(folder, "free", [files[i] for i in readable], None)
            free_by_index = dict(zip(readable, free))
            for allowed in sorted({charset[i] for i in readable if charset[i] is not None}):
                members = [i for i in readable if charset[i] == allowed]
                restricted = self._read(folder, f"w{len(allowed)}", [files[i] for i in members], allowed)
                for i, (whitelisted, _) in zip(members, restricted):
                    results[i] = _combine(whitelisted, *free_by_index[i], allowed)
            for i in readable:
                if charset[i] is None:
                    text, score = free_by_index[i]
                    results[i] = Recognition(text, round(score, 5) if text else 0.0)
        return results

    def _read(self, folder: Path, tag: str, images: list[Path], allowed: str | None) -> list[tuple[str, float]]:
        """(text, score) for each image, from one Tesseract run over a list file of them."""
        listing = folder / f"{tag}.list.txt"
        listing.write_text("".join(f"{path}\n" for path in images), encoding="utf-8")
        base = folder / tag
        config = f"--psm 7 --oem 1 --dpi {self.dpi} -c tessedit_create_tsv=1 -c tessedit_create_txt=1"
        whitelist = "".join(dict.fromkeys(ch for ch in (allowed or "") if not ch.isspace()))
        if whitelist:
            config += f" -c tessedit_char_whitelist={whitelist}"
        self._pytesseract.pytesseract.run_tesseract(str(listing), str(base), extension="", lang=self.lang,
                                                    config=config, timeout=self.timeout_s)
        texts = (base.with_suffix(".txt")).read_text(encoding="utf-8").split("\f")
        scores, words = _tsv_scores(base.with_suffix(".tsv").read_text(encoding="utf-8"), len(images))
        if len(texts) != len(images):  # a list file read otherwise than one page per image: trust the TSV
            texts = ["".join(page_words) for page_words in words]
        return [(text.strip(), score) for text, score in zip(texts, scores)]


def _combine(whitelisted: str, free_text: str, free_score: float, allowed: str) -> Recognition:
    """One reading from the whitelisted text and the free reading with its confidence (see the module notes).

    They agree when they hold the same characters apart from spaces and separators (a comma read as a period).
    Agreeing, the folded free reading is returned where the charset allows spaces (the whitelisted run drops the
    gap between family and given names), else the whitelisted text. Disagreeing, the longer of the two (the
    whitelist's known failure is dropping characters: "O12l3S" → "0123"), at a halved score."""
    folded = " ".join(fold_onto(free_text, allowed).split())
    spaces_allowed = bool(set(allowed) & {" ", "\u3000"})
    if not spaces_allowed:
        folded = _without_spaces(folded)
    if _content(folded) == _content(whitelisted):
        text, score = (folded if spaces_allowed else whitelisted), free_score
    else:
        longer = len(_content(folded)) > len(_content(whitelisted))
        text, score = (folded if longer else whitelisted), free_score * DISAGREEMENT_FACTOR
    return Recognition(text, round(score, 5) if text else 0.0)


def _content(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace() and ch not in SEPARATOR_CLASSES)


def fold_onto(text: str, allowed: str) -> str:
    """A free reading as the charset can hold it: look-alikes counted for their character, the rest dropped."""
    allowed_set = set(allowed)
    folded = (_fold_target(ch, allowed_set) if not ch.isspace() else ch for ch in text)
    return "".join(ch for ch in folded if ch)


def _without_spaces(text: str) -> str:
    return "".join(text.split())


def _write_png(path: Path, crop: np.ndarray) -> Path:
    from PIL import Image

    pixels = np.ascontiguousarray(crop)
    if pixels.dtype != np.uint8:
        pixels = np.clip(pixels, 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, dpi=(TEMPLATE_DPI, TEMPLATE_DPI))
    return path


def _tsv_scores(tsv: str, pages: int) -> tuple[list[float], list[list[str]]]:
    """Per page: character-weighted mean word confidence in 0..1, and the words."""
    weighted = [0.0] * pages
    characters = [0] * pages
    words: list[list[str]] = [[] for _ in range(pages)]
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        page = int(row["page_num"]) - 1
        if not 0 <= page < pages:
            continue
        confidence = max(0.0, min(100.0, float(row["conf"])))
        weighted[page] += confidence * len(text)
        characters[page] += len(text)
        words[page].append(text)
    scores = [weighted[p] / characters[p] / 100.0 if characters[p] else 0.0 for p in range(pages)]
    return scores, words
