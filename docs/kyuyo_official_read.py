"""Draw docs/kyuyo_official_read.png: a 給与支払報告書 printed on the official 令和7年分 face, read, with every box
read drawn on the registered page (green: accepted, orange: to review, grey: empty) and the value read beside it.

    PYTHONPATH=. .venv/bin/python docs/kyuyo_official_read.py
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import cv2
from PIL import Image, ImageDraw

from ocr.classify import place_page
from ocr.load import iter_pages
from ocr.read import read_fields
from ocr.recognize import make_recognizer
from ocr.templates import load_template
from samples import fonts
from samples.generate import generate_page, write_page

OUT = Path(__file__).resolve().parent / "kyuyo_official_read.png"
COLOURS = {"accepted": (0, 150, 0), "review": (230, 120, 0), "empty": (170, 170, 170)}


def main() -> None:
    template = load_template("kyuyo_hokoku")
    page = generate_page("kyuyo_hokoku", style="printed", profile="office200", seed=7,
                         printed_title="給与支払報告書（個人別明細書）")
    with tempfile.TemporaryDirectory() as folder:
        loaded = next(iter_pages(write_page(page, Path(folder), "page")))
    placement = place_page(loaded, [template])
    readings = read_fields(placement.registered, template, make_recognizer())
    image = Image.fromarray(cv2.cvtColor(placement.registered, cv2.COLOR_GRAY2RGB))
    draw = ImageDraw.Draw(image)
    face = fonts.font(fonts.FORM_FONT, 13)
    px = template.mm_to_px
    for spec in template.fields:
        reading = readings[spec.name]
        colour = COLOURS[reading.status]
        for x, y, w, h in spec.part_boxes():
            draw.rectangle([px(x), px(y), px(x + w), px(y + h)], outline=colour, width=2)
        if reading.value not in (None, False) and spec.name not in ("my_number",) and not spec.name.endswith("my_number"):
            x, y, w, h = spec.box
            draw.text((px(x) + 2, px(y + h) - 14), str(reading.value)[:24], font=face, fill=(200, 0, 160))
    image.quantize(32, dither=Image.Dither.NONE).save(OUT, optimize=True)  # committed: kept small
    counts = {status: sum(r.status == status for r in readings.values()) for status in COLOURS}
    print(f"{OUT}: {counts}")


if __name__ == "__main__":
    main()
