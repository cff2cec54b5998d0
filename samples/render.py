"""Draw a template's blank form, and fill it the way an employer's software or pen would.

Everything is drawn from `template.yaml`, so the blank that registration aligns to and the filled scans the
generator makes can never disagree about where a field is.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

from ocr.templates import Box, FieldSpec, Template
from samples import fonts

INK = 0
FORM_INK = 40


@dataclass(frozen=True)
class Scale:
    dpi: int

    def px(self, mm: float) -> int:
        return round(mm * self.dpi / 25.4)

    def box(self, box: Box) -> tuple[int, int, int, int]:
        x, y, w, h = box
        return self.px(x), self.px(y), self.px(x + w), self.px(y + h)


def render_blank(template: Template, dpi: int | None = None) -> Image.Image:
    if template.official_face:
        return official_blank(template, dpi)
    scale = Scale(dpi or template.dpi)
    width_px, height_px = template.page_size_px(scale.dpi)
    page = Image.new("L", (width_px, height_px), 255)
    draw = ImageDraw.Draw(page)
    for line in template.lines:
        draw.rectangle(scale.box(line.rect), outline=FORM_INK, width=max(1, scale.px(line.width_mm)))
    for decoration in template.decorations:
        face = fonts.font(fonts.FORM_FONT_BOLD if decoration.bold else fonts.FORM_FONT, scale.px(decoration.size_mm))
        draw.text((scale.px(decoration.at[0]), scale.px(decoration.at[1])), decoration.text, font=face, fill=FORM_INK)
    for spec in template.fields:
        _draw_field_frame(draw, spec, scale)
    return page


def official_blank(template: Template, dpi: int | None = None) -> Image.Image:
    """The official face as rasterised into the template (blank.png), at the wanted dpi."""
    page = Image.open(template.blank_path()).convert("L")
    size = template.page_size_px(dpi or template.dpi)
    return page if page.size == size else page.resize(size, Image.LANCZOS)


# The 給与支払報告書 a city receives is the same face with another title: payroll software prints it over the
# 源泉徴収票 title (or the employer sends the 源泉徴収票-titled copy, which reads as the same form).
KYUYO_HOKOKU_TITLE = "給与支払報告書（個人別明細書）"


def retitled(blank: Image.Image, template: Template, title: str, dpi: int | None = None,
             font_path=None) -> Image.Image:
    """The blank with its printed title replaced by `title`, fitted into the face's title box."""
    if not (template.official_face and template.official_face.title_box):
        return blank
    scale = Scale(dpi or template.dpi)
    page = blank.copy()
    draw = ImageDraw.Draw(page)
    x0, y0, x1, y1 = scale.box(template.official_face.title_box)
    draw.rectangle([x0, y0, x1, y1], fill=255)
    size_px = y1 - y0
    face = fonts.font(font_path or fonts.FORM_FONT_BOLD, size_px)
    while face.getlength(title) > (x1 - x0) and size_px > 8:
        size_px -= 1
        face = fonts.font(font_path or fonts.FORM_FONT_BOLD, size_px)
    draw.text((x0, (y0 + y1) / 2), title, font=face, fill=0, anchor="lm")
    return page


def _draw_field_frame(draw: ImageDraw.ImageDraw, spec: FieldSpec, scale: Scale) -> None:
    line_px = max(1, scale.px(0.25))
    if spec.label_box:
        draw.rectangle(scale.box(spec.label_box), outline=FORM_INK, width=line_px)
        _draw_fitted_text(draw, spec.label, spec.label_box, scale, max_size_mm=3.2)
    draw.rectangle(scale.box(spec.box), outline=FORM_INK, width=line_px)
    cells = spec.cell_boxes()
    for index, cell in enumerate(cells[1:], start=1):
        x0, y0, _, y1 = scale.box(cell)
        # Thin dotted-looking dividers are typical of OCR forms; a short top and bottom tick keeps cells visible.
        # Amount columns (兆/十億/百万/千/円) have a heavier line every three digits, counted from the right.
        group = spec.kind == "amount" and (len(cells) - index) % 3 == 0
        draw.line([(x0, y0), (x0, y1)], fill=FORM_INK, width=line_px if group else max(1, line_px // 2))
    if cells and spec.preprinted_suffix:
        # The suffix (000 on 課税標準, 00 on 税額 lines) is printed in the last cells; the reader appends it.
        for char, cell in zip(spec.preprinted_suffix, cells[-len(spec.preprinted_suffix):]):
            x0, y0, x1, y1 = scale.box(cell)
            face = fonts.font(fonts.FORM_FONT, scale.px(min(3.6, cell[3] * 0.45)))
            draw.text(((x0 + x1) / 2, (y0 + y1) / 2), char, font=face, fill=FORM_INK, anchor="mm")
    if spec.options:
        for label, slot in zip(spec.printed_option_labels(), spec.option_boxes()):
            _draw_fitted_text(draw, label, slot, scale, max_size_mm=3.4, centre=True)
    if spec.preprinted_text:
        face, origin = preprinted_text_layout(spec, scale)
        draw.text(origin, spec.preprinted_text, font=face, fill=FORM_INK)


def preprinted_text_layout(spec: FieldSpec, scale: Scale):
    """Font and pixel origin of the text printed inside a box, placed by the template's own layout."""
    left_mm, top_mm, size_mm = spec.preprinted_text_layout()
    face = fonts.font(fonts.FORM_FONT, scale.px(size_mm))
    if spec.kind == "amount":
        # Right-aligned on the real glyph widths, so 「円」 ends where the template says the box's text ends.
        right_px = scale.px(spec.box[0] + spec.box[2] - 1.5)
        return face, (right_px - face.getlength(spec.preprinted_text or ""), scale.px(top_mm))
    return face, (scale.px(left_mm), scale.px(top_mm))


def _draw_fitted_text(draw, text: str, box: Box, scale: Scale, max_size_mm: float, centre: bool = False) -> None:
    x0, y0, x1, y1 = scale.box(box)
    pad = scale.px(1)
    size_px = scale.px(max_size_mm)
    lines = [text]
    face = fonts.font(fonts.FORM_FONT, size_px)
    while size_px > 8 and max(face.getlength(line) for line in lines) > (x1 - x0 - 2 * pad):
        if len(lines) == 1 and len(text) > 6 and (y1 - y0) > 2.4 * size_px:
            half = math.ceil(len(text) / 2)
            lines = [text[:half], text[half:]]
            continue
        size_px -= 1
        face = fonts.font(fonts.FORM_FONT, size_px)
    total_h = len(lines) * size_px * 1.15
    y = y0 + ((y1 - y0) - total_h) / 2
    for line in lines:
        w = face.getlength(line)
        x = x0 + ((x1 - x0) - w) / 2 if centre else x0 + pad
        draw.text((x, y), line, font=face, fill=FORM_INK)
        y += size_px * 1.15


# ---------------------------------------------------------------- filling


@dataclass(frozen=True)
class FillStyle:
    """How a page is filled: which font and how much a hand wanders."""
    name: str  # "printed" or "handwritten"
    font_path: object
    glyph_jitter_mm: float
    glyph_rotation_deg: float
    glyph_scale_jitter: float
    baseline_drift_mm: float
    size_ratio: float  # glyph height as a share of the box height


def choose_fill_style(style: str, rng: random.Random, unseen_fonts: bool = False) -> FillStyle:
    font_name, font_path = rng.choice(sorted(fonts.fonts_for_style(style, unseen_fonts).items()))
    if style == "printed":
        return FillStyle(style, font_path, 0.0, 0.0, 0.0, 0.0, rng.uniform(0.5, 0.62))
    return FillStyle(style, font_path, 0.35, 4.0, 0.08, 0.6, rng.uniform(0.55, 0.68))


def fill_form(blank: Image.Image, template: Template, written: dict[str, object], style: FillStyle,
              rng: random.Random, dpi: int | None = None) -> Image.Image:
    """Write `written` (what the person wrote, per field: text, or the chosen option) onto a copy of the blank."""
    scale = Scale(dpi or template.dpi)
    page = blank.copy()
    draw = ImageDraw.Draw(page)
    for spec in template.fields:
        content = written.get(spec.name)
        if content in (None, "", False):
            continue
        if spec.kind in ("era", "choice"):
            _circle_option(draw, spec, str(content), scale, rng, style)
        elif spec.kind == "checkbox":
            _tick(draw, spec.box, scale, rng, style)
        elif spec.dividers_mm and spec.kind in ("amount", "date_wareki"):
            _write_in_parts(page, spec, content, scale, rng, style)
        elif spec.cells and spec.kind == "amount":
            _write_amount_in_cells(page, spec, str(content), scale, rng, style)
        elif spec.cells:
            _write_in_cells(page, spec, str(content), scale, rng, style)
        elif spec.kind == "date_wareki" and spec.preprinted_text:
            _write_date_parts(page, spec, content, scale, rng, style)
        elif spec.kind == "amount":
            _write_amount(page, spec, str(content), scale, rng, style)
        else:
            _write_line(page, spec.box, str(content), scale, rng, style)
    return page


def _glyph_size(box_h_px: int, style: FillStyle, rng: random.Random) -> int:
    return max(8, int(box_h_px * style.size_ratio * rng.uniform(0.95, 1.05)))


def _draw_glyphs(page: Image.Image, text: str, x: float, baseline_top: float, size_px: int,
                 style: FillStyle, rng: random.Random, scale: Scale, advance_px: float | None = None) -> float:
    """Draw glyph by glyph so a hand can jitter each one; returns the x after the last glyph."""
    face = fonts.font(style.font_path, size_px)
    drift = 0.0
    for char in text:
        glyph_w = face.getlength(char)
        step = advance_px if advance_px is not None else glyph_w
        if char.strip() == "":
            x += step
            continue
        if style.glyph_jitter_mm == 0:
            _print_glyph(page, char, x, baseline_top, style.font_path, size_px)
        else:
            drift += rng.uniform(-1, 1) * scale.px(style.baseline_drift_mm) * 0.3
            glyph_size = max(8, int(size_px * (1 + rng.uniform(-style.glyph_scale_jitter, style.glyph_scale_jitter))))
            glyph_face = fonts.font(style.font_path, glyph_size)
            pad = glyph_size // 2
            tile = Image.new("L", (int(glyph_w * 1.3) + 2 * pad, glyph_size * 2 + pad), 0)
            ImageDraw.Draw(tile).text((pad, pad // 2), char, font=glyph_face, fill=255)
            tile = tile.rotate(rng.uniform(-style.glyph_rotation_deg, style.glyph_rotation_deg),
                               resample=Image.BILINEAR, expand=False)
            jitter = scale.px(style.glyph_jitter_mm)
            dx = rng.uniform(-jitter, jitter)
            dy = rng.uniform(-jitter, jitter) + drift
            ink = Image.new("L", tile.size, INK)
            page.paste(ink, (int(x - pad + dx), int(baseline_top - pad // 2 + dy)), tile)
        x += step
    return x


# FreeType's hinting of IPAex Mincho drops thin horizontal strokes at some pixel sizes (田 drawn at 30–36 px came
# out as 出, 円 or 山, 子 as 了), so a page would show a different character than its truth says. A printer does not
# do that: glyphs are drawn at this many times the size and scaled down, which also antialiases them as a print.
PRINT_SUPERSAMPLING = 4


def _print_glyph(page: Image.Image, char: str, x: float, top: float, font_path, size_px: int) -> None:
    big = fonts.font(font_path, size_px * PRINT_SUPERSAMPLING)
    _, _, right, bottom = big.getbbox(char)
    left_px, top_px = math.floor(x), math.floor(top)
    width = int(math.ceil(right / PRINT_SUPERSAMPLING)) + 2
    height = int(math.ceil(bottom / PRINT_SUPERSAMPLING)) + 2
    tile = Image.new("L", (width * PRINT_SUPERSAMPLING, height * PRINT_SUPERSAMPLING), 0)
    ImageDraw.Draw(tile).text(((x - left_px) * PRINT_SUPERSAMPLING, (top - top_px) * PRINT_SUPERSAMPLING), char,
                              font=big, fill=255)
    mask = tile.resize((width, height), Image.BOX)
    page.paste(Image.new(page.mode, mask.size, INK), (left_px, top_px), mask)


def _write_line(page, box: Box, text: str, scale: Scale, rng, style: FillStyle) -> None:
    x0, y0, x1, y1 = scale.box(box)
    size_px = _glyph_size(y1 - y0, style, rng)
    face = fonts.font(style.font_path, size_px)
    available = (x1 - x0) - scale.px(3)
    natural = sum(face.getlength(c) for c in text)
    if natural > available:  # people and software both squeeze a long address into the box
        size_px = max(8, int(size_px * available / natural))
    x = x0 + scale.px(rng.uniform(1.5, 4.0))
    top = y0 + (y1 - y0 - size_px) / 2 + scale.px(rng.uniform(-0.4, 0.4))
    _draw_glyphs(page, text, x, top, size_px, style, rng, scale)


def _write_in_cells(page, spec: FieldSpec, digits: str, scale: Scale, rng, style: FillStyle) -> None:
    cells = spec.cell_boxes()
    # 個人番号 of an individual employer in a 13-cell box is written 右詰め (right-aligned).
    start = max(0, len(cells) - len(digits))
    for char, cell in zip(digits, cells[start:]):
        x0, y0, x1, y1 = scale.box(cell)
        size_px = _glyph_size(y1 - y0, style, rng)
        face = fonts.font(style.font_path, size_px)
        w = face.getlength(char)
        off = scale.px(rng.uniform(-0.6, 0.6)) if style.name == "handwritten" else 0
        x = x0 + (x1 - x0 - w) / 2 + off
        top = y0 + (y1 - y0 - size_px) / 2 + off / 2
        _draw_glyphs(page, char, x, top, size_px, style, rng, scale)


def _write_amount_in_cells(page, spec: FieldSpec, amount: str, scale: Scale, rng, style: FillStyle) -> None:
    """A normalised amount ("-1234500") into per-digit columns: right-aligned so the digits end just before the
    pre-printed suffix cells (which hold the suffix already), △ in the column left of a negative number.
    Printed: centred in each cell. Handwritten: off-centre, now and then touching a cell line."""
    negative = amount.startswith("-")
    digits = amount.lstrip("-")
    suffix = spec.preprinted_suffix or ""
    if suffix:
        if not digits.endswith(suffix) and digits != "0":
            raise ValueError(f"{spec.name}: {amount!r} does not end in the pre-printed {suffix!r}")
        if digits != "0":
            digits = digits[: -len(suffix)] or "0"
    cells = spec.cell_boxes()[: len(spec.cell_boxes()) - len(suffix)]
    text = ("△" if negative else "") + digits
    if len(text) > len(cells):
        raise ValueError(f"{spec.name}: {amount!r} has more digits than the form's {len(cells)} columns")
    for char, cell in zip(text, cells[len(cells) - len(text):]):
        x0, y0, x1, y1 = scale.box(cell)
        size_px = _glyph_size(y1 - y0, style, rng)
        if char == "△":
            size_px = int(size_px * 0.8)
        face = fonts.font(style.font_path, size_px)
        w = face.getlength(char)
        off_x = off_y = 0
        if style.name == "handwritten":
            reach = 1.1 if rng.random() < 0.15 else 0.5  # a hurried hand runs into the cell line
            off_x = scale.px(rng.uniform(-reach, reach))
            off_y = scale.px(rng.uniform(-0.6, 0.6))
        x = x0 + (x1 - x0 - w) / 2 + off_x
        top = y0 + (y1 - y0 - size_px) / 2 + off_y
        _draw_glyphs(page, char, x, top, size_px, style, rng, scale)


def amount_parts(amount: str, part_count: int) -> list[str]:
    """An amount cut where the face's 千 and 円 dividers cut it: three digits in every part but the first
    (「5000000」 in 百万|千|円 → 5 | 000 | 000; in 千|円 → 5,000 | 000), empty parts to the left."""
    negative = amount.startswith("-")
    digits = amount.lstrip("-")
    parts = []
    for _ in range(part_count - 1):
        parts.insert(0, digits[-3:])
        digits = digits[:-3]
        if not digits:
            break
    head = f"{int(digits):,}" if digits else ""
    parts = [head, *parts] if head or len(parts) < part_count else parts
    parts = [""] * (part_count - len(parts)) + parts
    if negative:
        first = next(i for i, part in enumerate(parts) if part)
        parts[first] = "△" + parts[first]
    return parts


def _write_in_parts(page, spec: FieldSpec, content: object, scale: Scale, rng, style: FillStyle) -> None:
    """An amount right-aligned in each part between the printed dividers, as payroll software prints it
    (a hand: near the right, less even); a date's 年, 月, 日 centred in their cells."""
    boxes = spec.part_boxes()
    if spec.kind == "amount":
        texts = amount_parts(str(content), len(boxes))
    else:
        texts = [str(v) for v in (list(content) if isinstance(content, (list, tuple)) else str(content).split())]
    x0, y0, x1, y1 = scale.box(spec.box)
    size_px = _glyph_size(y1 - y0, style, rng)
    shift = scale.px(rng.uniform(-0.3, 0.3)) if style.name == "handwritten" else 0
    top = y0 + (y1 - y0 - size_px) / 2 + shift
    for text, part in zip(texts, boxes):
        if not text:
            continue
        px0, _, px1, _ = scale.box(part)
        face = fonts.font(style.font_path, size_px)
        part_size = size_px
        width = sum(face.getlength(c) for c in text)
        room = (px1 - px0) - scale.px(1.2)
        if width > room:
            part_size = max(8, int(size_px * room / width))
            face = fonts.font(style.font_path, part_size)
            width = sum(face.getlength(c) for c in text)
        if spec.kind == "amount":
            pad = scale.px(rng.uniform(0.6, 1.0) if style.name == "printed" else rng.uniform(0.6, 1.6))
            x = px1 - pad - width
        else:
            x = px0 + (px1 - px0 - width) / 2 + (scale.px(rng.uniform(-0.4, 0.4)) if style.name == "handwritten" else 0)
        _draw_glyphs(page, text, x, top + (size_px - part_size) / 2, part_size, style, rng, scale)


def _write_amount(page, spec: FieldSpec, digits: str, scale: Scale, rng, style: FillStyle) -> None:
    text = f"{int(digits):,}" if digits.lstrip("-").isdigit() else digits
    if text.startswith("-"):
        text = "△" + text[1:]
    x0, y0, x1, y1 = scale.box(spec.box)
    size_px = _glyph_size(y1 - y0, style, rng)
    face = fonts.font(style.font_path, size_px)
    _, suffix_origin = preprinted_text_layout(spec, scale) if spec.preprinted_text else (None, (x1, 0))
    right = suffix_origin[0] - scale.px(rng.uniform(1.5, 3.0))
    width = sum(face.getlength(c) for c in text)
    top = y0 + (y1 - y0 - size_px) / 2
    _draw_glyphs(page, text, right - width, top, size_px, style, rng, scale)


def _write_date_parts(page, spec: FieldSpec, parts: object, scale: Scale, rng, style: FillStyle) -> None:
    """Write year, month and day into the gaps of a pre-printed 「令和　　年　　月　　日」."""
    face, origin = preprinted_text_layout(spec, scale)
    printed = spec.preprinted_text or ""
    gaps: list[tuple[float, float]] = []
    x = origin[0]
    run_start = None
    for char in printed:
        w = face.getlength(char)
        if char == "　":
            run_start = x if run_start is None else run_start
        elif run_start is not None:
            gaps.append((run_start, x))
            run_start = None
        x += w
    numbers = list(parts) if isinstance(parts, (list, tuple)) else str(parts).split()
    x0, y0, x1, y1 = scale.box(spec.box)
    size_px = _glyph_size(y1 - y0, style, rng)
    digit_face = fonts.font(style.font_path, size_px)
    for number, (gap_left, gap_right) in zip(numbers, gaps):
        text = str(number)
        width = sum(digit_face.getlength(c) for c in text)
        x = gap_left + (gap_right - gap_left - width) / 2
        top = y0 + (y1 - y0 - size_px) / 2
        _draw_glyphs(page, text, x, top, size_px, style, rng, scale)


def _circle_option(draw, spec: FieldSpec, chosen: str, scale: Scale, rng, style: FillStyle) -> None:
    if chosen not in (spec.options or []):
        raise ValueError(f"{spec.name}: {chosen!r} is not one of {spec.options}")
    slot = spec.option_boxes()[spec.options.index(chosen)]
    x0, y0, x1, y1 = scale.box(slot)
    label = spec.printed_option_labels()[spec.options.index(chosen)]
    face = fonts.font(fonts.FORM_FONT, scale.px(3.4))
    label_w = min(face.getlength(label) + scale.px(3), x1 - x0 - 2)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w = label_w / 2 + scale.px(rng.uniform(0, 0.8))
    half_h = (y1 - y0) / 2 - scale.px(rng.uniform(0.6, 1.4))
    wobble = scale.px(0.5) if style.name == "handwritten" else 0
    cx += rng.uniform(-wobble, wobble)
    cy += rng.uniform(-wobble, wobble)
    draw.ellipse([cx - half_w, cy - half_h, cx + half_w, cy + half_h], outline=INK,
                 width=max(2, scale.px(0.35 if style.name == "printed" else rng.uniform(0.3, 0.55))))


def _tick(draw, box: Box, scale: Scale, rng, style: FillStyle) -> None:
    x0, y0, x1, y1 = scale.box(box)
    w, h = x1 - x0, y1 - y0
    points = [(x0 + w * 0.2, y0 + h * 0.55), (x0 + w * 0.42, y0 + h * 0.8), (x0 + w * 0.82, y0 + h * 0.2)]
    draw.line(points, fill=INK, width=max(2, scale.px(0.5)))
