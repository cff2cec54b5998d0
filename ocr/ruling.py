"""A blank form's ruling: straighten the page, find its printed lines, and the boxes those lines enclose.

Generic morphology, not tuned to any one form: lines are runs of dark pixels longer than any stroke of printed
text, and a box is a white region the lines close off on every side that is (nearly) a rectangle.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

DARK = 160
# A stroke of printed text is at most about a character high; a ruled line is longer than that.
MIN_HORIZONTAL_LINE_MM = 6.0
MIN_VERTICAL_LINE_MM = 3.0
MIN_BOX_SIDE_MM = 2.5
MIN_RECTANGULARITY = 0.9
MAX_STRAIGHTEN_DEGREES = 5.0
TEXT_SAFE_VERTICAL_LINE_MM = 6.0


@dataclass(frozen=True)
class PixelBox:
    x0: int
    y0: int
    x1: int  # exclusive
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def mm(self, dpi: float) -> tuple[float, float, float, float]:
        per_px = 25.4 / dpi
        return (round(self.x0 * per_px, 2), round(self.y0 * per_px, 2),
                round(self.width * per_px, 2), round(self.height * per_px, 2))


@dataclass
class Ruling:
    horizontal: np.ndarray  # bool masks, page size
    vertical: np.ndarray
    dpi: float

    @property
    def lines(self) -> np.ndarray:
        return self.horizontal | self.vertical


def px(mm: float, dpi: float) -> int:
    return max(1, round(mm * dpi / 25.4))


def dark_mask(grey: np.ndarray) -> np.ndarray:
    return grey < DARK


def skew_degrees(grey: np.ndarray, dpi: float) -> float:
    """The angle of the page's long horizontal lines (positive: they fall to the right), 0 when there are none."""
    dark = dark_mask(grey).astype(np.uint8) * 255
    min_length = px(30, dpi)
    segments = cv2.HoughLinesP(dark, 1, np.pi / 1800, threshold=min_length // 2, minLineLength=min_length,
                               maxLineGap=px(1, dpi))
    if segments is None:
        return 0.0
    angles, weights = [], []
    for x0, y0, x1, y1 in segments[:, 0]:
        angle = float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))
        if abs(angle) <= MAX_STRAIGHTEN_DEGREES:
            angles.append(angle)
            weights.append(float(np.hypot(x1 - x0, y1 - y0)))
    if not angles:
        return 0.0
    order = np.argsort(angles)
    cumulative = np.cumsum(np.asarray(weights)[order])
    return float(np.asarray(angles)[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def straighten(grey: np.ndarray, dpi: float) -> tuple[np.ndarray, float]:
    """The page turned so that its ruling is level, and the angle it was turned by."""
    angle = skew_degrees(grey, dpi)
    if abs(angle) < 0.05:
        return grey, 0.0
    height, width = grey.shape
    rotation = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    return cv2.warpAffine(grey, rotation, (width, height), flags=cv2.INTER_LINEAR, borderValue=255), angle


def find_ruling(grey: np.ndarray, dpi: float, min_vertical_mm: float = MIN_VERTICAL_LINE_MM) -> Ruling:
    """Short vertical lines (a small tick box's sides) are as long as a label's strokes: they close boxes, but
    only longer ones (`min_vertical_mm`) may be taken out of the page before its printed text is read."""
    dark = dark_mask(grey).astype(np.uint8)
    horizontal = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((1, px(MIN_HORIZONTAL_LINE_MM, dpi)), np.uint8))
    vertical = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((px(min_vertical_mm, dpi), 1), np.uint8))
    return Ruling(horizontal.astype(bool), vertical.astype(bool), dpi)


def enclosed_boxes(ruling: Ruling) -> list[PixelBox]:
    """The white regions the ruling closes off that are rectangles at least MIN_BOX_SIDE_MM a side, measured to
    the middle of their frame lines, top to bottom then left to right."""
    dpi = ruling.dpi
    # Lines that nearly meet at a corner are joined: a scan or a thin print leaves a pixel's gap.
    grid = cv2.dilate(ruling.lines.astype(np.uint8), np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats((1 - grid).astype(np.uint8), connectivity=4)
    height, width = grid.shape
    smallest = px(MIN_BOX_SIDE_MM, dpi)
    boxes = []
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if x == 0 or y == 0 or x + w >= width or y + h >= height:
            continue  # the page around the form
        if w < smallest or h < smallest or area < MIN_RECTANGULARITY * w * h:
            continue
        # The white region stops at the dilated line; its frame's middle is half a line further out.
        grow = _half_line(ruling, x, y, w, h)
        boxes.append(PixelBox(x - grow, y - grow, x + w + grow, y + h + grow))
    return sorted(boxes, key=lambda b: (round(b.y0 / px(2, dpi)), b.x0))


def _half_line(ruling: Ruling, x: int, y: int, w: int, h: int) -> int:
    """Half the thickness of the line above the region, plus the pixel the joining dilation took."""
    column = ruling.horizontal[max(0, y - px(1.5, ruling.dpi)):y, x + w // 2]
    return 1 + int(column.sum()) // 2


def line_coverage(ruling: Ruling, box_px: PixelBox, slack_px: int) -> dict[str, float]:
    """Per side of a box, the share of its length that lies on a printed line (within `slack_px`)."""
    horizontal = cv2.dilate(ruling.horizontal.astype(np.uint8), np.ones((2 * slack_px + 1, 1), np.uint8))
    vertical = cv2.dilate(ruling.vertical.astype(np.uint8), np.ones((1, 2 * slack_px + 1), np.uint8))
    height, width = horizontal.shape

    def row_share(y: int) -> float:
        if not 0 <= y < height:
            return 0.0
        segment = horizontal[y, max(0, box_px.x0):min(width, box_px.x1)]
        return float(segment.mean()) if segment.size else 0.0

    def column_share(x: int) -> float:
        if not 0 <= x < width:
            return 0.0
        segment = vertical[max(0, box_px.y0):min(height, box_px.y1), x]
        return float(segment.mean()) if segment.size else 0.0

    return {"top": row_share(box_px.y0), "bottom": row_share(box_px.y1 - 1),
            "left": column_share(box_px.x0), "right": column_share(box_px.x1 - 1)}
