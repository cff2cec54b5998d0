"""Seals and stamps over fields, ink that runs into a tick box, and numbers read shorter than their ink: real pixels
drawn on the template's own blank (samples/stamps.py draws the seals), loaded through ocr/load.py where colour
matters."""
from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from ocr import crops
from ocr.evidence import reads_shorter_than_ink
from ocr.load import iter_pages
from ocr.read import _read_mark_field
from ocr.register import template_blank
from ocr.seals import fields_under_seals, find_seals, not_circled_options
from ocr.templates import load_template
from samples.stamps import SEAL_COLOURS, _draw_seal, _press

FORM = "hojin_shinkoku"


def _tick_box(template):
    return next(spec for spec in template.fields if spec.kind == "checkbox")


def _sealed_page(template, spec, colour: str, kind: str, size_mm: float) -> Image.Image:
    """The blank form in colour with a seal pressed over the centre of `spec`'s box."""
    blank = Image.fromarray(np.asarray(template_blank(template))).convert("RGB")
    layer = Image.new("L", blank.size, 0)
    x, y, w, h = spec.box
    width_mm = template.page.width_mm
    centre_x = min(max(x + w / 2, size_mm / 2 + 3), width_mm - size_mm / 2 - 3)  # the whole seal on the page
    _draw_seal(layer, kind, (centre_x, y + h / 2), size_mm, template.dpi, random.Random(7))
    return _press(blank, layer, SEAL_COLOURS[colour], random.Random(8))


def _loaded(image: Image.Image, folder: Path, name: str) -> np.ndarray:
    path = folder / name
    image.save(path, dpi=(200, 200), quality=60)
    return next(iter_pages(path)).pixels


def _seal_fields(template, pixels) -> set[str]:
    blank = template_blank(template)
    seals = find_seals(crops.added_ink(pixels, blank), template.mm_to_px(1.0), printed=blank < crops.PRINTED_DARK)
    return fields_under_seals(template, not_circled_options(template, seals))


def test_a_red_seal_over_an_empty_tick_box_is_dropped_on_a_colour_scan(tmp_path):
    """Loaded in colour, the red ink goes before the page turns grey: the box reads as it was, empty and accepted,
    and no seal is left to find. Loaded as grey (the scanner's grey mode), the same seal is ink."""
    template = load_template(FORM)
    spec = _tick_box(template)
    stamped = _sealed_page(template, spec, "red", "mitome", 12.0)
    colour = _loaded(stamped, tmp_path, "colour.jpg")
    reading = _read_mark_field(colour, template_blank(template), template, spec)
    assert (reading.value, reading.status, reading.reasons) == (False, "accepted", [])
    assert spec.name not in _seal_fields(template, colour)

    grey = _loaded(stamped.convert("L"), tmp_path, "grey.jpg")
    assert float(crops.added_ink(grey, template_blank(template)).mean()) > 10 * float(
        crops.added_ink(colour, template_blank(template)).mean())


@pytest.mark.parametrize("kind,size_mm,field", [("mitome", 12.0, None), ("daihyosha", 17.0, None),
                                                ("uketsuke", 22.0, "hojin_mei")])
def test_a_seal_on_a_grey_scan_sends_the_fields_it_touches_to_review(tmp_path, kind, size_mm, field):
    """A 認印 or 代表者印 over the tick box, the city's 受付印 over the company's name."""
    template = load_template(FORM)
    spec = template.field(field) if field else _tick_box(template)
    grey = _loaded(_sealed_page(template, spec, "black", kind, size_mm).convert("L"), tmp_path, "grey.jpg")
    assert spec.name in _seal_fields(template, grey)


def test_writing_alone_is_no_seal(tmp_path):
    """Generated office scans (names, addresses, amounts, circled choices, ticks) hold no seal outline."""
    from ocr.classify import place_page
    from samples.generate import generate_page, write_page

    for form in ("hojin_shinkoku", "ido_todoke"):
        for style in ("printed", "handwritten"):
            page = generate_page(form, style=style, profile="office200", seed=4101)
            template = load_template(form)
            loaded = next(iter_pages(write_page(page, tmp_path, f"{form}_{style}")))
            registered = place_page(loaded, [template]).registered
            assert _seal_fields(template, registered) == set(), (form, style)


def test_ink_running_into_a_tick_box_from_outside_goes_to_review():
    template = load_template(FORM)
    spec = _tick_box(template)
    blank = template_blank(template)
    x, y, w, h = spec.box
    px = template.mm_to_px
    # A stroke (a seal's arc, a line from the next field) from 6 mm left of the box into its middle.
    crossed = blank.copy()
    cv2.line(crossed, (int(px(x - 6)), int(px(y + h / 2 - 2))), (int(px(x + w * 0.6)), int(px(y + h / 2 + 1))), 0, 3)
    reading = _read_mark_field(crossed, blank, template, spec)
    assert reading.status == "review" and "ink_from_outside_box" in reading.reasons
    # A tick inside the box is accepted as one.
    ticked = blank.copy()
    left, top, right, bottom = int(px(x + w * 0.2)), int(px(y + h * 0.2)), int(px(x + w * 0.8)), int(px(y + h * 0.8))
    cv2.line(ticked, (left, (top + bottom) // 2), ((left + right) // 2, bottom), 0, 3)
    cv2.line(ticked, ((left + right) // 2, bottom), (right, top), 0, 3)
    reading = _read_mark_field(ticked, blank, template, spec)
    assert (reading.value, reading.status, reading.reasons) == (True, "accepted", [])


@pytest.mark.parametrize("style", ["printed", "handwritten"])
def test_a_day_read_as_one_digit_where_two_are_written_goes_to_review(style):
    """2005-02-13 (平成17年2月13日) written in the date's gaps has five stroke groups: a reading of 「17 2 3」 is
    short of one, whatever its score."""
    from samples.render import choose_fill_style, fill_form, render_blank

    template = load_template("ido_todoke")
    spec = next(s for s in template.fields if s.kind == "date_wareki" and s.preprinted_text)
    rng = random.Random(5)
    blank = render_blank(template)
    page = fill_form(blank, template, {spec.name: ["17", "2", "13"]}, choose_fill_style(style, rng), rng)
    groups = crops.stroke_groups(np.asarray(page), np.asarray(blank), template, spec)
    assert groups == 5
    assert reads_shorter_than_ink("date_wareki", "17年2月3日", groups)
    assert not reads_shorter_than_ink("date_wareki", "17年2月13日", groups)


def test_an_amount_with_commas_counts_its_digits_not_its_commas():
    from samples.render import choose_fill_style, fill_form, render_blank

    template = load_template("ido_todoke")
    spec = next(s for s in template.fields if s.kind == "amount" and not s.cells)
    rng = random.Random(6)
    blank = render_blank(template)
    page = fill_form(blank, template, {spec.name: "1234500"}, choose_fill_style("printed", rng), rng)
    groups = crops.stroke_groups(np.asarray(page), np.asarray(blank), template, spec)
    assert groups == 7
    assert not reads_shorter_than_ink("amount", "1,234,500", groups)
    assert reads_shorter_than_ink("amount", "123,500", groups)
