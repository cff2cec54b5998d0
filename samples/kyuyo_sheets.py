"""Sheets that come with the 給与支払報告書 but are not one 個人別明細書 page: the A4 sheet with two copies of the
official face side by side, and the 給与支払報告書（総括表）.

No official blank of the 総括表 was found as a public file (cities print their own): the one drawn here carries
its title and the usual blocks (提出先, 指定番号, 給与支払者, 受給者総人員 …) so that what is tested is that the page
is recognised by what it says it is, not by our drawing's lines.
"""
from __future__ import annotations

import random

from PIL import Image, ImageDraw

from ocr.templates import load_template
from samples import fonts
from samples.generate import GeneratedPage, generate_page

SOKATSU_TITLE = "令和７年度　給与支払報告書（総括表）"
SOKATSU_ROWS = ["提出先 市区町村", "指定番号", "給与支払者の個人番号又は法人番号", "給与支払者の名称",
                "所在地", "代表者の職氏名", "連絡者の氏名・電話", "受給者総人員", "報告人員の合計",
                "特別徴収対象者", "普通徴収対象者（退職者）", "普通徴収対象者（退職者を除く）", "提出媒体"]


def two_copies_sheet(seed: int, style: str = "printed", dpi: int = 200) -> tuple[Image.Image, list[dict]]:
    """Two filled copies of the official face side by side on one A4 landscape sheet, as the PDF prints them."""
    profile = "clean300" if dpi == 300 else "office200"
    copies = [generate_page("kyuyo_hokoku", style=style, profile=profile, seed=seed + i) for i in (0, 1)]
    template = load_template("kyuyo_hokoku")
    width, height = template.page_size_px(dpi)
    sheet = Image.new("L", (2 * width, height), 255)
    for index, copy in enumerate(copies):
        image = copy.image.convert("L")
        sheet.paste(image.resize((width, height)) if image.size != (width, height) else image, (index * width, 0))
    sheet.info["dpi"] = (dpi, dpi)
    return sheet, [copy.truth for copy in copies]


def sokatsu_page(seed: int, dpi: int = 200) -> GeneratedPage:
    """A filled 給与支払報告書（総括表）, A4 portrait."""
    rng = random.Random(f"sokatsu:{seed}")
    px = lambda mm: round(mm * dpi / 25.4)  # noqa: E731
    page = Image.new("L", (px(210), px(297)), 255)
    draw = ImageDraw.Draw(page)
    title_face = fonts.font(fonts.FORM_FONT_BOLD, px(6))
    draw.text((px(105), px(16)), SOKATSU_TITLE, font=title_face, fill=0, anchor="mm")
    label_face = fonts.font(fonts.FORM_FONT, px(3.2))
    value_face = fonts.font(fonts.PRINTED_FONTS["ipaex_mincho"], px(3.6))
    values = ["千葉市長", f"{rng.randrange(10**7, 10**8)}", f"{rng.randrange(10**12, 10**13)}", "株式会社サンプル商事",
              "千葉県千葉市中央区千葉港1番1号", "代表取締役 山田太郎", "総務課 佐藤 043-245-5111",
              f"{rng.randrange(5, 80)} 人", f"{rng.randrange(5, 80)} 人", f"{rng.randrange(5, 60)} 人",
              f"{rng.randrange(0, 5)} 人", f"{rng.randrange(0, 5)} 人", "書面"]
    top = px(30)
    for label, value in zip(SOKATSU_ROWS, values):
        draw.rectangle([px(15), top, px(195), top + px(14)], outline=0, width=2)
        draw.line([(px(80), top), (px(80), top + px(14))], fill=0, width=2)
        draw.text((px(18), top + px(7)), label, font=label_face, fill=0, anchor="lm")
        draw.text((px(84), top + px(7)), value, font=value_face, fill=0, anchor="lm")
        top += px(14)
    page.info["dpi"] = (dpi, dpi)
    return GeneratedPage(page, {"form_id": None, "set_aside": "給与支払報告書（総括表）", "seed": seed})
