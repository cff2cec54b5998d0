"""Read one page: classify and register (which finds its turn and skew), crop, recognise, normalise, validate.

Each step is a pure function of the page; this module only chains them and turns every failure into a
`ReadResult` with a reason, never an exception that would stop a batch.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import numpy as np

from ocr import calibration, crops, geometry, titles
from ocr.addresses import check_address
from ocr.banks import check_bank_account
from ocr.classify import UnknownForm, choose_version, place_page
from ocr.load import LoadedPage, LoadError, PdfRenderer, iter_pages
from ocr.evidence import (SHORT_READING_KINDS, confusable_readings, may_be_variant, name_kana_evidence,
                          reads_shorter_than_ink, separate_kana)
from ocr.seals import fields_under_seals, find_seals, not_circled_options
from ocr.normalize import normalize
from ocr.plausibility import implausible_characters, stray_punctuation, vocabulary_match
from ocr.recognize import Recognition, Recognizer
from ocr.register import template_blank
from ocr.result import FieldReading, ReadResult
from ocr.templates import FieldSpec, Template, available_form_ids, load_template, template_versions
from ocr.validate import confirmed_by_arithmetic, validate_cross_fields, validate_field

BLANK_PAGE_INK = 0.003
DIGITS = "0123456789"
KATAKANA = "".join(chr(c) for c in range(ord("ァ"), ord("ヶ") + 1)) + "ー　 "
CHARSET_BY_KIND: dict[str, str | None] = {
    "digits": DIGITS,
    "my_number": DIGITS,
    "corporate_number": DIGITS,
    "amount": DIGITS + ",△▲-",
    "postal_code": DIGITS + "-",
    "phone": DIGITS + "-()",
    "date_wareki": DIGITS + "元年月日明治大正昭和平成令和 ",
    "kana": KATAKANA,
    "text": None,
}
# Acceptance is calibrated (ocr/calibration.py, ocr/calibration.json): these engine-score thresholds apply only
# where no calibration does.
ACCEPT_SCORE_BY_KIND = calibration.UNCALIBRATED_THRESHOLD_BY_KIND
# The printed 「円」 at the right of an amount box is cut off before reading with digits-only decoding.
AMOUNT_SUFFIX_MM = 7.0


def read_path(path: Path, recognizer: Recognizer, *, form_ids: list[str] | None = None,
              pdf_renderer: PdfRenderer | None = None) -> Iterator[ReadResult]:
    """Every page of a file as a ReadResult; a file that cannot be opened gives one result with its reason."""
    try:
        for number, page in enumerate(iter_pages(path, pdf_renderer), start=1):
            if isinstance(page, LoadError):
                yield ReadResult(source=path.name, page=number, form_id=None, seconds=0.0, error=str(page))
            else:
                yield _read_page_or_reason(page, recognizer, form_ids)
    except LoadError as exc:
        yield ReadResult(source=path.name, page=1, form_id=None, seconds=0.0, error=str(exc))


def _read_page_or_reason(page: LoadedPage, recognizer: Recognizer, form_ids: list[str] | None) -> ReadResult:
    """One page's failure stays that page's: the file's other pages are still read."""
    try:
        return read_page(page, recognizer, form_ids=form_ids)
    except Exception as exc:  # noqa: BLE001 - any step may meet a page it was not built for
        return ReadResult(source=page.source, page=page.page_number, form_id=None, seconds=0.0,
                          error=f"このページを読めません（予期しない内容）/ page could not be read: {type(exc).__name__}")


def read_page(page: LoadedPage, recognizer: Recognizer, *, form_ids: list[str] | None = None) -> ReadResult:
    started = time.perf_counter()
    if geometry.ink_fraction(page.pixels) < BLANK_PAGE_INK:
        return ReadResult(source=page.source, page=page.page_number, form_id=None,
                          seconds=time.perf_counter() - started, error="白紙のページです / blank page")
    templates = [t for form_id in (form_ids or available_form_ids())
                 for t in (template_versions(form_id) or [load_template(form_id)])]
    try:
        placement = place_page(page, templates)
        versions = [t for t in templates if t.form_id == placement.template.form_id]
        chosen = choose_version(placement.registered, placement.template, versions, recognizer)
        if chosen is not placement.template:
            placement = place_page(page, [chosen])  # registered again, on the version the page prints
    except UnknownForm as exc:
        reason = titles.set_aside_reason(titles.read_title(page.pixels, recognizer)) \
            or _two_copies_reason(page, templates) or str(exc)
        return ReadResult(source=page.source, page=page.page_number, form_id=None,
                          seconds=time.perf_counter() - started, error=reason)
    two_copies = _two_copies_reason(page, [placement.template])
    if two_copies:
        return ReadResult(source=page.source, page=page.page_number, form_id=None,
                          seconds=time.perf_counter() - started, error=two_copies)
    fields = read_fields(placement.registered, placement.template, recognizer)
    return ReadResult(
        source=page.source, page=page.page_number, form_id=placement.template.form_id,
        template_version=placement.template.version, skew_degrees=round(placement.skew_degrees, 2),
        rotation_degrees=placement.rotation_degrees,
        registration_residual_px=round(placement.registration.residual_px, 2),
        seconds=round(time.perf_counter() - started, 3), fields=fields)


# A sheet this much wider than an official face holds two copies of it side by side (A4 landscape, 2 × 148.5 mm).
TWO_COPIES_WIDTH_SHARE = 1.7


def _two_copies_reason(page: LoadedPage, templates: list[Template]) -> str | None:
    """An A4 sheet with two copies of an official face side by side is not read as one form (that would read one
    copy and drop the other without a word): it is set aside until the copies are cut apart. Such a sheet is as
    wide as two faces, and its left half registers to the face on its own."""
    height, width = page.pixels.shape[:2]
    for template in templates:
        face = template.official_face
        if face is None or width <= height:
            continue
        if page.dpi:
            wide = width * 25.4 / page.dpi >= TWO_COPIES_WIDTH_SHARE * face.width_mm
        else:
            wide = abs(width / height - 2 * face.width_mm / template.page.height_mm) < 0.08
        if not wide:
            continue
        left = LoadedPage(page.source, page.page_number, page.pixels[:, : width // 2], page.dpi)
        try:
            place_page(left, [template])
        except UnknownForm:
            continue
        return ("1枚の用紙に様式が2面（2人分）並んでいます。1面ずつに分けてから読み取るため、人が確認します "
                "/ two copies of the form side by side on one sheet: set aside to be cut into one copy each")
    return None


def read_fields(registered: np.ndarray, template: Template, recognizer: Recognizer) -> dict[str, FieldReading]:
    blank = template_blank(template)
    readings: dict[str, FieldReading] = {}
    to_recognise: list[tuple[FieldSpec, np.ndarray]] = []
    runs_past_box: set[str] = set()
    groups: dict[str, int] = {}
    seals = find_seals(crops.added_ink(registered, blank), template.mm_to_px(1.0), printed=blank < crops.PRINTED_DARK)
    sealed = fields_under_seals(template, not_circled_options(template, seals))
    for spec in template.fields:
        if spec.kind in ("era", "choice", "checkbox"):
            readings[spec.name] = _read_mark_field(registered, blank, template, spec)
            continue
        crop = crops.crop_field(registered, blank, template, spec)
        # One digit in a long row of cells is too little ink for the box as a whole, and a fax streak through an
        # empty row is too much: a row of digit cells is empty when no cell holds a written character.
        empty = not _written_cell_indices(registered, blank, template, spec) if _cell_row(spec) else crops.is_empty(crop)
        if empty:
            readings[spec.name] = _empty_reading(spec)
            continue
        if crop.ink_at_sides and not _cell_row(spec):
            runs_past_box.add(spec.name)
        if spec.kind in SHORT_READING_KINDS:
            groups[spec.name] = crops.stroke_groups(registered, blank, template, spec)
        to_recognise.append((spec, _reading_crop(registered, template, spec, blank)))
    recognitions = _recognise_in_parts(registered, blank, template, to_recognise, recognizer)
    second_readings = _read_long_lines_in_halves(to_recognise, recognizer)
    names = _name_fields(template)
    for (spec, _), recognition in zip(to_recognise, recognitions):
        era_value = None
        if spec.era_field and spec.era_field in readings:
            era_value = readings[spec.era_field].value  # type: ignore[assignment]
        text = with_quiet_variants(recognition) if spec.name in names else recognition.text
        normalised = normalize(spec.kind, text, spec, era_value=era_value)
        reasons = list(normalised.problems)
        if spec.name in runs_past_box:
            reasons.append("text_beyond_box")
        if spec.name in second_readings and _without_spaces(second_readings[spec.name]) \
                != _without_spaces(recognition.text):
            reasons.append("second_reading_differs")
        if _near_miss_changes_value(spec, recognition, normalised.value, era_value):
            reasons.append("near_miss_character")
        if spec.name in groups and reads_shorter_than_ink(spec.kind, recognition.text, groups[spec.name]):
            reasons.append("reading_shorter_than_ink")
        if normalised.value is not None:
            reasons += validate_field(spec, normalised.value)
        readings[spec.name] = FieldReading(value=normalised.value, confidence=round(float(recognition.score), 4),
                                           status="review" if reasons else "accepted", reasons=reasons,
                                           raw_text=recognition.text, engine_score=float(recognition.score),
                                           min_char_score=min(recognition.char_scores, default=None))
    _restore_kana_separators(template, readings)
    _flag_possible_variants(template, readings)
    _flag_implausible_characters(template, readings)
    _check_addresses(template, readings)
    _check_bank_accounts(template, readings)
    _apply_cross_field_rules(template, readings)
    engine = getattr(recognizer, "name", None)
    for spec in template.fields:
        judge_reading(spec.kind, readings[spec.name], engine=engine)
    _accept_kana_the_name_reads_as(template, readings)
    _accept_what_the_arithmetic_confirms(template, readings)
    _accept_words_of_the_vocabulary(template, readings)
    _hold_fields_under_seals(readings, sealed)
    return readings


PART_CHARSET = {"amount": DIGITS + ",△▲-", "date_wareki": DIGITS + "元"}


def _recognise_in_parts(registered: np.ndarray, blank: np.ndarray, template: Template,
                        to_recognise: list[tuple[FieldSpec, np.ndarray]], recognizer: Recognizer) -> list[Recognition]:
    """One recognition per field; a field cut by printed dividers (`dividers_mm`) is read part by part, each part
    on its own crop, and the parts joined as the face means them: 5 | 000 | 000 is 5,000,000, 7 | 4 | 1 is 7年4月1日."""
    flat_crops: list[np.ndarray] = []
    flat_charsets: list[str | None] = []
    layout: list[list[int | None]] = []
    for spec, crop in to_recognise:
        if spec.dividers_mm and spec.kind in PART_CHARSET:
            pieces = crops.part_crops(registered, blank, template, spec)
            charset = PART_CHARSET[spec.kind]
        else:
            pieces, charset = [crop], CHARSET_BY_KIND.get(spec.kind)
        slots: list[int | None] = []
        for piece in pieces:
            if piece is None:
                slots.append(None)
                continue
            slots.append(len(flat_crops))
            flat_crops.append(piece)
            flat_charsets.append(charset)
        layout.append(slots)
    flat = recognizer.recognize(flat_crops, flat_charsets) if flat_crops else []
    joined = []
    for (spec, _), slots in zip(to_recognise, layout):
        parts = [flat[i] if i is not None else None for i in slots]
        joined.append(parts[0] if len(parts) == 1 and parts[0] is not None else _joined_parts(spec, parts))
    return joined


def _joined_parts(spec: FieldSpec, parts: list[Recognition | None]) -> Recognition:
    texts = [part.text.strip() if part else "" for part in parts]
    near = [(part.near_miss_text or part.text).strip() if part else "" for part in parts]
    written = [part for part in parts if part is not None]

    def join(values: list[str]) -> str:
        if spec.kind == "date_wareki":
            return "".join(f"{value}{unit}" for value, unit in zip(values, "年月日"))
        first = next((i for i, value in enumerate(values) if value), len(values))
        # An empty part after a written one stays as an empty group: 「5,,000」 is not an amount.
        return ",".join(values[first:])

    text = join(texts)
    return Recognition(text=text, score=min((part.score for part in written), default=0.0),
                       char_scores=tuple(s for part in written for s in part.char_scores),
                       near_miss_text=join(near) if any(part.near_miss_text for part in written) else "")


def _hold_fields_under_seals(readings: dict[str, FieldReading], sealed: set[str]) -> None:
    """Every field a seal's outline touches goes to a person, whatever was read there (ocr/seals.py), empty ones
    too: a seal's ring over a tick box reads as a tick, over an empty box as writing."""
    for name in sealed:
        reading = readings.get(name)
        if reading is not None and "seal_over_field" not in reading.reasons:
            reading.reasons.append("seal_over_field")
            reading.status = "review"


def _read_long_lines_in_halves(to_recognise: list[tuple[FieldSpec, np.ndarray]], recognizer: Recognizer
                               ) -> dict[str, str]:
    """Free text on a long line (an address with its building) read again as two halves cut at a written space.

    The recogniser drops or merges characters on long lines at full score (「平河町シャルム」 read 「平河町ヤルム」
    at 0.99, 「シティ」 as 「シテ」); read in halves each part is an ordinary line. Where the two readings differ,
    a person looks."""
    halves: list[tuple[str, np.ndarray, np.ndarray]] = []
    for spec, crop in to_recognise:
        if spec.kind == "text":
            split = crops.split_at_gap(crop)
            if split is not None:
                halves.append((spec.name, *split))
    if not halves:
        return {}
    parts = recognizer.recognize([part for _, left, right in halves for part in (left, right)],
                                 [None] * (2 * len(halves)))
    return {name: parts[2 * i].text + parts[2 * i + 1].text for i, (name, _, _) in enumerate(halves)}


def _without_spaces(text: str) -> str:
    return "".join(text.split())


def _flag_implausible_characters(template: Template, readings: dict[str, FieldReading]) -> None:
    """An address or name read with a character such a field never holds (丁目 → 「JH」, ハイツ → 「八イツ」, a
    simplified Chinese form) goes to a person, whatever the engine's score."""
    for spec in template.fields:
        reading = readings.get(spec.name)
        if reading is None or not isinstance(reading.value, str):
            continue
        odd = implausible_characters(reading.value, spec.content) or (spec.kind == "text"
                                                                    and stray_punctuation(reading.value))
        if odd and "unlikely_character" not in reading.reasons:
            reading.reasons.append("unlikely_character")
            reading.status = "review"


def _check_bank_accounts(template: Template, readings: dict[str, FieldReading]) -> None:
    """A 還付口座 whose institution, or whose branch of it, is not in the Zengin data goes to a person
    (`bank_not_in_zengin_data`, `branch_not_in_zengin_data`): 「り)そな銀行」 and a misread branch are no real ones."""
    for spec in template.fields:
        reading = readings.get(spec.name)
        if spec.content != "bank_account" or reading is None or not isinstance(reading.value, str):
            continue
        checked = check_bank_account(reading.value)
        reason = "bank_not_in_zengin_data" if not checked.bank_known else \
            "branch_not_in_zengin_data" if checked.branch_known is False else None
        if reason and reason not in reading.reasons:
            reading.reasons.append(reason)
            reading.status = "review"


def _check_addresses(template: Template, readings: dict[str, FieldReading]) -> None:
    """An address whose place name (都道府県 + 市区町村 + 町域) is not in the postal code data goes to a person
    (`place_not_in_postal_data`); one that a single misread character explains is corrected and goes to a person
    too (`known_misread`), who sees the corrected value prefilled."""
    for spec in template.fields:
        reading = readings.get(spec.name)
        if spec.content != "address" or reading is None or not isinstance(reading.value, str):
            continue
        checked = check_address(reading.value)
        if checked.corrected:
            reading.value = checked.value
        reason = "known_misread" if checked.corrected else None if checked.known else "place_not_in_postal_data"
        if reason and reason not in reading.reasons:
            reading.reasons.append(reason)
            reading.status = "review"


# A reading that is exactly one of its field's few words is right unless the engine hardly saw it.
VOCABULARY_SCORE_FLOOR = 0.6
VOCABULARY_CONFIRMED_CONFIDENCE = 0.999


def _accept_words_of_the_vocabulary(template: Template, readings: dict[str, FieldReading]) -> None:
    """A 'terms' field (種別: 給料・賞与, 給与, 賞与…) held back only for its score, or for writing that touches the
    frame, is accepted when it reads exactly as one of its words: a misread would have to turn one such word into
    another, character for character, and a cut one would be part of a longer word."""
    for spec in template.fields:
        reading = readings.get(spec.name)
        if reading is None or not isinstance(reading.value, str) or spec.content != "terms":
            continue
        if not reading.reasons or not set(reading.reasons) <= {"low_confidence", "text_beyond_box"}:
            continue
        # Writing at the frame may be cut: a word that is part of another word (給料 of 給料・賞与) proves nothing.
        cut_possible = "text_beyond_box" in reading.reasons
        if cut_possible and any(reading.value in word for word in spec.vocabulary or [] if word != reading.value):
            continue
        if (reading.engine_score or 0.0) >= VOCABULARY_SCORE_FLOOR and vocabulary_match(reading.value, spec.vocabulary):
            reading.reasons = []
            reading.status = "accepted"
            reading.confidence = max(reading.confidence, VOCABULARY_CONFIRMED_CONFIDENCE)


# A value an equality between fields vouches for is right unless the engine hardly saw it at all.
ARITHMETIC_SCORE_FLOOR = 0.6
ARITHMETIC_CONFIRMED_CONFIDENCE = 0.999


def _accept_what_the_arithmetic_confirms(template: Template, readings: dict[str, FieldReading]) -> None:
    """An amount held back only for its engine score is accepted when a rule that holds vouches for it
    (`ocr.validate.confirmed_by_arithmetic`): a misread digit would have to land exactly on what the other fields
    make the amount, and several wrong digits conspiring so is far rarer than the error we accept."""
    values = {name: reading.value for name, reading in readings.items()}
    for name in confirmed_by_arithmetic(template, values):
        reading = readings[name]
        if reading.reasons == ["low_confidence"] and (reading.engine_score or 0.0) >= ARITHMETIC_SCORE_FLOOR:
            reading.reasons = []
            reading.status = "accepted"
            reading.confidence = max(reading.confidence, ARITHMETIC_CONFIRMED_CONFIDENCE)


# A kanji name held back only for these reasons still vouches for its kana: a variant character reads as its
# common form, and a name the engine was unsure of would have to be misread into another spelling of the same
# reading. On 60 printed 給与支払報告書 (office200) 21 kana were held back beside such a name that read as them,
# all 21 right; the kana that were wrong did not agree with their names.
NAME_REASONS_THAT_STILL_VOUCH = frozenset({"low_confidence", "variant_possible"})
NAME_VOUCHING_SCORE_FLOOR = 0.6


def _accept_kana_the_name_reads_as(template: Template, readings: dict[str, FieldReading]) -> None:
    """A kana held back only for its engine score, or for writing that touches the frame, is accepted when the
    kanji name reads as it, family and given name both (pykakasi's dictionary): a misread kana is almost never
    another reading of the same name, and a cut one stops inside the name's reading. The name may itself be
    waiting for a person for its score or a possible variant (not for touching its own frame: 美加 cut from
    美加子 reads as a cut ミカ); it is not accepted by this. A kana one look-alike away from another reading of
    the name (ミノル/ミノリ for 稔) is left to a person: the name cannot tell which was written.
    The kana's confidence stays what the engine gave; the evidence is the reason it is accepted."""
    for name_field, kana_field in template.name_kana_pairs:
        name, kana = readings.get(name_field), readings.get(kana_field)
        if not (name and kana and kana.reasons and set(kana.reasons) <= {"low_confidence", "text_beyond_box"}):
            continue
        if name.status != "accepted" and not (set(name.reasons) <= NAME_REASONS_THAT_STILL_VOUCH
                                              and (name.engine_score or 0.0) >= NAME_VOUCHING_SCORE_FLOOR):
            continue
        if isinstance(name.value, str) and isinstance(kana.value, str) \
                and name_kana_evidence(name.value, kana.value).agrees \
                and not confusable_readings(name.value, kana.value):
            kana.reasons = []
            kana.status = "accepted"


def judge_reading(kind: str, reading: FieldReading, *, engine: str | None = None) -> FieldReading:
    """Calibrated confidence and status of a reading with an engine (or mark) score, after every check has run:
    accepted iff no problem or validator failure and P(right) reaches the kind's threshold. Others unchanged."""
    if reading.engine_score is None:
        return reading
    reasons = [r for r in reading.reasons if r not in calibration.LOW_CONFIDENCE_REASONS]
    probability = calibration.probability_right(kind, reading.engine_score, passed=not reasons, engine=engine)
    if probability < calibration.accept_threshold(kind, engine=engine):
        reasons.append("ambiguous_mark" if kind in ("era", "choice") else "low_confidence")
    reading.confidence = round(probability, 4)
    reading.reasons = reasons
    reading.status = "review" if reasons else "accepted"
    return reading


def _reading_crop(registered: np.ndarray, template: Template, spec: FieldSpec,
                  blank: np.ndarray | None = None) -> np.ndarray:
    x, y, w, h = spec.box
    if _cell_row(spec) and blank is not None:
        cells = _written_cells(registered, blank, template, spec)
        if cells is not None:
            return cells
    if spec.kind == "amount" and spec.preprinted_text:
        w -= AMOUNT_SUFFIX_MM
    # A printed 「令和」 is known already; left in, the recogniser reads it poorly at the crop's edge (0.6–0.8).
    era_width = spec.printed_era_width() if spec.kind == "date_wareki" else 0.0
    reading_box = (x + era_width, y, w - era_width, h)
    if blank is None:
        return crops.crop_box(registered, template, reading_box)
    return crops.tight_to_ink(*crops.reaching_the_frame(registered, blank, template, reading_box))


# A digit cell counts as written when this share of it is ink the blank form does not have.
CELL_INK_SHARE = 0.006
CELL_INK_HEIGHT_SHARE = 0.25
CELL_DETECT_INSET_MM = (0.8, 0.5)  # x, y
CELL_SIDE_INSET_MM = 0.35


def _written_cells(registered: np.ndarray, blank: np.ndarray, template: Template, spec: FieldSpec) -> np.ndarray | None:
    """Per-digit columns of an amount (or a count) are written right-aligned and need not fill the row: read from
    the first written cell (a △ included) to the last cell before the pre-printed suffix (000 or 00), which the
    normaliser appends instead of reading. None when the row is written from its first cell and has no suffix:
    then the whole box is read as before."""
    suffix = len(spec.preprinted_suffix or "")
    writable = _writable_cells(spec)
    if not writable:
        return None
    written = _written_cell_indices(registered, blank, template, spec)
    first = written[0] if written else 0
    if first == 0 and not suffix:
        return None
    x0 = writable[first][0] + CELL_SIDE_INSET_MM
    x1 = writable[-1][0] + writable[-1][2] - CELL_SIDE_INSET_MM
    _, y, _, h = spec.box
    return crops.crop_box(registered, template, (x0, y + crops.FRAME_INSET_MM, x1 - x0, h - 2 * crops.FRAME_INSET_MM),
                          inset_mm=0)


def _cell_row(spec: FieldSpec) -> bool:
    return bool(spec.cells) and spec.kind in ("amount", "digits")


def _writable_cells(spec: FieldSpec) -> list:
    cells = spec.cell_boxes()
    return cells[: len(cells) - len(spec.preprinted_suffix or "")]


def _written_cell_indices(registered: np.ndarray, blank: np.ndarray, template: Template, spec: FieldSpec) -> list[int]:
    """The cells (before any pre-printed suffix) holding a character the blank form does not have: enough added
    ink, spread over a good part of the cell's height (a scanner streak is one or two pixel rows)."""
    written = []
    for index, (x, y, w, h) in enumerate(_writable_cells(spec)):
        # The middle of the cell only: a cell line a pixel off its printed place (fax, photo) is not a character.
        inner = (x + CELL_DETECT_INSET_MM[0], y + CELL_DETECT_INSET_MM[1],
                 w - 2 * CELL_DETECT_INSET_MM[0], h - 2 * CELL_DETECT_INSET_MM[1])
        ink = crops.added_ink(crops.crop_box(registered, template, inner, inset_mm=0),
                              crops.crop_box(blank, template, inner, inset_mm=0))
        if ink.size and ink.mean() > CELL_INK_SHARE and ink.any(axis=1).mean() > CELL_INK_HEIGHT_SHARE:
            written.append(index)
    return written


# Measured on 6 pages per form × style × office200/fax/photo (828 tick boxes), lines, fax streaks and specks removed
# (crops.cleaned_mark_ink): ticked boxes held ≥ 10 % added ink, empty ones ≤ 1.2 % (fax); the whole box's added
# ink, as read before, reached 5.9 % in 26 empty boxes of faxes, read as ticked at full confidence.
TICKED_SHARE = 0.05
EMPTY_TICK_SHARE = 0.025
CHECKBOX_SURE_MARGIN = 0.04  # added-ink share; TICKED_SHARE ± this is as sure as a checkbox reading gets


def _read_mark_field(registered, blank, template: Template, spec: FieldSpec) -> FieldReading:
    if spec.kind == "checkbox":
        cleaned = crops.cleaned_mark_ink(registered, blank, template, spec.box)
        share = float(cleaned[0].mean()) if cleaned is not None else 0.0
        misplaced = cleaned is None or cleaned[1] > crops.LABEL_MISSING_MAX
        ticked = share >= TICKED_SHARE
        unsure = misplaced or EMPTY_TICK_SHARE <= share < TICKED_SHARE
        # The evidence for calibration: how far the added ink lies from the tick threshold (1: at least
        # CHECKBOX_SURE_MARGIN away, 0: on it); the calibrated curve turns it into a probability.
        margin = 0.0 if misplaced else float(np.clip(abs(share - TICKED_SHARE) / CHECKBOX_SURE_MARGIN, 0.0, 1.0))
        reasons = ["low_confidence"] if unsure else []
        if not misplaced and crops.mark_ink_from_outside(registered, blank, template, spec.box):
            # Not a tick drawn in the box: a seal's ring or a stroke from outside runs into it.
            reasons.append("ink_from_outside_box")
        return FieldReading(value=ticked, confidence=0.6 if reasons else 0.99,
                            status="review" if reasons else "accepted", reasons=reasons,
                            engine_score=round(margin, 4))
    marks = crops.read_marks(registered, blank, template, spec)
    if marks.chosen is None:
        return _empty_reading(spec, confidence=marks.confidence)
    reasons = [] if marks.confidence >= ACCEPT_SCORE_BY_KIND[spec.kind] else ["ambiguous_mark"]
    return FieldReading(value=marks.chosen, confidence=round(marks.confidence, 4),
                        status="review" if reasons else "accepted", reasons=reasons, engine_score=marks.confidence)


def _empty_reading(spec: FieldSpec, confidence: float = 0.99) -> FieldReading:
    if spec.required:
        return FieldReading(value=None, confidence=confidence, status="review", reasons=["required_missing"])
    return FieldReading(value=None, confidence=confidence, status="empty", reasons=[])


def _restore_kana_separators(template: Template, readings: dict[str, FieldReading]) -> None:
    """Put back the family/given space of a kana name where the family name's reading places it unambiguously
    (the space is layout: the recogniser drops it or reads a printed 全角 space as 「ー」). The raw kanji name still
    has the space the recogniser saw, before normalisation closed it up."""
    for name_field, kana_field in template.name_kana_pairs:
        name, kana = readings.get(name_field), readings.get(kana_field)
        if not (name and kana and isinstance(name.raw_text, str) and isinstance(kana.value, str)):
            continue
        separated = separate_kana(name.raw_text, kana.value)
        if separated is not None:
            kana.value = separated


# Kinds whose every character counts: one merged or left-out digit makes another value that may pass every check.
NEAR_MISS_KINDS = frozenset({"digits", "my_number", "corporate_number", "amount", "postal_code", "phone"})


def _near_miss_changes_value(spec: FieldSpec, recognition: Recognition, value: object, era_value: str | None) -> bool:
    """Whether the reading with the characters the model nearly wrote (ocr.recognize.NEAR_MISS_FLOOR) normalises
    to another value: handwritten 33,000 read 3,000 at 0.9986, the second 3 losing to the blank 0.486 to 0.506."""
    if spec.kind not in NEAR_MISS_KINDS or not recognition.near_miss_text \
            or recognition.near_miss_text == recognition.text:
        return False
    return normalize(spec.kind, recognition.near_miss_text, spec, era_value=era_value).value != value


def _name_fields(template: Template) -> set[str]:
    names = {name_field for name_field, _ in template.name_kana_pairs}
    return names | {spec.name for spec in template.fields if spec.content in ("person_name", "organisation_name")}


# The variant's probability over the common form's at which a name's character is taken as the variant: above all
# 81 written 高 measured (at most 0.00064) and below 15 of the 16 written 髙 (ocr.recognize.QUIET_VARIANTS).
QUIET_VARIANT_ODDS = 1e-3


def with_quiet_variants(recognition: Recognition) -> str:
    """A name's reading with each character whose quiet variant the model saw enough of written as that variant
    (高 → 髙). The name still goes to a person (`variant_possible`): this only makes their prefilled value right
    more often."""
    text = recognition.text
    for occurrence, common, variant, odds in sorted(recognition.variant_odds, reverse=True):
        if odds < QUIET_VARIANT_ODDS:
            continue
        positions = [i for i, ch in enumerate(text) if ch == common]
        if occurrence < len(positions):
            at = positions[occurrence]
            text = text[:at] + variant + text[at + 1:]
    return text


def _flag_possible_variants(template: Template, readings: dict[str, FieldReading]) -> None:
    """A name read with 高, 崎, 浜… may have been written 髙, 﨑, 濵…: the recogniser folds the register's variants
    into their common forms at full score (髙木 → 高木 at 0.999), and a variant must be kept as written. Only a
    person looking at the crop can tell, so such a name (a person's, or a company's: 髙島屋) is not accepted on the
    engine's word."""
    for name in _name_fields(template):
        reading = readings.get(name)
        if reading and isinstance(reading.value, str) and may_be_variant(reading.value):
            if "variant_possible" not in reading.reasons:
                reading.reasons.append("variant_possible")
            reading.status = "review"


def _apply_cross_field_rules(template: Template, readings: dict[str, FieldReading]) -> None:
    values = {name: reading.value for name, reading in readings.items()}
    for name, reasons in validate_cross_fields(template, values).items():
        reading = readings[name]
        reading.reasons.extend(r for r in reasons if r not in reading.reasons)
        reading.status = "review"
