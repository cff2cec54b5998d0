"""Text recognition of field crops (no detection: the template says where the text is).

`Recognizer` is what the reading chain needs from an engine. `RapidOCRRecognizer` runs PP-OCRv6 small from the
`rapidocr` wheel on onnxruntime through rapidocr's own preprocessing and session, and adds charset-restricted
decoding: for a field with a charset, the model's classes are folded onto the allowed characters before the CTC
greedy decode — look-alikes count for their character (O for 0, 力 for カ), separators and cell lines count as the
blank, everything else takes no part — so an "O" the model half-believes becomes the "0" the field can hold, and
a comma is dropped rather than forced into a digit. The study measured amounts 94% → 100% exact with digits-only
decoding. Free text (charset None) uses rapidocr's normal decoder unchanged.

Nothing here downloads: the model path is set explicitly to the file inside the wheel, and the character list
comes from the model's own metadata. About 15-20 ms a crop on one onnxruntime thread, with or without a charset
(the decode itself is < 0.1 ms); a 13-cell boxed row about 45 ms.
"""
from __future__ import annotations

import importlib
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Recognition:
    text: str
    score: float
    # The probability of each character of `text` that is not a space, in order (empty from engines without it):
    # one unsure character in a confident line is evidence the mean score hides.
    char_scores: tuple[float, ...] = ()
    # For characters that may hide a register variant the model has a class for but hardly ever chooses (高 for
    # 髙): (which occurrence of the character in `text`, 0 first; the character; the variant; the variant's
    # probability over the character's). Empty from engines without per-class probabilities.
    variant_odds: tuple[tuple[int, str, str, float], ...] = ()
    # The text had every timestep where the blank won but a character came close (NEAR_MISS_FLOOR) taken as that
    # character: a repeated digit merged (33,000 read 3,000) or one left out shows as a longer text here. Set by
    # charset-restricted decoding only; empty from engines without per-class probabilities.
    near_miss_text: str = ""


@runtime_checkable
class Recognizer(Protocol):
    name: str

    def recognize(self, crops: list[np.ndarray], charset: list[str | None]) -> list[Recognition]:
        """One Recognition per crop; `charset[i]` is None for free text or the characters crop i may contain."""
        ...


def rapidocr_model_path() -> Path:
    import rapidocr

    return Path(rapidocr.__file__).resolve().parent / "models" / "PP-OCRv6_rec_small.onnx"


class RapidOCRRecognizer:
    """PP-OCRv6 small recognition through rapidocr 3.10's own preprocessing, session and CTC decoder.

    One onnxruntime thread by default: the study found one thread per process, one process per core, faster.
    """

    name = "rapidocr"

    def __init__(self, *, threads: int = 1, batch_size: int | None = None) -> None:
        from rapidocr import RapidOCR
        from rapidocr.utils.load_image import LoadImage

        model_path = rapidocr_model_path()
        if not model_path.is_file():
            raise FileNotFoundError(f"{model_path}: the recognition model is not inside the installed rapidocr wheel")
        params = {
            "Global.log_level": "warning",
            "Global.use_det": False,
            "Global.use_cls": False,
            "Global.use_rec": True,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "Rec.model_path": str(model_path),
        }
        if batch_size:
            params["Rec.rec_batch_num"] = batch_size
        engine = RapidOCR(params=params)
        # rapidocr builds its TextRecognizer lazily on the first call; this is that same step, without a dummy read.
        self._text_rec = engine._load_rec_model()
        self._to_bgr = LoadImage()
        self._decoder = self._text_rec.postprocess_op
        self._characters: list[str] = list(self._decoder.character)  # [blank, …the model's characters…, " "]
        self._foldings: dict[str, ClassFolding] = {}
        index = {ch: i for i, ch in enumerate(self._characters)}
        self._variant_classes = {index[common]: index[variant] for common, variant in QUIET_VARIANTS.items()
                                 if common in index and variant in index}
        self.model_path = model_path

    def recognize(self, crops: list[np.ndarray], charset: list[str | None]) -> list[Recognition]:
        if len(charset) != len(crops):
            raise ValueError(f"{len(crops)} crops but {len(charset)} charsets")
        results: list[Recognition] = [Recognition("", 0.0)] * len(crops)
        readable = [i for i, crop in enumerate(crops) if crop.size and min(crop.shape[:2]) >= 2]
        images = {i: self._to_bgr(np.ascontiguousarray(crops[i])) for i in readable}
        for batch in _similar_width_batches(readable, images, self._text_rec.rec_batch_num):
            probabilities = self._class_probabilities([images[i] for i in batch])
            for row, index in enumerate(batch):
                results[index] = self._decode(probabilities[row:row + 1], charset[index])
        return results

    def _class_probabilities(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(batch, timesteps, classes) softmax output for images of one batch, padded to the widest."""
        _, height, width = self._text_rec.rec_image_shape[:3]
        max_wh_ratio = max([width / height] + [image.shape[1] / image.shape[0] for image in images])
        batch = np.stack([self._text_rec.resize_norm_img(image, max_wh_ratio) for image in images])
        return self._text_rec.session(batch.astype(np.float32))

    def _decode(self, probabilities: np.ndarray, allowed: str | None) -> Recognition:
        if allowed is None:
            return greedy_ctc(probabilities[0], self._characters, gap_spaces=False, variants=self._variant_classes)
        if allowed not in self._foldings:
            self._foldings[allowed] = ClassFolding.build(self._characters, allowed)
        return decode_restricted(probabilities[0], self._foldings[allowed])


# Crops are batched only with crops of nearly the same aspect ratio. Padding a short crop out to a long one's width
# changed 15 of 312 readings on generated forms (one dropped a name's first character at score 0.9996) and made
# the page slower (12.2 s against 7.2 s for 24 pages one crop at a time).
BATCH_ASPECT_TOLERANCE = 1.05


def _similar_width_batches(indices: list[int], images: dict[int, np.ndarray], batch_size: int) -> list[list[int]]:
    def aspect(i: int) -> float:
        return images[i].shape[1] / images[i].shape[0]

    batches: list[list[int]] = []
    for index in sorted(indices, key=aspect):
        current = batches[-1] if batches else None
        if current and len(current) < batch_size and aspect(index) <= aspect(current[0]) * BATCH_ASPECT_TOLERANCE:
            current.append(index)
        else:
            batches.append([index])
    return batches


# --- charset-restricted CTC decoding --------------------------------------------------------------------------

# Classes whose probability belongs to an allowed character when that character is allowed and they are not:
# the model's look-alikes. Full-width forms and hiragana are folded by rule (NFKC, hiragana → katakana).
LOOKALIKE_SOURCES = {
    "0": "OoοΟ〇○DQ", "1": "lIiı!ｌ", "2": "Zz", "5": "Ss", "6": "bG", "8": "B", "9": "gq",
    "カ": "力", "エ": "工", "ロ": "口", "タ": "夕", "ト": "卜", "ニ": "二", "ハ": "八", "ヘ": "へ",
    "ー": "一-−–—―",
    # At 200 dpi a printed comma and a period differ by a pixel or two: the model split 4,370,760's commas
    # 0.54/0.46 between them, a clean amount scored 0.94 and went to a person. An amount has no decimals.
    ",": ".．、",
}
# Marks that carry no content in a restricted field (group separators, cell lines, spaces): when not allowed
# their probability counts as the blank, so a comma or a cell line is dropped instead of becoming the nearest
# digit (digits-only decoding of "1,234,500" otherwise reads "192349500").
SEPARATOR_CLASSES = set(" 　,，.．、。-−–—―ー一'`·・:|/")
# Where a charset allows spaces, one space (never more: a kana name has exactly one, between family and given
# name) is emitted at the widest step between two characters' centres, when that step is this many times the
# line's usual step and at least SPACE_GAP_MIN_EXTRA timesteps (8 px at the model's 48 px height) more, and at
# least SPACE_GAP_MIN_EXTRA more than any other step that is wide by that rule: the model itself drops the space
# between family and given names. Within a name steps vary by ±1; a full-width space adds 3-5 timesteps. Two wide
# gaps of about the same width (handwriting spaced unevenly: ナカ ガワ ユイ) give no space, and the name/kana check
# sends the field to review for its missing separator instead of accepting a space in the wrong place.
SPACE_GAP_RATIO = 1.5
SPACE_GAP_MIN_EXTRA = 2


@dataclass(frozen=True)
class ClassFolding:
    """How the model's classes map onto the outputs of one charset. outputs[0] is the CTC blank."""
    sources: np.ndarray  # class indices taking part
    matrix: np.ndarray  # (len(sources), len(outputs)) one-hot: which output each source class counts for
    outputs: tuple[str, ...]
    spaces_allowed: bool

    @classmethod
    def build(cls, characters: Sequence[str], allowed: str) -> "ClassFolding":
        allowed_set = set(allowed)
        target_of = {0: ""}
        for index, ch in enumerate(characters):
            if index == 0:
                continue
            target = _fold_target(ch, allowed_set)
            if target is not None:
                target_of[index] = target
        outputs = ("",) + tuple(sorted({t for t in target_of.values() if t}))
        position = {out: i for i, out in enumerate(outputs)}
        sources = np.array(sorted(target_of))
        matrix = np.zeros((len(sources), len(outputs)), dtype=np.float32)
        for row, index in enumerate(sources):
            matrix[row, position[target_of[index]]] = 1.0
        return cls(sources, matrix, outputs, bool(allowed_set & {" ", "\u3000"}))


def _fold_target(ch: str, allowed: set[str]) -> str | None:
    """The allowed character a class counts for, "" for the blank, or None when it takes no part."""
    if ch in allowed:
        return ch
    compatible = unicodedata.normalize("NFKC", ch)
    if compatible in allowed and compatible.strip():
        return compatible
    if "ぁ" <= ch <= "ゖ" and chr(ord(ch) + 0x60) in allowed:
        return chr(ord(ch) + 0x60)
    for target, sources in LOOKALIKE_SOURCES.items():
        if ch in sources and target in allowed:
            return target
    if ch in SEPARATOR_CLASSES:
        return ""
    return None


def decode_restricted(probabilities: np.ndarray, folding: ClassFolding) -> Recognition:
    """CTC greedy decoding over the folded classes of one crop's (timesteps, classes) probabilities.

    The score of a character is the probability the model gave it and its look-alikes, not renormalised: mass
    the model put on characters outside the charset (a kanji in a digits box) lowers the score.
    """
    folded = probabilities[:, folding.sources] @ folding.matrix
    reading = greedy_ctc(folded, folding.outputs, gap_spaces=folding.spaces_allowed)
    if not reading.text:
        return reading
    # Only restricted (numeric, kana, date) readings get one: over the few folded classes it costs nothing, while
    # over free text's 18,000 classes it would cost a full argmax per crop for a value nobody looks at.
    return replace(reading, near_miss_text=_near_miss_text(folded, folded.argmax(axis=1), folding.outputs))


# Register variants PP-OCRv6 has a class for but chooses almost never: 髙 written is read 高, and what tells them
# apart is the probability left on 髙. On 97 such characters in names of generated 給与支払報告書 and 異動届出書 (seeds
# 700000 and 710000, apart from the benchmark's; printed clean300, office200, fax, skewed and handwriting-like
# office200), P(髙)/P(高) was at most 0.00064 for the 81 written 高, and above 0.001 for 15 of the 16 written 髙
# (the other 0.00063); rendered in the six sample fonts, written 髙 gave 0.003-0.1 against below 0.0005.
# (﨑 and 濵 have no class: nothing in the output tells them from 崎 and 濱.)
QUIET_VARIANTS = {"高": "髙"}


def greedy_ctc(scores: np.ndarray, outputs: Sequence[str], *, gap_spaces: bool,
               variants: dict[int, int] | None = None) -> Recognition:
    """Best class per timestep, repeats merged, blanks (class 0) dropped; the score is the mean of the chosen.

    Spaces are left out of the score: they are layout, not content, and the model is unsure of them (a name
    written 「佐藤　花子」 scored 0.90 with its space against 0.997 without). `variants` (class → its quiet variant's
    class) asks for the variants' odds at each character of those classes."""
    best = scores.argmax(axis=1)
    runs: list[tuple[str, int, int, float]] = []  # (character, first timestep, last timestep, probability)
    run_classes: list[int] = []
    previous = 0
    for step, output in enumerate(best):
        if output != 0 and output == previous:
            ch, first, _, probability = runs[-1]
            runs[-1] = (ch, first, step, probability)
        elif output != 0:
            runs.append((outputs[output], step, step, float(scores[step, output])))
            run_classes.append(int(output))
        previous = output
    if not runs:
        return Recognition("", 0.0)
    text = _text_with_gap_spaces(runs) if gap_spaces else "".join(run[0] for run in runs)
    content = [run[3] for run in runs if not run[0].isspace()] or [run[3] for run in runs]
    score = float(np.mean(content))
    char_scores = tuple(round(min(run[3], 1.0), 5) for run in runs if not run[0].isspace())
    return Recognition(text, round(min(score, 1.0), 5), char_scores,
                       _variant_odds(scores, runs, run_classes, outputs, variants or {}))


NEAR_MISS_FLOOR = 0.1


def _near_miss_text(scores: np.ndarray, best: np.ndarray, outputs: Sequence[str]) -> str:
    runner_up = scores[:, 1:].argmax(axis=1) + 1
    close = (best == 0) & (scores[np.arange(len(best)), runner_up] >= NEAR_MISS_FLOOR)
    path = np.where(close, runner_up, best)
    kept = [output for step, output in enumerate(path) if output != 0 and (step == 0 or output != path[step - 1])]
    return "".join(outputs[output] for output in kept)


def _variant_odds(scores: np.ndarray, runs: list[tuple[str, int, int, float]], run_classes: list[int],
                  outputs: Sequence[str], variants: dict[int, int]) -> tuple[tuple[int, str, str, float], ...]:
    odds: list[tuple[int, str, str, float]] = []
    seen: dict[str, int] = {}
    for (ch, first, last, _), output in zip(runs, run_classes):
        occurrence = seen.get(ch, 0)
        seen[ch] = occurrence + 1
        if output not in variants:
            continue
        span = scores[first:last + 1]
        ratio = float(span[:, variants[output]].max() / max(float(span[:, output].max()), 1e-12))
        odds.append((occurrence, ch, outputs[variants[output]], ratio))
    return tuple(odds)


def _text_with_gap_spaces(runs: list[tuple[str, int, int, float]]) -> str:
    text = "".join(run[0] for run in runs)
    if any(run[0].isspace() for run in runs):
        return text  # the model placed a space itself
    centres = [(first + last) / 2 for _, first, last, _ in runs]
    steps = np.diff(centres)
    if len(steps) < 2:
        return text
    usual = float(np.median(steps))
    order = np.argsort(steps)[::-1]
    widest = float(steps[order[0]])
    runner_up = float(steps[order[1]])
    def wide(step: float) -> bool:
        return step >= SPACE_GAP_RATIO * usual and step >= usual + SPACE_GAP_MIN_EXTRA

    # A second wide gap competes with the widest: then it must be clearly wider, or no space is guessed.
    if not wide(widest) or (wide(runner_up) and widest < runner_up + SPACE_GAP_MIN_EXTRA):
        return text
    at = int(order[0]) + 1
    return text[:at] + " " + text[at:]


# --- registry: engines chosen by configuration ----------------------------------------------------------------

RecognizerFactory = Callable[..., Recognizer]
RECOGNIZERS: dict[str, RecognizerFactory] = {"rapidocr": RapidOCRRecognizer}
RECOGNIZERS["tesseract"] = lambda **kw: importlib.import_module("ocr.recognize_tesseract").TesseractRecognizer(**kw)


def register_recognizer(name: str, factory: RecognizerFactory) -> None:
    RECOGNIZERS[name] = factory


def make_recognizer(name: str = "rapidocr", **options: object) -> Recognizer:
    """A registered engine by name, or any class named as "package.module:ClassName" (a plug-in by configuration)."""
    if name in RECOGNIZERS:
        return RECOGNIZERS[name](**options)
    if ":" in name:
        module_name, _, attribute = name.partition(":")
        factory = getattr(importlib.import_module(module_name), attribute)
        recognizer = factory(**options)
        if not isinstance(recognizer, Recognizer):
            raise TypeError(f"{name} does not make a Recognizer (needs `name` and `recognize`)")
        return recognizer
    known = ", ".join(sorted(RECOGNIZERS))
    raise ValueError(f"unknown recogniser {name!r}; registered: {known}, or give 'package.module:ClassName'")
