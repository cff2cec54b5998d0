"""Page images and field crops for the review page, rendered from the archived original.

The ledger keeps the archived scan (by a path relative to the archive root) and the form's template; the page is
registered to that template again here, exactly as the reader did, and the result is cached under a name made of
the scan's sha256, page and form id — never a person's name or number. Crops are cut from the registered page by
the template's boxes, so they show what the reader read.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ocr.classify import UnknownForm, place_page
from ocr.load import LoadError, LoadedPage, iter_pages
from ocr.templates import Box, Template

CROP_MARGIN_MM = 2.0
PAGE_WIDTH_PX = 1100  # the overview a person sees beside the fields
# A field flagged text_beyond_box is cut wider, to where the added writing past its frame ends: the writing past
# the box is the reason for the flag. The walk outwards stops after a gap this wide, or this far from the box.
BEYOND_GAP_MM = 4.0
BEYOND_MAX_MM = 60.0
BEYOND_LEAST_INK_ROWS = 2  # a column holds writing when this many of its pixels are added ink
REDACTED_GREY = 190


class ImageUnavailable(Exception):
    """The archived scan is missing or no longer registers to its template."""


@dataclass(frozen=True)
class PageKey:
    sha256: str
    archived_path: str  # relative to the archive root
    page: int
    form_id: str

    @property
    def cache_name(self) -> str:
        return f"{self.sha256}_p{self.page:03d}_{self.form_id}.png"


class PageImages:
    """Registered pages, computed once per page and kept on disk (and the last few in memory)."""

    def __init__(self, archive_root: Path, cache_dir: Path, in_memory: int = 6) -> None:
        self.archive_root = archive_root
        self.cache_root = cache_dir
        self.cache_dir = cache_dir / "pages"
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._in_memory = in_memory
        # One registration at a time: the feature matchers are shared objects, and a page costs a second of CPU.
        self._render_lock = threading.Lock()
        self._memory_lock = threading.Lock()

    def registered(self, key: PageKey, template: Template) -> np.ndarray:
        with self._memory_lock:
            if key.cache_name in self._memory:
                self._memory.move_to_end(key.cache_name)
                return self._memory[key.cache_name]
        cached = self.cache_dir / key.cache_name
        with self._render_lock:
            if cached.exists():
                pixels = cv2.imread(str(cached), cv2.IMREAD_GRAYSCALE)
            else:
                pixels = None
            if pixels is None:
                pixels = self._register(key, template)
                self.cache_dir.mkdir(parents=True, exist_ok=True)
                partial = cached.with_name(cached.name + ".partial.png")
                cv2.imwrite(str(partial), pixels)
                partial.replace(cached)
        with self._memory_lock:
            self._memory[key.cache_name] = pixels
            while len(self._memory) > self._in_memory:
                self._memory.popitem(last=False)
        return pixels

    def _register(self, key: PageKey, template: Template) -> np.ndarray:
        path = self.archive_root / key.archived_path
        if not path.is_file():
            raise ImageUnavailable("保管されたスキャンが見つかりません / the archived scan is missing")
        page = _load_page(path, key.page)
        try:
            return place_page(page, [template]).registered
        except UnknownForm as exc:
            raise ImageUnavailable("様式に位置合わせできません / the page no longer registers to its form") from exc

    def page_jpeg(self, key: PageKey, template: Template, redact: list[Box]) -> bytes:
        """The whole page, reduced, with the given boxes greyed out (fields a person may not see here)."""
        pixels = _redacted(self.registered(key, template), template, redact)
        scale = PAGE_WIDTH_PX / pixels.shape[1]
        small = cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if not ok:
            raise ImageUnavailable("画像を作れません / cannot encode the page")
        return encoded.tobytes()

    def zoom_jpeg(self, key: PageKey, template: Template, redact: list[Box]) -> bytes:
        """The whole page at the full resolution it was registered at (the zoom), the given boxes greyed out."""
        pixels = _redacted(self.registered(key, template), template, redact)
        ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 85])
        if not ok:
            raise ImageUnavailable("画像を作れません / cannot encode the page")
        return encoded.tobytes()

    def crop_png(self, key: PageKey, template: Template, box: Box, redact: list[Box],
                 beyond_box: bool = False) -> bytes:
        """The box with a margin of context; any of `redact` the margin reaches into is greyed out (a 個人番号
        printed just above a name must not show in the name's crop). With `beyond_box`, the crop reaches sideways
        as far as the writing runs on past the box's frame."""
        pixels = self.registered(key, template)
        x0, y0, x1, y1 = _box_px(template, box, CROP_MARGIN_MM, pixels.shape)
        if beyond_box:
            x0, x1 = _writing_beyond_box(pixels, template, box, x0, x1)
        pixels = _redacted(pixels, template, [other for other in redact if other != box])
        ok, encoded = cv2.imencode(".png", pixels[y0:y1, x0:x1])
        if not ok:
            raise ImageUnavailable("画像を作れません / cannot encode the crop")
        return encoded.tobytes()


def _writing_beyond_box(pixels: np.ndarray, template: Template, box: Box, x0: int, x1: int) -> tuple[int, int]:
    """The crop's left and right edges moved out to where the writing past the box ends (plus the margin)."""
    from ocr.crops import added_ink
    from ocr.register import template_blank

    try:
        blank = template_blank(template)
    except Exception:  # no blank to tell writing from print: the widest cut the walk could have made
        blank = None
    height, width = pixels.shape[:2]
    top, bottom = _box_px(template, box, 0.0, pixels.shape)[1::2]
    if blank is None or blank.shape != pixels.shape:
        reach = int(template.mm_to_px(BEYOND_MAX_MM))
        return max(0, x0 - reach), min(width, x1 + reach)
    ink = added_ink(pixels[top:bottom], blank[top:bottom])
    written = ink.sum(axis=0) >= BEYOND_LEAST_INK_ROWS
    bx0, _, bx1, _ = _box_px(template, box, 0.0, pixels.shape)
    gap, reach = int(template.mm_to_px(BEYOND_GAP_MM)), int(template.mm_to_px(BEYOND_MAX_MM))
    margin = int(template.mm_to_px(CROP_MARGIN_MM))

    def last_written(columns: range) -> int | None:
        last, start = None, columns.start
        for column in columns:
            if written[column]:
                last = column
            elif abs(column - (last if last is not None else start)) > gap:
                break
        return last

    right = last_written(range(bx1, min(width, bx1 + reach)))
    left = last_written(range(bx0 - 1, max(-1, bx0 - 1 - reach), -1))
    if right is not None:
        x1 = max(x1, min(width, right + 1 + margin))
    if left is not None:
        x0 = min(x0, max(0, left - margin))
    return x0, x1


def _redacted(pixels: np.ndarray, template: Template, boxes: list[Box]) -> np.ndarray:
    if not boxes:
        return pixels
    pixels = pixels.copy()
    for box in boxes:
        x0, y0, x1, y1 = _box_px(template, box, 0.0, pixels.shape)
        pixels[y0:y1, x0:x1] = REDACTED_GREY
    return pixels


def _box_px(template: Template, box: Box, margin_mm: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    x, y, w, h = box
    height, width = shape[:2]
    x0 = max(0, int(template.mm_to_px(x - margin_mm)))
    y0 = max(0, int(template.mm_to_px(y - margin_mm)))
    x1 = min(width, int(round(template.mm_to_px(x + w + margin_mm))))
    y1 = min(height, int(round(template.mm_to_px(y + h + margin_mm))))
    return x0, y0, x1, y1


def _load_page(path: Path, number: int) -> LoadedPage:
    try:
        for index, page in enumerate(iter_pages(path), start=1):
            if index == number:
                if isinstance(page, LoadError):
                    raise ImageUnavailable(str(page))
                return page
    except LoadError as exc:
        raise ImageUnavailable(str(exc)) from exc
    raise ImageUnavailable(f"スキャンに {number} ページ目がありません / the scan has no page {number}")
