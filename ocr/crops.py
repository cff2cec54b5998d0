"""Cut field crops out of a registered page, and decide from the pixels what is empty and what is marked."""
from __future__ import annotations

from dataclasses import dataclass

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
    return FieldCrop(spec.name, page_crop, float(ink.mean()) if ink.size else 0.0)


def is_empty(crop: FieldCrop) -> bool:
    return crop.added_ink < EMPTY_INK_SHARE


@dataclass
class MarkReading:
    chosen: str | None
    confidence: float
    ink_by_option: dict[str, float]


def read_marks(page: np.ndarray, blank: np.ndarray, template: Template, spec: FieldSpec) -> MarkReading:
    """Which option of a circled-choice (or era) group is marked, from the ink added around each option."""
    shares: dict[str, float] = {}
    for option, slot in zip(spec.options or [], spec.option_boxes()):
        ink = added_ink(crop_box(page, template, slot, inset_mm=0.3), crop_box(blank, template, slot, inset_mm=0.3))
        shares[option] = float(ink.mean()) if ink.size else 0.0
    ranked = sorted(shares.items(), key=lambda item: item[1], reverse=True)
    top_option, top_share = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if top_share < 0.01:
        return MarkReading(None, 0.99 if top_share < 0.003 else 0.5, shares)
    # A clear mark stands out from the others; two similar marks mean a correction or a double choice.
    separation = (top_share - runner_up) / top_share
    confidence = float(np.clip(0.5 + separation * 0.5, 0.0, 0.999))
    return MarkReading(top_option, confidence, shares)
