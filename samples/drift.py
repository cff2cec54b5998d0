"""Print the calibration never saw: the filled-in values as another program's printer puts them on paper.

`dot_matrix`: a payroll program printing on an impact (dot-matrix) printer: every stroke of the filled-in text
becomes a grid of dots, one every `step` pixels. The pre-printed form is untouched (the city's form stays the same;
what changes is what the companies print on it), so classification and registration still hold while the
recogniser meets glyphs it was never calibrated on.
"""
from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

DRIFTS = ("dot_matrix",)


def dot_matrix(blank: Image.Image, filled: Image.Image, step: int = 3) -> Image.Image:
    """The filled page with its added ink (dark where the blank is white) kept only on a dot grid."""
    blank_px = np.asarray(blank.convert("L"))
    filled_px = np.asarray(filled.convert("L")).copy()
    added = (filled_px < 160) & (blank_px > 200)
    rows, cols = np.mgrid[0:filled_px.shape[0], 0:filled_px.shape[1]]
    grid = ((rows % step) == 0) & ((cols % step) == 0)
    dots = cv2.dilate(grid.astype(np.uint8), np.ones((2, 2), np.uint8)).astype(bool)
    filled_px[added & ~dots] = 255
    drifted = Image.fromarray(filled_px).convert(filled.mode)
    drifted.info.update(filled.info)
    return drifted


def apply_drift(name: str, blank: Image.Image, filled: Image.Image) -> Image.Image:
    if name == "dot_matrix":
        return dot_matrix(blank, filled)
    raise ValueError(f"unknown drift {name!r}; one of {DRIFTS}")
