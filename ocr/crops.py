"""Cut field crops out of a registered page, and decide from the pixels what is empty and what is marked."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ocr.templates import Box, FieldSpec, Template

# Inset from the printed box so its frame does not read as "|" or "1"; the study found that removing the cell
# lines inside a digit row hurts, so only the outer frame is avoided.
FRAME_INSET_MM = 0.7
# A pixel counts as written ink when it is this much darker than the blank form at the same place.
INK_DELTA = 70
EMPTY_INK_SHARE = 0.004


@dataclass
class FieldCrop:
    name: str
    pixels: np.ndarray
    added_ink: float  # share of pixels darker than the blank form: writing, not printing
    ink_at_sides: bool = False  # the writing touches the box's left or right frame: its end may be cut


def crop_box(page: np.ndarray, template: Template, box: Box, inset_mm: float = FRAME_INSET_MM) -> np.ndarray:
    x, y, w, h = box
    x0 = int(round(template.mm_to_px(x + inset_mm)))
    y0 = int(round(template.mm_to_px(y + inset_mm)))
    x1 = int(round(template.mm_to_px(x + w - inset_mm)))
    y1 = int(round(template.mm_to_px(y + h - inset_mm)))
    return page[max(0, y0):max(0, y1), max(0, x0):max(0, x1)]


def added_ink(page_crop: np.ndarray, blank_crop: np.ndarray) -> np.ndarray:
    """Where the page is clearly darker than the blank form: what a person or a printer added."""
    # Dilating the blank's ink forgives registration errors of a pixel or two around printed strokes.
    import cv2

    blank_dark = cv2.erode(blank_crop, np.ones((5, 5), np.uint8))
    return (blank_dark.astype(np.int16) - page_crop.astype(np.int16)) > INK_DELTA


def crop_field(page: np.ndarray, blank: np.ndarray, template: Template, spec: FieldSpec) -> FieldCrop:
    page_crop = crop_box(page, template, spec.box)
    blank_crop = crop_box(blank, template, spec.box)
    ink = added_ink(page_crop, blank_crop)
    near_sides = sides_with_ink(ink, MIN_ROWS_NEAR_FRAME)
    touching = bool(near_sides) and bool(sides_touching_frame(page, blank, template, spec.box, near_sides))
    return FieldCrop(spec.name, page_crop, float(ink.mean()) if ink.size else 0.0, touching)


# A recogniser reads a short name in a wide box poorly: the text, a tenth of the box, comes out 15–20 px high at its
# input height and the first character is dropped (「田中明美」 → 「中明美」 at 0.98). Cut to the added ink, with a margin
# of this share of the ink's height (at least TIGHT_MIN_MARGIN_PX), and it reads 「田中明美」 at 0.9998.
TIGHT_MARGIN_SHARE = 0.3
TIGHT_MIN_MARGIN_PX = 3
TIGHT_MIN_COMPONENT_PX = 5  # specks of scan noise do not stretch the cut


def tight_to_ink(page_crop: np.ndarray, blank_crop: np.ndarray) -> np.ndarray:
    """`page_crop` cut to the bounding box of the ink added to the blank form, plus a margin; unchanged when
    there is no such ink."""
    import cv2

    if page_crop.shape != blank_crop.shape or not page_crop.size:
        return page_crop
    ink = added_ink(page_crop, blank_crop).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    kept = stats[1:][stats[1:, cv2.CC_STAT_AREA] >= TIGHT_MIN_COMPONENT_PX]
    if not len(kept):
        return page_crop
    x0, y0 = int(kept[:, 0].min()), int(kept[:, 1].min())
    x1 = int((kept[:, 0] + kept[:, 2]).max())
    y1 = int((kept[:, 1] + kept[:, 3]).max())
    margin = max(TIGHT_MIN_MARGIN_PX, int(round((y1 - y0) * TIGHT_MARGIN_SHARE)))
    height, width = page_crop.shape[:2]
    return page_crop[max(0, y0 - margin):min(height, y1 + margin), max(0, x0 - margin):min(width, x1 + margin)]


# Writing that reaches the frame may go on past it (a long name in a dependant's narrow box), or hide its last
# stroke under the frame line: 「ミカコ」's last stroke on the line reads 「ミカニ」, 「美加子」 reads 「美加了」, at 0.99.
# Ink the person added in the outermost columns of the box, over this share of its height, says the writing comes
# near the frame; the crop `reaching_the_frame` then says whether it touches it.
SIDE_COLUMNS_PX = 2
SIDE_INK_HEIGHT_SHARE = 0.15
# The whitened frame line and its registration slack end about 3 px (200 dpi) from the crop's edge. On 120
# generated 給与支払報告書 (printed and handwritten, clean300 and office200), 122 fields were written near the
# frame: of the 69 that came this close 13 were misread, 2 with no other reason to ask a person (クミコ → クミニ,
# ハルカ → ハルナ); of the 53 that left a pixel or more of paper 8 were misread, every one with a reason of its own.
FRAME_TOUCH_MM = 0.4


# A glyph whose upright stroke lies on the frame line (コ at the end of a kana name) leaves only its two horizontal
# strokes in the crop's outermost columns: two or three pixel rows, not SIDE_INK_HEIGHT_SHARE of the box.
MIN_ROWS_NEAR_FRAME = 2


def sides_with_ink(ink: np.ndarray, least_rows: int | None = None) -> list[str]:
    """The sides ("left", "right") of a box's added-ink crop whose outermost columns hold writing: over
    SIDE_INK_HEIGHT_SHARE of its rows, or `least_rows` rows."""
    if ink.ndim != 2 or ink.shape[1] <= 2 * SIDE_COLUMNS_PX:
        return []
    if least_rows is None:
        least_rows = max(3, int(round(ink.shape[0] * SIDE_INK_HEIGHT_SHARE)))
    return [side for side in ("left", "right") if int(_side_rows(ink, side).sum()) >= least_rows]


def _side_rows(ink: np.ndarray, side: str) -> np.ndarray:
    columns = ink[:, :SIDE_COLUMNS_PX] if side == "left" else ink[:, -SIDE_COLUMNS_PX:]
    return columns.any(axis=1)


def ink_runs_past_sides(ink: np.ndarray) -> bool:
    """Whether the added ink of a box's crop reaches its left or right edge."""
    return bool(sides_with_ink(ink))


def sides_touching_frame(page: np.ndarray, blank: np.ndarray, template: Template, box: Box,
                         near_sides: list[str]) -> list[str]:
    """Of `near_sides` (where the box's writing comes near the frame), those where it touches (or crosses) the
    frame line: its end may be cut."""
    if not near_sides:
        return []
    widened_page, widened_blank = _widened_to_frame(page, blank, template, box, near_sides)
    ink = added_ink(widened_page, widened_blank)
    zone = int(template.mm_to_px(FRAME_TOUCH_MM)) + 1
    if ink.ndim != 2 or ink.shape[1] <= 2 * zone:
        return []
    near = {"left": ink[:, :zone], "right": ink[:, -zone:]}
    return [side for side in near_sides if int(near[side].any(axis=1).sum()) >= MIN_ROWS_NEAR_FRAME]


def reaching_the_frame(page: np.ndarray, blank: np.ndarray, template: Template, box: Box) -> tuple[np.ndarray, np.ndarray]:
    """The box's page and blank crops, widened to the frame on each side the writing reaches, with the form's own
    printing (the frame line) whitened there.

    The usual crop stops FRAME_INSET_MM inside the frame, which cuts a last character written up to the line: at
    300 dpi 「ハナコ」 read 「ハナニ」 and 「桃子」 read 「桃了」 at 0.99, with nothing outside the frame to say so."""
    page_crop, blank_crop = crop_box(page, template, box), crop_box(blank, template, box)
    sides = sides_with_ink(added_ink(page_crop, blank_crop), MIN_ROWS_NEAR_FRAME)
    if not sides:
        return page_crop, blank_crop
    return _widened_to_frame(page, blank, template, box, sides)


def _widened_to_frame(page: np.ndarray, blank: np.ndarray, template: Template, box: Box, sides: list[str]
                      ) -> tuple[np.ndarray, np.ndarray]:
    x, y, w, h = box
    left = x if "left" in sides else x + FRAME_INSET_MM
    right = x + w if "right" in sides else x + w - FRAME_INSET_MM
    widened = (left, y + FRAME_INSET_MM, right - left, h - 2 * FRAME_INSET_MM)
    page_crop = crop_box(page, template, widened, inset_mm=0).copy()
    blank_crop = crop_box(blank, template, widened, inset_mm=0)
    if page_crop.shape == blank_crop.shape:
        import cv2

        # The printing as added_ink forgives it: two pixels of registration slack around each printed stroke.
        printed = cv2.erode(blank_crop, np.ones((5, 5), np.uint8)) < PRINTED_DARK
        page_crop[printed & ~added_ink(page_crop, blank_crop)] = 255
    return page_crop, blank_crop


PRINTED_DARK = 160  # a blank form's pixel this dark is its printing (ruling or label)


# A line this many times longer than high is read a second time in two halves (see ocr/read.py).
LONG_LINE_ASPECT = 12.0
SPLIT_SEARCH_SHARE = 0.25  # the cut is looked for within this share of the width around the middle
SPACE_SHARE_OF_HEIGHT = 0.5  # a written space is at least this wide; gaps inside a line were under 0.45


def split_at_gap(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """A long line cut in two in the middle of a written space near its middle, or None when it is not long or
    has no such space there."""
    height, width = crop.shape[:2]
    if not height or width < LONG_LINE_ASPECT * height:
        return None
    darkness = (crop < 128).sum(axis=0)
    lo, hi = int(width * (0.5 - SPLIT_SEARCH_SHARE)), int(width * (0.5 + SPLIT_SEARCH_SHARE))
    window = darkness[lo:hi]
    if not len(window) or window.min() > 0:
        return None
    free = np.flatnonzero(window == 0) + lo
    # Japanese print sets characters almost edge to edge, and gaps inside one (川, 八) are as wide as between two:
    # only a written space (before a building's name) is a safe place to cut. 「川区」 cut inside 川 read 「I区」.
    runs = np.split(free, np.flatnonzero(np.diff(free) > 1) + 1)
    widest = max(runs, key=len)
    if len(widest) < SPACE_SHARE_OF_HEIGHT * height:
        return None
    cut = int(widest[len(widest) // 2])
    return crop[:, :cut], crop[:, cut:]


def is_empty(crop: FieldCrop) -> bool:
    return crop.added_ink < EMPTY_INK_SHARE


@dataclass
class MarkReading:
    chosen: str | None
    confidence: float
    ink_by_option: dict[str, float]
    unsure: list[str] = field(default_factory=list)  # options that are neither clearly circled nor clearly empty


# Circled choices and era groups. An option slot is small (the era boxes of kyuyo_hokoku are 5 × 5 mm) and its
# frame lines and printed label sit at its edges and centre, so a pixel or two of registration error, a photo's
# uneven paper, fax streaks or speckle must not read as a circle. The ink a person added is measured against the
# blank with a tolerance (the blank's ink is spread by MARK_TOLERANCE_PX, with context outside the slot so a frame
# line just outside it still forgives a shifted one), on paper levelled to white; straight runs across the slot
# (frame lines shifted further) and specks are dropped; and the rest must form a ring around the label.
MARK_INSET_MM = 0.3
MARK_CONTEXT_PX = 10
MARK_TOLERANCE_PX = 2
MARK_LINE_SHARE = 0.75  # a row or column of the slot this full of added ink is a frame line, not a circle
MARK_MIN_COMPONENT_PX = 12
RING_SECTORS = 12
RING_RADII = (0.5, 1.8)  # of the expected circle's half-axes, around the slot centre
MARK_LABEL_MM = 3.4  # the printed label's character size; a circle is drawn about 3 mm wider than the label
# Measured on 10 pages per form × style × office200/fax/photo (1,810 option slots): circled options had a ring
# coverage ≥ 0.58 and added ink ≥ 3.8%; empty ones (registration that held) ≤ 2.1% and mostly no ring at all.
MARKED_SHARE, MARKED_COVERAGE = 0.03, 0.6
EMPTY_SHARE, EMPTY_COVERAGE = 0.012, 0.35
# Share of the blank's printed pixels (label, frame) not found dark on the page within the tolerance: more means
# the slot is not where the template says (a page that did not register well), and nothing there can be trusted.
LABEL_MISSING_MAX = 0.35


@dataclass
class OptionInk:
    share: float  # added ink (lines and specks removed) over the slot
    ring_coverage: float  # share of sectors around the label holding added ink
    label_missing: float

    @property
    def state(self) -> str:
        if self.label_missing > LABEL_MISSING_MAX:
            return "unsure"
        if self.share >= MARKED_SHARE and self.ring_coverage >= MARKED_COVERAGE:
            return "marked"
        if self.share < EMPTY_SHARE or self.ring_coverage < EMPTY_COVERAGE:
            return "empty"
        return "unsure"


def read_marks(page: np.ndarray, blank: np.ndarray, template: Template, spec: FieldSpec) -> MarkReading:
    """Which option of a circled-choice (or era) group is circled: the one slot whose added ink forms a ring
    around its label, all others clearly empty. Anything else (two rings, ink that is neither, a slot whose
    printed label is not where it should be) is unsure and goes to a person."""
    options = list(spec.options or [])
    inks = {option: option_ink(page, blank, template, slot, label)
            for option, slot, label in zip(options, spec.option_boxes(), spec.printed_option_labels())}
    shares = {option: round(ink.share, 4) for option, ink in inks.items()}
    marked = [option for option, ink in inks.items() if ink.state == "marked"]
    unsure = [option for option, ink in inks.items() if ink.state == "unsure"]
    if not unsure and len(marked) == 1:
        return MarkReading(marked[0], 0.99, shares)
    if not unsure and not marked:
        return MarkReading(None, 0.99, shares)
    # Two rings (a correction or a double choice) or ink that is neither: the likeliest option at a low
    # confidence, so that the reader sends it to review (an empty reading would be accepted as empty).
    best = max(inks, key=lambda option: (inks[option].share * inks[option].ring_coverage, inks[option].share))
    return MarkReading(best, 0.5, shares, unsure=unsure + (marked if len(marked) > 1 else []))


def option_ink(page: np.ndarray, blank: np.ndarray, template: Template, slot: Box, label: str) -> OptionInk:
    cleaned = cleaned_mark_ink(page, blank, template, slot)
    if cleaned is None:
        return OptionInk(0.0, 0.0, 1.0)
    ink, label_missing = cleaned
    # The circle is drawn around the label at the slot's centre, a little wider than the label.
    _, _, w, h = slot
    px_per_mm = template.mm_to_px(1.0)
    half_w = min(len(label) * MARK_LABEL_MM + 3.0, w) * px_per_mm / 2
    half_h = max(h / 2 - 1.0, 0.5) * px_per_mm
    return OptionInk(float(ink.mean()), _ring_coverage(ink, half_w, half_h), label_missing)


def cleaned_mark_ink(page: np.ndarray, blank: np.ndarray, template: Template, slot: Box
                     ) -> tuple[np.ndarray, float] | None:
    """The ink a person added inside a mark slot (a circled option or a tick box), and the share of the blank's
    printed pixels missing on the page; None for a slot too small to judge.

    Measured against the blank with a tolerance, on paper levelled to white; straight runs across the slot (frame
    lines shifted further), rows of ink that go on outside the slot on both sides (a fax streak through it) and
    specks are dropped."""
    import cv2

    x, y, w, h = slot
    x0, y0 = (int(round(template.mm_to_px(v + MARK_INSET_MM))) for v in (x, y))
    x1, y1 = int(round(template.mm_to_px(x + w - MARK_INSET_MM))), int(round(template.mm_to_px(y + h - MARK_INSET_MM)))
    x1, y1 = min(x1, page.shape[1], blank.shape[1]), min(y1, page.shape[0], blank.shape[0])
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    cx0, cy0 = max(0, x0 - MARK_CONTEXT_PX), max(0, y0 - MARK_CONTEXT_PX)
    cx1, cy1 = x1 + MARK_CONTEXT_PX, y1 + MARK_CONTEXT_PX
    inner = (slice(y0 - cy0, y1 - cy0), slice(x0 - cx0, x1 - cx0))
    kernel = np.ones((2 * MARK_TOLERANCE_PX + 1,) * 2, np.uint8)
    page_context = page[cy0:cy1, cx0:cx1].astype(np.float32)
    # Paper levelled to white: a photo's grey or shaded paper is not ink.
    paper = max(float(np.percentile(page_context, 90)), 1.0)
    levelled = np.clip(page_context * (255.0 / paper), 0, 255).astype(np.uint8)
    blank_context = blank[cy0:cy1, cx0:cx1]
    context_ink = (cv2.erode(blank_context, kernel).astype(np.int16) - levelled.astype(np.int16)) > INK_DELTA
    ink = context_ink[inner].copy()
    ink[ink.mean(axis=1) >= MARK_LINE_SHARE, :] = False
    ink[:, ink.mean(axis=0) >= MARK_LINE_SHARE] = False
    ink[_rows_streaking_through(context_ink, inner), :] = False
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= MARK_MIN_COMPONENT_PX
    ink = keep[labels]
    printed = blank_context[inner] < 128
    page_dark = cv2.erode(levelled, kernel)[inner]
    label_missing = float((page_dark[printed] > 170).mean()) if printed.sum() >= 5 else 0.0
    return ink, label_missing


def _rows_streaking_through(context_ink: np.ndarray, inner: tuple[slice, slice]) -> np.ndarray:
    """Rows of the slot (±1 px) whose added ink also lies in the context left and right of it: a streak across
    the page, not a mark, which stays inside its slot."""
    rows, columns = inner
    band = np.zeros(context_ink.shape[0], bool)
    left = context_ink[:, :columns.start].any(axis=1) if columns.start > 0 else band
    right = context_ink[:, columns.stop:].any(axis=1) if columns.stop < context_ink.shape[1] else band
    through = left & right
    through = through | np.roll(through, 1) | np.roll(through, -1)
    return through[rows]


def _ring_coverage(ink: np.ndarray, half_w: float, half_h: float) -> float:
    ys, xs = np.nonzero(ink)
    if not len(xs):
        return 0.0
    height, width = ink.shape
    dx, dy = (xs - (width - 1) / 2) / half_w, (ys - (height - 1) / 2) / half_h
    radius = np.hypot(dx, dy)
    near = (radius >= RING_RADII[0]) & (radius <= RING_RADII[1])
    sector = (((np.arctan2(dy[near], dx[near]) + np.pi) / (2 * np.pi) * RING_SECTORS).astype(int)) % RING_SECTORS
    return float((np.bincount(sector, minlength=RING_SECTORS) >= 2).mean())


# A part between printed dividers (千 and 円 of an amount, 年 月 日 of a date) holds a character when this share of
# it is ink the blank form does not have, over this share of its height (a fax streak is a row or two).
PART_INK_SHARE = 0.01
PART_INK_HEIGHT_SHARE = 0.25


def part_crops(page: np.ndarray, blank: np.ndarray, template: Template, spec: FieldSpec) -> list[np.ndarray | None]:
    """Each part of a box cut by printed dividers, the printed form whited out (the dividers and the small 千 / 円 /
    年 labels would read as 1 or as characters), cut to the written ink; None for a part nothing is written in."""
    import cv2

    parts: list[np.ndarray | None] = []
    for box in spec.part_boxes():
        page_crop = crop_box(page, template, box, inset_mm=0.35)
        blank_crop = crop_box(blank, template, box, inset_mm=0.35)
        if page_crop.shape != blank_crop.shape or not page_crop.size:
            parts.append(None)
            continue
        ink = added_ink(page_crop, blank_crop)
        if not (ink.mean() > PART_INK_SHARE and ink.any(axis=1).mean() > PART_INK_HEIGHT_SHARE):
            parts.append(None)
            continue
        printed = cv2.dilate((blank_crop < 170).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        cleaned = page_crop.copy()
        cleaned[printed & ~ink] = 255
        parts.append(tight_to_ink(cleaned, blank_crop))
    return parts


# Stroke groups of a number's ink: connected pieces of added ink, specks and commas (shorter than this share of the
# tallest piece) left out, pieces that overlap left to right taken as one character (a 5's flag, a 4's two strokes).
GROUP_MIN_HEIGHT_SHARE = 0.45
GROUP_MIN_AREA_PX = 6


def stroke_groups(page: np.ndarray, blank: np.ndarray, template: Template, spec: FieldSpec) -> int:
    """How many characters' worth of ink a person added in a field's box, counted left to right: a lower bound on
    what a right reading holds wherever two written characters do not touch."""
    import cv2

    page_crop = crop_box(page, template, spec.box)
    blank_crop = crop_box(blank, template, spec.box)
    if page_crop.shape != blank_crop.shape or not page_crop.size:
        return 0
    ink = added_ink(page_crop, blank_crop).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    pieces = stats[1:][stats[1:, cv2.CC_STAT_AREA] >= GROUP_MIN_AREA_PX]
    if not len(pieces):
        return 0
    tallest = int(pieces[:, cv2.CC_STAT_HEIGHT].max())
    pieces = pieces[pieces[:, cv2.CC_STAT_HEIGHT] >= GROUP_MIN_HEIGHT_SHARE * tallest]
    spans = sorted((int(x), int(x + w)) for x, w in zip(pieces[:, cv2.CC_STAT_LEFT], pieces[:, cv2.CC_STAT_WIDTH]))
    groups, right = 0, -1
    for left, end in spans:
        if left >= right:
            groups += 1
            right = end
        else:
            right = max(right, end)
    return groups


# A tick is drawn inside its box; a seal's ring, a stamp's bar or a line from the next field crosses into it from
# outside. Ink in the box joined to ink this far outside the box is not (only) a tick.
OUTSIDE_REACH_MM = 1.5
OUTSIDE_CONTEXT_MM = 3.0
OUTSIDE_MIN_SHARE = 0.01  # of the slot's area: a frame line's shifted pixel or two is not ink running in


def mark_ink_from_outside(page: np.ndarray, blank: np.ndarray, template: Template, slot: Box) -> bool:
    """Whether ink inside a tick box (as cleaned_mark_ink keeps it) belongs to strokes that go on well outside the
    box: then no one can tell a tick from what ran in, and the box goes to a person."""
    import cv2

    cleaned = cleaned_mark_ink(page, blank, template, slot)
    if cleaned is None or cleaned[0].mean() < OUTSIDE_MIN_SHARE:
        return False
    inner_ink = cleaned[0]
    x, y, w, h = slot
    x0, y0 = (int(round(template.mm_to_px(v + MARK_INSET_MM))) for v in (x, y))
    x0, y0 = min(x0, page.shape[1]), min(y0, page.shape[0])
    context = int(round(template.mm_to_px(OUTSIDE_CONTEXT_MM)))
    reach = template.mm_to_px(OUTSIDE_REACH_MM + MARK_INSET_MM)
    cx0, cy0 = max(0, x0 - context), max(0, y0 - context)
    ih, iw = inner_ink.shape
    cx1 = min(page.shape[1], blank.shape[1], x0 + iw + context)
    cy1 = min(page.shape[0], blank.shape[0], y0 + ih + context)
    page_context = page[cy0:cy1, cx0:cx1].astype(np.float32)
    paper = max(float(np.percentile(page_context, 90)), 1.0)
    levelled = np.clip(page_context * (255.0 / paper), 0, 255).astype(np.uint8)
    kernel = np.ones((2 * MARK_TOLERANCE_PX + 1,) * 2, np.uint8)
    ink = (cv2.erode(blank[cy0:cy1, cx0:cx1], kernel).astype(np.int16) - levelled.astype(np.int16)) > INK_DELTA
    # A stroke crossing the box's frame is cut in two where the frame's printing is subtracted (with its
    # tolerance): spread the ink over that gap before taking pieces.
    bridge = 2 * (MARK_TOLERANCE_PX + 2) + 1
    ink = cv2.dilate(ink.astype(np.uint8), np.ones((bridge, bridge), np.uint8)).astype(bool)
    count, labels = cv2.connectedComponents(ink.astype(np.uint8), connectivity=8)
    seeds = np.zeros_like(ink)
    seeds[y0 - cy0:y0 - cy0 + ih, x0 - cx0:x0 - cx0 + iw] = inner_ink[:cy1 - y0, :cx1 - x0]
    touched = np.unique(labels[seeds & ink])
    touched = touched[touched > 0]
    if not len(touched):
        return False
    ys, xs = np.nonzero(np.isin(labels, touched))
    left, top = x0 - cx0, y0 - cy0
    outside = np.maximum.reduce([left - xs, xs - (left + iw), top - ys, ys - (top + ih)])
    return bool((outside >= reach).any())
