"""Pages that are not a form we read but that a person must handle: known by the title they print.

A 給与支払報告書（総括表） comes in the same envelope as the 個人別明細書 but is another form (the employer's
summary): it must never be forced into the 個人別明細書 template, and it is not "unknown" either. Its title is
read off the page's largest line of text near the top, and the page is set aside with a reason a clerk acts on.
"""
from __future__ import annotations

import numpy as np

from ocr.recognize import Recognizer

# Title words → the reason the page is set aside (Japanese first).
SET_ASIDE_TITLES = {
    "総括表": "給与支払報告書（総括表）です。個人別明細書ではないため読み取らず、人が受付・確認します "
              "/ a 給与支払報告書 summary sheet (総括表), not a 個人別明細書: set aside for a person",
}
TITLE_BAND_SHARE = 0.2  # the title is printed in the top fifth of the page
INK_LEVEL = 128


def title_line(pixels: np.ndarray) -> np.ndarray | None:
    """The tallest run of inked rows in the top of the page, cut to its ink: where a title is printed."""
    band = pixels[: max(1, int(pixels.shape[0] * TITLE_BAND_SHARE))]
    # a row of the title has far more ink than the frame lines crossing it (a table below has 2–3 px per line)
    inked_rows = (band < INK_LEVEL).sum(axis=1) > max(2, band.shape[1] // 100)
    best: tuple[int, int] | None = None
    start = None
    for row, inked in enumerate([*inked_rows, False]):
        if inked and start is None:
            start = row
        elif not inked and start is not None:
            if best is None or row - start > best[1] - best[0]:
                best = (start, row)
            start = None
    if best is None or best[1] - best[0] < 8:
        return None
    top, bottom = best
    columns = np.where((band[top:bottom] < INK_LEVEL).any(axis=0))[0]
    margin = max(4, (bottom - top) // 3)
    return pixels[max(0, top - margin):bottom + margin,
                  max(0, columns[0] - margin):columns[-1] + margin]


def read_title(pixels: np.ndarray, recognizer: Recognizer) -> str:
    """The text of the page's title line, spaces removed ("" when there is none)."""
    line = title_line(pixels)
    if line is None or not line.size:
        return ""
    (reading,) = recognizer.recognize([line], [None])
    return "".join(reading.text.split())


def set_aside_reason(title: str) -> str | None:
    """The reason to set the page aside when its title names a form a person handles, else None."""
    for word, reason in SET_ASIDE_TITLES.items():
        if word in title:
            return reason
    return None
