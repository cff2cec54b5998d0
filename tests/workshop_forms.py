"""A blank form none of our templates came from (B5 portrait, other labels, another font), drawn here for the
template-workshop tests, with the boxes it was drawn from as the truth the draft is measured against."""
from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw

from ocr.templates import FieldSpec
from samples import fonts
from samples.render import Scale, preprinted_text_layout

PAGE_MM = (182.0, 257.0)
DPI = 200
LABEL_FONT = fonts.PRINTED_FONTS.get("noto_sans_cjk", fonts.FORM_FONT)
INK = 30


@dataclass(frozen=True)
class DrawnField:
    label: str
    box: tuple[float, float, float, float]
    cells: int | None = None
    printed: str | None = None  # text printed inside the box: 円, 令和　　年　　月　　日
    label_box: tuple[float, float, float, float] | None = None
    free_label_at: tuple[float, float] | None = None  # a label printed outside any box
    options: tuple[str, ...] = ()  # printed across the box, one to be circled


def kifukin_fields(title_year: str = "令和7年分") -> list[DrawnField]:
    rows = [("氏名", 110, None, None, 10), ("フリガナ", 110, None, None, 8), ("個人番号", 72, 12, None, 10),
            ("郵便番号", 42, 7, None, 10), ("住所", 110, None, None, 10), ("電話番号", 60, None, None, 10),
            ("寄附年月日", 80, None, "令和　　年　　月　　日", 10), ("寄附金額", 60, None, "円", 10),
            ("寄附先の名称", 110, None, None, 10), ("受付番号", 42, 6, None, 10)]
    fields, y = [], 30.0
    for label, width, cells, printed, height in rows:
        fields.append(DrawnField(label, (54.0, y, float(width), float(height)), cells, printed, (14.0, y, 40.0, float(height))))
        y += height
    fields.append(DrawnField("寄附者の区分", (54.0, y, 60.0, 10.0), options=("個人", "法人", "団体"),
                             label_box=(14.0, y, 40.0, 10.0)))
    fields.append(DrawnField("摘要", (14.0, 147.0, 60.0, 10.0), label_box=(14.0, 140.0, 60.0, 7.0)))
    fields.append(DrawnField("控除額", (74.0, 147.0, 50.0, 10.0), printed="円", label_box=(74.0, 140.0, 50.0, 7.0)))
    fields.append(DrawnField("備考", (34.0, 182.0, 130.0, 12.0), free_label_at=(14.0, 185.5)))
    return fields


def draw_kifukin_blank(title_year: str = "令和7年分", dpi: int = DPI) -> tuple[Image.Image, list[DrawnField]]:
    scale = Scale(dpi)
    page = Image.new("L", (scale.px(PAGE_MM[0]), scale.px(PAGE_MM[1])), 255)
    draw = ImageDraw.Draw(page)
    fields = kifukin_fields(title_year)
    draw.text((scale.px(20), scale.px(10)), f"寄附金税額控除申告書（{title_year}）",
              font=fonts.font(LABEL_FONT, scale.px(6)), fill=INK)
    draw.text((scale.px(14), scale.px(228)), "※この申告書は市民税課へ提出してください。",
              font=fonts.font(LABEL_FONT, scale.px(3)), fill=INK)
    draw.rectangle(scale.box((10, 24, 162, 176)), outline=INK, width=scale.px(0.5))
    line = max(1, scale.px(0.3))
    label_face = fonts.font(LABEL_FONT, scale.px(3.4))
    for drawn in fields:
        draw.rectangle(scale.box(drawn.box), outline=INK, width=line)
        if drawn.label_box:
            draw.rectangle(scale.box(drawn.label_box), outline=INK, width=line)
            x0, y0, x1, y1 = scale.box(drawn.label_box)
            draw.text(((x0 + x1) / 2, (y0 + y1) / 2), drawn.label, font=label_face, fill=INK, anchor="mm")
        if drawn.free_label_at:
            draw.text((scale.px(drawn.free_label_at[0]), scale.px(drawn.free_label_at[1])), drawn.label,
                      font=label_face, fill=INK)
        if drawn.cells:
            x, y, w, h = drawn.box
            for i in range(1, drawn.cells):
                cx = scale.px(x + w * i / drawn.cells)
                draw.line([(cx, scale.px(y)), (cx, scale.px(y + h))], fill=INK, width=1)
        for i, option in enumerate(drawn.options):
            x, y, w, h = drawn.box
            slot = w / len(drawn.options)
            draw.text((scale.px(x + slot * (i + 0.5)), scale.px(y + h / 2)), option, font=label_face, fill=INK,
                      anchor="mm")
        if drawn.printed:
            kind = "amount" if drawn.printed == "円" else "date_wareki"
            spec = FieldSpec(name="x", label="x", box=drawn.box, kind=kind, preprinted_text=drawn.printed, era="令和")
            face, origin = preprinted_text_layout(spec, scale)
            draw.text(origin, drawn.printed, font=face, fill=INK)
    return page, fields


def filled_scan(template, written: dict[str, object], seed: int, skew_degrees: float = 0.6) -> Image.Image:
    """The template's blank filled in print, turned a little as a scanner would."""
    import random

    from samples.render import choose_fill_style, fill_form

    rng = random.Random(seed)
    blank = Image.open(template.blank_path()).convert("L")
    filled = fill_form(blank, template, written, choose_fill_style("printed", rng), rng, dpi=template.dpi)
    return filled.rotate(skew_degrees, resample=Image.BILINEAR, expand=False, fillcolor=255)
