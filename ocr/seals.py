"""Find seals (印影: a 代表者印, a 認印, the city's 受付印) stamped over a registered page, from their outline.

On a colour scan red seal ink is dropped when the page is loaded (ocr.load.drop_red_ink). On a grey or
black-and-white scan, or with a black seal, the seal is ink like any other, and a ring of it over a tick box reads as
a tick, over digits as digits. Nothing a person writes in a field is a closed ring or square 9–35 mm across (a
written character is at most the box's height, a circled option a few millimetres), so such an outline in the ink
added to the blank form is a seal, and every field it touches goes to a person (`seal_over_field`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ocr.templates import Template
# Seal outlines are looked for on a 1 mm grid (a cell holds ink if any of its pixels does, so a seal's line broken
# for a pixel or five where it crosses a printed rule still counts), as rings and squares of
# every whole size in this range, by how many of SAMPLES points around the outline hold ink.
SEAL_SIZES_MM = range(10, 36)
SAMPLES = 32
OUTLINE_MIN_COVERAGE = 0.88
# A seal's outline stands alone: 2 mm inside or outside it (where a 受付印's text or a neighbour's writing is) the ink
# covers less. Dense writing, which covers every ring through it, is no seal.
NEIGHBOUR_MAX_COVERAGE = 0.65
NEIGHBOUR_MM = 2
# At most this share of the outline may cross printing: a square lying along a table's rules is hidden, not found.
SEEN_MIN_SHARE = 0.6
# An outline is a line: at most points of it the paper THIN_MM further out is clean. A row of writing that an
# outline could be laid along is thick (a two-line block of names looks like a square of text otherwise).
THIN_MM = 2
THIN_MIN_SHARE = 0.35


@dataclass(frozen=True)
class FoundSeal:
    centre_mm: tuple[float, float]
    size_mm: float
    shape: str  # "round" or "square"


def _offsets(shape: str, size_cells: float) -> list[tuple[int, int]]:
    half = size_cells / 2
    points = []
    for k in range(SAMPLES):
        if shape == "round":
            angle = 2 * np.pi * k / SAMPLES - np.pi / 4  # quarter k // (SAMPLES // 4): right, bottom, left, top
            points.append((int(round(half * np.cos(angle))), int(round(half * np.sin(angle)))))
        else:
            side, t = divmod(k, SAMPLES // 4)
            along = -half + 2 * half * (t + 0.5) / (SAMPLES // 4)
            x, y = [(along, -half), (half, along), (-along, half), (-half, -along)][side]
            points.append((int(round(x)), int(round(y))))
    return points  # point k of every size lies on the same ray from the centre


def _pooled(mask: np.ndarray, cell: int, rows: int, cols: int) -> np.ndarray:
    return mask[:rows * cell, :cols * cell].reshape(rows, cell, cols, cell).any(axis=(1, 3)).astype(np.uint8)


def find_seals(added_ink: np.ndarray, px_per_mm: float, printed: np.ndarray | None = None) -> list[FoundSeal]:
    """Seal outlines (round or square, 10–35 mm) among the ink added to the blank form (a boolean page mask).

    `printed`: the blank form's printing (a boolean mask of the same size). Where the outline crosses printing,
    added ink cannot be seen (the printing is subtracted with a margin), so those points of the outline are not
    counted either way; at least SEEN_MIN_SHARE of the outline must lie off the printing."""
    cell = max(1, int(round(px_per_mm)))
    rows, cols = added_ink.shape[0] // cell, added_ink.shape[1] // cell
    if not rows or not cols:
        return []
    grid = _pooled(added_ink, cell, rows, cols)
    unknown = np.zeros_like(grid) if printed is None else _pooled(printed, cell, rows, cols) & (1 - grid)
    mm_per_cell = cell / px_per_mm
    pad = int(max(SEAL_SIZES_MM) / mm_per_cell / 2) + NEIGHBOUR_MM + 2
    padded, padded_unknown = np.pad(grid, pad), np.pad(unknown, pad)
    found: list[FoundSeal] = []
    for shape in ("round", "square"):
        coverage: dict[int, np.ndarray] = {}

        def covered(size_mm: int) -> np.ndarray:
            if size_mm not in coverage:
                offsets = _offsets(shape, size_mm / mm_per_cell)
                beyond = _offsets(shape, (size_mm + 2 * THIN_MM) / mm_per_cell)
                hits = np.zeros((rows, cols), np.uint16)
                hidden = np.zeros((rows, cols), np.uint16)
                thin_quarters = [np.zeros((rows, cols), np.uint16) for _ in range(4)]
                for k, ((dx, dy), (bx, by)) in enumerate(zip(offsets, beyond)):
                    hit = padded[pad + dy:pad + dy + rows, pad + dx:pad + dx + cols]
                    hits += hit
                    thin_quarters[k * 4 // len(offsets)] += hit & (1 - padded[pad + by:pad + by + rows,
                                                                              pad + bx:pad + bx + cols])
                    hidden += padded_unknown[pad + dy:pad + dy + rows, pad + dx:pad + dx + cols]
                seen = len(offsets) - hidden
                share = hits / np.maximum(seen, 1)
                # Every side (or quarter of a ring) must be a line: rows of writing a square could be laid along
                # have sides that cross them, and writing goes on past those.
                thick_side = np.zeros((rows, cols), bool)
                for quarter in thin_quarters:
                    thick_side |= quarter < THIN_MIN_SHARE * (len(offsets) // 4)
                share[(seen < SEEN_MIN_SHARE * len(offsets)) | thick_side] = 0.0
                coverage[size_mm] = share
            return coverage[size_mm]

        for size in SEAL_SIZES_MM:
            outline = covered(size) >= OUTLINE_MIN_COVERAGE
            if not outline.any():
                continue
            alone = np.maximum(covered(size - 2 * NEIGHBOUR_MM), covered(size + 2 * NEIGHBOUR_MM)) \
                <= NEIGHBOUR_MAX_COVERAGE
            for row, col in zip(*np.nonzero(outline & alone)):
                found.append(FoundSeal(((col + 0.5) * mm_per_cell, (row + 0.5) * mm_per_cell), float(size), shape))
    return _confirmed(found)


# A real outline fits at several neighbouring sizes and centres (its line is 0.5–1 mm wide, the grid 1 mm); writing
# that happens to cover one ring's points does so at one or two.
CONFIRMING_FITS = 3
CONFIRMING_DISTANCE_MM = 2.5


def _confirmed(found: list[FoundSeal]) -> list[FoundSeal]:
    if not found:
        return []
    centres = np.array([seal.centre_mm for seal in found])
    sizes = np.array([seal.size_mm for seal in found])
    kept = []
    for index, seal in enumerate(found):
        near = (np.hypot(*(centres - centres[index]).T) <= CONFIRMING_DISTANCE_MM) \
            & (np.abs(sizes - sizes[index]) <= CONFIRMING_DISTANCE_MM)
        if near.sum() >= CONFIRMING_FITS:
            kept.append(seal)
    return kept


def not_circled_options(template: Template, seals: list[FoundSeal], slack_mm: float = 1.5) -> list[FoundSeal]:
    """The seals that are not a circle around a choice's option: a ring lying inside an era or choice field's box is
    a person's circled answer."""
    boxes = [spec.box for spec in template.fields if spec.kind in ("era", "choice")]
    kept = []
    for seal in seals:
        cx, cy = seal.centre_mm
        half = seal.size_mm / 2
        inside = any(x - slack_mm <= cx - half and cx + half <= x + w + slack_mm
                     and y - slack_mm <= cy - half and cy + half <= y + h + slack_mm for x, y, w, h in boxes)
        if not inside:
            kept.append(seal)
    return kept


def fields_under_seals(template: Template, seals: list[FoundSeal], margin_mm: float = 0.5) -> set[str]:
    """Fields whose box lies under a found seal's outline or inside it."""
    touched: set[str] = set()
    for seal in seals:
        cx, cy = seal.centre_mm
        half = seal.size_mm / 2 + margin_mm
        for spec in template.fields:
            x, y, w, h = spec.box
            # The box's point nearest the seal's centre, inside the seal's square (or its circle).
            nx, ny = min(max(cx, x), x + w), min(max(cy, y), y + h)
            inside = max(abs(nx - cx), abs(ny - cy)) <= half if seal.shape == "square" \
                else np.hypot(nx - cx, ny - cy) <= half
            if inside:
                touched.add(spec.name)
    return touched
