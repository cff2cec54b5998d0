"""A template draft from a blank form: every enclosed box and row of digit cells as a field, with its printed
label read, a romaji name and a guessed kind, for a person to correct in the editor.

What is guessed is listed in each field's `guessed`, so that nobody takes a guess for a decision.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import yaml

from ocr.classify import VERSION_PATTERN
from ocr.recognize import Recognizer
from ocr.ruling import TEXT_SAFE_VERTICAL_LINE_MM, PixelBox, Ruling, enclosed_boxes, find_ruling, px, straighten

# Cells of one row of digit cells: the same top and bottom, side by side, nearly equal and no wider than tall.
CELL_ROW_MIN_CELLS = 3
CELL_ALIGN_MM = 0.6
CELL_WIDTH_SPREAD = 0.2
CELL_MAX_ASPECT = 1.4
CELL_MAX_WIDTH_MM = 12.0
LABEL_LEFT_REACH_MM = 30.0
LABEL_ABOVE_REACH_MM = 10.0
TEXT_JOIN_MM = 1.6  # characters of one printed word are closer than this
SUFFIX_ONLY = re.compile(r"^[円年月日令和平成昭和大正明治\s　]*$")

# The first rule whose word is in the label wins: more specific words first.
KIND_BY_LABEL_WORD: list[tuple[str, str]] = [
    ("個人番号", "my_number"), ("マイナンバー", "my_number"), ("法人番号", "corporate_number"),
    ("フリガナ", "kana"), ("ふりがな", "kana"), ("カナ", "kana"),
    ("郵便番号", "postal_code"), ("〒", "postal_code"), ("電話", "phone"),
    ("年月日", "date_wareki"), ("日付", "date_wareki"),
    ("金額", "amount"), ("税額", "amount"), ("円", "amount"), ("額", "amount"), ("控除", "amount"),
    ("番号", "digits"),
]


@dataclass
class TextBlob:
    box: PixelBox
    text: str = ""


@dataclass
class ProposedField:
    name: str
    label: str
    box: tuple[float, float, float, float]
    kind: str
    cells: int | None = None
    label_box: tuple[float, float, float, float] | None = None
    preprinted_text: str | None = None
    era: str | None = None
    options: list[str] | None = None
    option_labels: list[str] | None = None
    guessed: list[str] = field(default_factory=list)

    def as_yaml(self) -> dict:
        out: dict = {"name": self.name, "label": self.label, "box": list(self.box)}
        if self.label_box:
            out["label_box"] = list(self.label_box)
        out["kind"] = self.kind
        for key in ("cells", "preprinted_text", "era", "options", "option_labels"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out["guessed"] = list(self.guessed)
        return out


@dataclass
class TemplateDraft:
    form_id: str
    title: str
    version: str
    width_mm: float
    height_mm: float
    dpi: int
    blank: np.ndarray
    fields: list[ProposedField]
    title_band: tuple[float, float, float, float] | None = None
    version_marks: list[str] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)

    def as_yaml(self) -> dict:
        out: dict = {"form_id": self.form_id, "title": self.title, "version": self.version,
                     "page": {"width_mm": self.width_mm, "height_mm": self.height_mm}, "dpi": self.dpi,
                     "blank_image": "blank.png"}
        if self.version_marks:
            out["version_marks"] = self.version_marks
        if self.title_band:
            out["title_band"] = list(self.title_band)
        out["fields"] = [f.as_yaml() for f in self.fields]
        return out


def blank_from_file(path: Path, dpi: int, page_number: int = 1) -> tuple[np.ndarray, dict]:
    """The blank page as greyscale at `dpi`, and where it came from: a PDF page is rasterised at `dpi`; a scan is
    resampled from its own dpi (taken as `dpi` when the file does not say)."""
    data = path.read_bytes()
    provenance = {"source": path.name, "sha256": hashlib.sha256(data).hexdigest(), "page": page_number, "dpi": dpi}
    if path.suffix.lower() == ".pdf":
        import pypdfium2

        document = pypdfium2.PdfDocument(data)
        try:
            page = document[page_number - 1]
            image = page.render(scale=dpi / 72.0, grayscale=True).to_pil().convert("L")
        finally:
            document.close()
        provenance["rasterised_with"] = "pypdfium2 " + str(getattr(pypdfium2, "PYPDFIUM_INFO", ""))
        return np.asarray(image, dtype=np.uint8), provenance
    from ocr.load import LoadError, iter_pages

    for number, page in enumerate(iter_pages(path), start=1):
        if number != page_number:
            continue
        if isinstance(page, LoadError):
            raise page
        scan_dpi = page.dpi or dpi
        provenance["scan_dpi"] = page.dpi
        pixels = page.pixels
        if abs(scan_dpi - dpi) > 1:
            factor = dpi / scan_dpi
            pixels = cv2.resize(pixels, None, fx=factor, fy=factor,
                                interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
        return pixels, provenance
    raise ValueError(f"{path.name}: ページ {page_number} がありません / no page {page_number}")


def draft_template(grey: np.ndarray, dpi: int, form_id: str, recognizer: Recognizer,
                   provenance: dict | None = None) -> TemplateDraft:
    straight, angle = straighten(grey, dpi)
    ruling = find_ruling(straight, dpi)
    boxes = enclosed_boxes(ruling)
    text_only = _text_only(straight, find_ruling(straight, dpi, TEXT_SAFE_VERTICAL_LINE_MM))
    blobs = _text_blobs(text_only, dpi)
    _read_blobs(blobs, text_only, recognizer)
    inside = {id(box): [b for b in blobs if _centre_inside(b.box, box)] for box in boxes}
    rows = _cell_rows(boxes, dpi)
    in_row = {id(cell) for row in rows for cell in row}
    label_boxes: list[TextBlob] = []
    field_boxes: list[tuple[PixelBox, str | None]] = []
    for box in boxes:
        if id(box) in in_row:
            continue
        text = _joined(inside[id(box)])
        if not text:
            field_boxes.append((box, None))
        elif SUFFIX_ONLY.match(text) and any(ch in text for ch in "円年月日"):
            field_boxes.append((box, _spaced(inside[id(box)], dpi)))
        else:
            label_boxes.append(TextBlob(box, text))
    for option_blob, options in _option_boxes(label_boxes, inside, dpi):
        label_boxes.remove(option_blob)
        field_boxes.append((option_blob.box, options))
    free_text = [b for b in blobs if not any(_centre_inside(b.box, box) for box in boxes) and b.text]
    title_blobs = _title_line(free_text, straight.shape, dpi)
    title = _joined(title_blobs) or form_id
    version_match = VERSION_PATTERN.search(title.replace(" ", ""))
    version = version_match.group(0) if version_match else "draft"
    proposals: list[tuple[PixelBox, int | None, str | None]] = [
        (PixelBox(row[0].x0, min(c.y0 for c in row), row[-1].x1, max(c.y1 for c in row)), len(row), None)
        for row in rows]
    proposals += [(box, None, suffix) for box, suffix in field_boxes]
    options_of = {id(box): printed for box, printed in field_boxes if isinstance(printed, list)}
    proposals.sort(key=lambda p: (round(p[0].y0 / px(2, dpi)), p[0].x0))
    label_sources = label_boxes + [b for b in free_text if b not in title_blobs]
    fields: list[ProposedField] = []
    used_names: set[str] = set()
    for number, (box, cells, suffix) in enumerate(proposals, start=1):
        label_blob = _label_for(box, label_boxes, label_sources, dpi)
        label = label_blob.text if label_blob else ""
        printed_options = options_of.get(id(box))
        if printed_options:
            suffix = None
            kind, options, option_labels, era = _choice(printed_options)
        else:
            (kind, era), options, option_labels = guess_kind(label, suffix, cells), None, None
        name = _unique(romaji_name(label) or f"field_{number}", used_names)
        fields.append(ProposedField(
            name=name, label=label or name, box=box.mm(dpi), kind=kind, cells=cells,
            label_box=label_blob.box.mm(dpi) if label_blob and label_blob in label_boxes else None,
            preprinted_text=suffix, era=era, options=options, option_labels=option_labels,
            guessed=["name", "label", "kind"] + (["options"] if options else [])))
    height_px, width_px = straight.shape
    title_band = None
    if title_blobs:
        band = _union([b.box for b in title_blobs])
        margin = px(2, dpi)
        title_band = PixelBox(max(0, band.x0 - margin), max(0, band.y0 - margin),
                              min(width_px, band.x1 + margin), min(height_px, band.y1 + margin)).mm(dpi)
    return TemplateDraft(
        form_id=form_id, title=title, version=version, width_mm=round(width_px * 25.4 / dpi, 1),
        height_mm=round(height_px * 25.4 / dpi, 1), dpi=dpi, blank=straight, fields=fields,
        title_band=title_band, version_marks=[version] if version_match else [],
        provenance={**(provenance or {}), "straightened_degrees": round(angle, 3)})


def write_draft(draft: TemplateDraft, folder: Path) -> Path:
    """template.yaml, blank.png and provenance.json in `folder`; returns the YAML's path."""
    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / "blank.png"), draft.blank)
    header = ("# Drafted by `taxintake template new` from a blank form. Boxes are [x, y, w, h] in mm from the page's\n"
              "# top-left. `guessed` lists what nobody has confirmed yet: check it in the editor or here.\n")
    path = folder / "template.yaml"
    path.write_text(header + yaml.safe_dump(draft.as_yaml(), allow_unicode=True, sort_keys=False, width=120),
                    encoding="utf-8")
    (folder / "provenance.json").write_text(json.dumps(draft.provenance, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


ERA_BY_PRINTED = {"明": "明治", "大": "大正", "昭": "昭和", "平": "平成", "令": "令和",
                  **{era: era for era in ("明治", "大正", "昭和", "平成", "令和")}}


def _option_boxes(label_boxes: list[TextBlob], inside: dict[int, list[TextBlob]], dpi: float
                  ) -> list[tuple[TextBlob, list[str]]]:
    """Boxes printed with several words spread across them, right of a label cell: the options of a choice (退職 転勤
    死亡) or an era (明 大 昭 平 令), where the person circles one."""
    touch = px(1.5, dpi)
    found = []
    for candidate in label_boxes:
        words = sorted((b for b in inside[id(candidate.box)] if b.text), key=lambda b: b.box.x0)
        if len(words) < 2 or any(_vertical_overlap(a.box, b.box) < 0.5 * min(a.box.height, b.box.height)
                                 for a, b in zip(words, words[1:])):
            continue  # one word, or lines of a label one above the other
        spread = (words[-1].box.x1 - words[0].box.x0) / candidate.box.width
        has_label_left = any(abs(other.box.x1 - candidate.box.x0) <= touch
                             and _vertical_overlap(other.box, candidate.box) >= 0.4 * candidate.box.height
                             for other in label_boxes if other is not candidate)
        if spread > 0.6 and has_label_left:
            found.append((candidate, [w.text for w in words]))
    return found


def _choice(printed: list[str]) -> tuple[str, list[str], list[str] | None, None]:
    if all(word in ERA_BY_PRINTED for word in printed):
        return "era", [ERA_BY_PRINTED[w] for w in printed], printed, None
    return "choice", printed, None, None


def guess_kind(label: str, suffix: str | None, cells: int | None) -> tuple[str, str | None]:
    """(kind, printed era) from the label's words, the text printed in the box and its cells."""
    if suffix and "円" in suffix:
        return "amount", None
    if suffix and any(ch in suffix for ch in "年月日"):
        era = next((e for e in ("令和", "平成", "昭和", "大正", "明治") if e in suffix), "令和")
        return "date_wareki", era
    for word, kind in KIND_BY_LABEL_WORD:
        if word in label:
            if kind == "my_number" and cells not in (None, 12) or kind == "corporate_number" and cells not in (None, 13):
                return "digits", None
            if kind == "date_wareki":
                return kind, "令和"
            return kind, None
    return ("digits" if cells else "text"), None


def romaji_name(label: str) -> str:
    import pykakasi

    words = [item["hepburn"] for item in _kakasi().convert(label)]
    name = re.sub(r"[^a-z0-9]+", "_", "_".join(words).lower()).strip("_")
    name = re.sub(r"^[^a-z]+", "", re.sub(r"_+", "_", name))  # 「(1)」 or 「1月1日」 cannot start a name
    return name if re.fullmatch(r"[a-z][a-z0-9_]*", name or "") else ""


_KAKASI = None


def _kakasi():
    global _KAKASI
    if _KAKASI is None:
        import pykakasi

        _KAKASI = pykakasi.kakasi()
    return _KAKASI


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}_{n}", n + 1
    used.add(candidate)
    return candidate


def _text_only(grey: np.ndarray, ruling: Ruling) -> np.ndarray:
    lines = cv2.dilate(ruling.lines.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    out = grey.copy()
    out[lines] = 255
    return out


def _text_blobs(text_only: np.ndarray, dpi: float) -> list[TextBlob]:
    ink = (text_only < 160).astype(np.uint8)
    joined = cv2.dilate(ink, np.ones((px(1.0, dpi), px(TEXT_JOIN_MM, dpi)), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    smallest = px(0.8, dpi)
    blobs = []
    for label in range(1, count):
        x, y, w, h, _ = (int(v) for v in stats[label])
        if h < smallest and w < smallest:
            continue  # a speck
        blobs.append(TextBlob(PixelBox(x, y, x + w, y + h)))
    return blobs


def _read_blobs(blobs: list[TextBlob], text_only: np.ndarray, recognizer: Recognizer) -> None:
    crops = []
    for blob in blobs:
        b = blob.box
        m = 3
        crop = text_only[max(0, b.y0 - m):b.y1 + m, max(0, b.x0 - m):b.x1 + m]
        crops.append(np.pad(crop, 6, constant_values=255))
    for blob, recognition in zip(blobs, recognizer.recognize(crops, [None] * len(crops))):
        blob.text = recognition.text.strip()


def _centre_inside(inner: PixelBox, outer: PixelBox) -> bool:
    cx, cy = (inner.x0 + inner.x1) / 2, (inner.y0 + inner.y1) / 2
    return outer.x0 <= cx < outer.x1 and outer.y0 <= cy < outer.y1


def _joined(blobs: list[TextBlob]) -> str:
    ordered = sorted(blobs, key=lambda b: (b.box.y0 // 8, b.box.x0))
    return "".join(b.text for b in ordered if b.text).strip()


def _spaced(blobs: list[TextBlob], dpi: float) -> str:
    """Printed words in one line with the gaps between them as ideographic spaces (令和　　年　　月　　日): where
    the person writes is where the gaps are."""
    ordered = sorted((b for b in blobs if b.text), key=lambda b: b.box.x0)
    size = float(np.median([b.box.height for b in ordered])) - px(1.0, dpi) + 1
    text = ordered[0].text
    for before, after in zip(ordered, ordered[1:]):
        gap = after.box.x0 - before.box.x1 + px(TEXT_JOIN_MM, dpi)
        text += "　" * max(1, round(gap / max(size * 1.15, 1))) + after.text
    return text


def _union(boxes: list[PixelBox]) -> PixelBox:
    return PixelBox(min(b.x0 for b in boxes), min(b.y0 for b in boxes), max(b.x1 for b in boxes), max(b.y1 for b in boxes))


def _cell_rows(boxes: list[PixelBox], dpi: float) -> list[list[PixelBox]]:
    align, max_width = px(CELL_ALIGN_MM, dpi), px(CELL_MAX_WIDTH_MM, dpi)
    candidates = sorted((b for b in boxes if b.width <= max_width and b.width <= CELL_MAX_ASPECT * b.height),
                        key=lambda b: (b.y0, b.x0))
    rows: list[list[PixelBox]] = []
    for box in sorted(candidates, key=lambda b: b.x0):
        for row in rows:
            last = row[-1]
            if (abs(last.y0 - box.y0) <= align and abs(last.y1 - box.y1) <= align and abs(box.x0 - last.x1) <= align
                    and abs(box.width - row[0].width) <= CELL_WIDTH_SPREAD * row[0].width + 2):
                row.append(box)
                break
        else:
            rows.append([box])
    return [row for row in rows if len(row) >= CELL_ROW_MIN_CELLS]


def _title_line(free_text: list[TextBlob], shape: tuple[int, int], dpi: float) -> list[TextBlob]:
    """The tallest printed line in the top fifth of the page, with what is printed beside it (a 年分)."""
    top = [b for b in free_text if b.box.y1 < shape[0] / 5]
    if not top:
        return []
    tallest = max(top, key=lambda b: b.box.height)
    return [b for b in top if _vertical_overlap(b.box, tallest.box) > 0.5 * min(b.box.height, tallest.box.height)]


def _vertical_overlap(a: PixelBox, b: PixelBox) -> int:
    return max(0, min(a.y1, b.y1) - max(a.y0, b.y0))


def _horizontal_overlap(a: PixelBox, b: PixelBox) -> int:
    return max(0, min(a.x1, b.x1) - max(a.x0, b.x0))


def _label_for(box: PixelBox, label_boxes: list[TextBlob], sources: list[TextBlob], dpi: float) -> TextBlob | None:
    """The printed label of a field: a label cell or text just left of it, else just above it."""
    touch = px(1.5, dpi)
    left_reach, above_reach = px(LABEL_LEFT_REACH_MM, dpi), px(LABEL_ABOVE_REACH_MM, dpi)

    def left_of(candidate: TextBlob, reach: int) -> bool:
        c = candidate.box
        return (box.x0 - reach <= c.x1 <= box.x0 + touch
                and _vertical_overlap(c, box) >= 0.4 * min(c.height, box.height))

    def above(candidate: TextBlob, reach: int) -> bool:
        c = candidate.box
        return (box.y0 - reach <= c.y1 <= box.y0 + touch
                and _horizontal_overlap(c, box) >= 0.3 * min(c.width, box.width))

    for test, pool, reach in ((left_of, label_boxes, touch), (above, label_boxes, touch),
                              (left_of, sources, left_reach), (above, sources, above_reach)):
        found = [c for c in pool if c.text and test(c, reach)]
        if found:
            return min(found, key=lambda c: abs(c.box.x1 - box.x0) + abs(c.box.y1 - box.y0) * (test is above))
    return None
