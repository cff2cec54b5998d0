"""Circled choices and era groups read from the pixels of generated, scanned forms (ocr/crops.py read_marks).

kyuyo_hokoku's 就職/退職 group (on the official face two 5.6 mm cells) is small and is left empty on most forms: the frame lines and printed labels, a pixel or two off after registration, must not
read as a circle."""
from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

import pytest

from ocr import crops
from ocr.classify import place_page
from ocr.load import iter_pages
from ocr.register import template_blank
from ocr.templates import load_template
from samples.generate import generate_page, write_page

FORM = "kyuyo_hokoku"
# On the official face the 元号 is written, so 中途就・退職 is the one circled group: these seeds give it both
# circled and empty in every style and profile tested.
SEEDS = (35, 36, 40)


@lru_cache(maxsize=None)
def _registered(style: str, profile: str, seed: int):
    page = generate_page(FORM, style=style, profile=profile, seed=seed)
    with tempfile.TemporaryDirectory() as folder:
        loaded = next(iter_pages(write_page(page, Path(folder), "page")))
    placement = place_page(loaded, [load_template(FORM)])
    return placement.registered, page.truth["fields"]


@pytest.mark.parametrize("profile", ["office200", "fax"])
@pytest.mark.parametrize("style", ["printed", "handwritten"])
def test_marks_read_as_circled_or_empty(style, profile):
    template = load_template(FORM)
    blank = template_blank(template)
    seen_empty = seen_circled = 0
    for seed in SEEDS:
        registered, truth = _registered(style, profile, seed)
        for spec in template.fields:
            if spec.kind not in ("era", "choice"):
                continue
            reading = crops.read_marks(registered, blank, template, spec)
            assert (reading.chosen, reading.confidence) == (truth[spec.name], 0.99), (seed, spec.name, reading)
            seen_empty += truth[spec.name] is None
            seen_circled += truth[spec.name] is not None
    # The seeds give both kinds: groups left empty and groups circled.
    assert seen_empty >= 1 and seen_circled >= 1


def test_an_empty_group_with_a_misregistered_frame_reads_empty():
    """Shift the page by 2 px: the printed frame lines and labels move off their blank places, and still no
    option reads as circled."""
    import numpy as np

    template = load_template(FORM)
    blank = template_blank(template)
    registered, truth = _registered("printed", "office200", SEEDS[1])
    empty = [spec for spec in template.fields if spec.kind in ("era", "choice") and truth[spec.name] is None]
    assert empty
    for dy, dx in ((2, 0), (0, 2), (-2, -1)):
        shifted = np.roll(registered, (dy, dx), axis=(0, 1))
        for spec in empty:
            reading = crops.read_marks(shifted, blank, template, spec)
            assert reading.chosen is None and reading.confidence == 0.99, (dy, dx, spec.name, reading)


def test_two_rings_are_sent_to_review():
    """A second circle drawn on a circled group: not accepted (a correction or a double choice)."""
    import cv2

    template = load_template(FORM)
    blank = template_blank(template)
    registered, truth = _registered("printed", "office200", SEEDS[0])
    spec = template.field("chuto_shutai")
    page = registered.copy()
    for option, slot in zip(spec.options, spec.option_boxes()):
        if option != truth[spec.name]:
            x, y, w, h = (template.mm_to_px(v) for v in slot)
            centre = (int(x + w / 2), int(y + h / 2))
            cv2.ellipse(page, centre, (int(w / 2) - 2, int(h / 2) - 6), 0, 0, 360, 0, 3)
            break
    reading = crops.read_marks(page, blank, template, spec)
    assert reading.confidence < 0.8 and len(reading.unsure) == 2


def test_a_fax_streak_through_an_empty_tick_box_is_not_a_tick():
    import cv2

    from ocr import crops
    from ocr.read import TICKED_SHARE, _read_mark_field
    from ocr.register import template_blank
    from ocr.templates import load_template

    template = load_template("kyuyo_hokoku")
    blank = template_blank(template)
    spec = template.field("fuyo_1_kubun")
    x, y, w, h = spec.box
    row = int(round(template.mm_to_px(y + h / 2)))
    streaked = blank.copy()
    for column in range(0, streaked.shape[1], 6):  # a dotted streak across the whole page
        streaked[row:row + 2, column:column + 3] = 0
    reading = _read_mark_field(streaked, blank, template, spec)
    assert reading.value is False and reading.status == "accepted"
    assert float(crops.cleaned_mark_ink(streaked, blank, template, spec.box)[0].mean()) < 0.01

    ticked = streaked.copy()
    left, top = int(template.mm_to_px(x + 1.0)), int(template.mm_to_px(y + 0.8))
    right, bottom = int(template.mm_to_px(x + w - 1.0)), int(template.mm_to_px(y + h - 0.8))
    cv2.line(ticked, (left, (top + bottom) // 2), ((left + right) // 2, bottom), 0, 2)
    cv2.line(ticked, ((left + right) // 2, bottom), (right, top), 0, 2)
    reading = _read_mark_field(ticked, blank, template, spec)
    assert reading.value is True
    assert float(crops.cleaned_mark_ink(ticked, blank, template, spec.box)[0].mean()) >= TICKED_SHARE
