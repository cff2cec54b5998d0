"""Page geometry from the page itself: skew angle, quarter turns, ink."""
from __future__ import annotations

import cv2
import numpy as np

WORK_WIDTH = 800  # px; skew is estimated on a reduced copy


def ink_mask(pixels: np.ndarray) -> np.ndarray:
    """Dark pixels, robust to uneven light (a phone photo) by comparing with a local background."""
    background = cv2.medianBlur(pixels, 31) if min(pixels.shape) > 64 else np.full_like(pixels, 255)
    return ((background.astype(np.int16) - pixels.astype(np.int16)) > 60).astype(np.uint8)


def estimate_skew(pixels: np.ndarray, max_degrees: float = 8.0) -> float:
    """Angle (degrees, counter-clockwise positive as in cv2) that the page content is rotated by.

    Forms are full of long horizontal rulings and text lines: the angle that makes the row profile of ink the
    sharpest is the skew. A coarse search then a fine one keeps it well within 0.1°.
    """
    scale = WORK_WIDTH / max(pixels.shape)
    small = cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else pixels
    ink = ink_mask(small).astype(np.float32)
    best = _best_angle(ink, np.arange(-max_degrees, max_degrees + 0.01, 0.5))
    best = _best_angle(ink, np.arange(best - 0.5, best + 0.51, 0.1))
    return _best_angle(ink, np.arange(best - 0.1, best + 0.101, 0.02))


def _best_angle(ink: np.ndarray, angles: np.ndarray) -> float:
    h, w = ink.shape
    centre = (w / 2, h / 2)
    scores = []
    for angle in angles:
        matrix = cv2.getRotationMatrix2D(centre, float(angle), 1.0)
        rotated = cv2.warpAffine(ink, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
        profile = rotated.sum(axis=1)
        scores.append(float(np.square(np.diff(profile)).sum()))
    # The content is rotated by -angle when undoing it by +angle maximises sharpness.
    return -float(angles[int(np.argmax(scores))])


def rotate(pixels: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate counter-clockwise by `degrees`, keeping the whole page and filling with white."""
    if abs(degrees) < 1e-3:
        return pixels
    h, w = pixels.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(h * sin + w * cos), int(h * cos + w * sin)
    matrix[0, 2] += new_w / 2 - w / 2
    matrix[1, 2] += new_h / 2 - h / 2
    return cv2.warpAffine(pixels, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR, borderValue=255)


def deskew(pixels: np.ndarray) -> tuple[np.ndarray, float]:
    skew = estimate_skew(pixels)
    return rotate(pixels, -skew), skew


def quarter_turn(pixels: np.ndarray, degrees: int) -> np.ndarray:
    """Turn counter-clockwise by a multiple of 90°."""
    return np.ascontiguousarray(np.rot90(pixels, (degrees // 90) % 4))


def ink_fraction(pixels: np.ndarray) -> float:
    scale = WORK_WIDTH / max(pixels.shape)
    small = cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else pixels
    return float(ink_mask(small).mean())
