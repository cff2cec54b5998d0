"""Page geometry: rotations and ink.

The page's quarter turn and skew are measured by registration itself (ocr/classify.py): the rotation of the
homography that lays the page on its template, finer than a separate deskew step and free of its cost."""
from __future__ import annotations

import cv2
import numpy as np

WORK_WIDTH = 800  # px; ink is measured on a reduced copy


def ink_mask(pixels: np.ndarray) -> np.ndarray:
    """Dark pixels, robust to uneven light (a phone photo) by comparing with a local background."""
    background = cv2.medianBlur(pixels, 31) if min(pixels.shape) > 64 else np.full_like(pixels, 255)
    return ((background.astype(np.int16) - pixels.astype(np.int16)) > 60).astype(np.uint8)


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


def quarter_turn(pixels: np.ndarray, degrees: int) -> np.ndarray:
    """Turn counter-clockwise by a multiple of 90°."""
    return np.ascontiguousarray(np.rot90(pixels, (degrees // 90) % 4))


def ink_fraction(pixels: np.ndarray) -> float:
    scale = WORK_WIDTH / max(pixels.shape)
    small = cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else pixels
    return float(ink_mask(small).mean())
