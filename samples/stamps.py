"""Seals, stamps and pens the office printer profiles lack: a 代表者印 or 認印 pressed over a field, the city's
受付印 stamped on arrival, pencil and blue ballpoint instead of black ink. Used by the `robust` scan profile only.

Everything here works on the filled page and the blank it was filled on, so samples/render.py stays as it is:
the written ink is the difference between the two, and is recoloured; seals are drawn on top, placed over any of
the template's fields (nothing here knows one form's layout).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from ocr.templates import Template
from samples import fonts

FORM_RGB = (40, 40, 40)
INK_COLOURS = {
    "black": (20, 20, 25),
    "ballpoint_blue": (30, 50, 150),
    "pencil": (105, 105, 110),
}
SEAL_COLOURS = {
    "red": (205, 35, 40),
    "vermilion": (230, 75, 45),
    "black": (35, 35, 35),
}


@dataclass(frozen=True)
class Seal:
    kind: str  # "uketsuke" (受付印, round with a date), "daihyosha" (代表者印, square), "mitome" (認印, round)
    colour: str
    centre_mm: tuple[float, float]
    size_mm: float
    fields: tuple[str, ...]  # fields whose box the seal's outline or inside overlaps


def recolour_ink(blank: Image.Image, filled: Image.Image, ink: str, rng: random.Random) -> Image.Image:
    """The filled page in colour: the form printed black, what was written in `ink` (pencil lighter and grainy)."""
    blank_px = np.asarray(blank.convert("L"), dtype=np.float32)
    filled_px = np.asarray(filled.convert("L"), dtype=np.float32)
    alpha = np.clip((blank_px - filled_px) / np.maximum(blank_px, 1.0), 0.0, 1.0)
    if ink == "pencil":
        grain = np.random.default_rng(rng.randrange(2**32)).uniform(0.55, 0.95, alpha.shape).astype(np.float32)
        alpha = alpha * grain
    base = np.repeat(blank_px[..., None], 3, axis=2)
    colour = np.array(INK_COLOURS[ink], np.float32)
    rgb = base * (1 - alpha[..., None]) + colour * alpha[..., None]
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


def stamp_seals(page: Image.Image, template: Template, rng: random.Random, dpi: int, colour: str,
                count: int = 2) -> tuple[Image.Image, list[Seal]]:
    """Press `count` seals over fields of the page (RGB): one over a tick box when the form has one, the others
    over any field; the first a 受付印, the next a 代表者印 or 認印."""
    fields = [spec for spec in template.fields]
    ticks = [spec for spec in fields if spec.kind == "checkbox"]
    seals: list[Seal] = []
    layer = Image.new("L", page.size, 0)
    for index in range(count):
        target = rng.choice(ticks) if ticks and index == 1 else rng.choice(fields)
        kind = "uketsuke" if index == 0 else rng.choice(["daihyosha", "mitome"])
        size = {"uketsuke": rng.uniform(20, 26), "daihyosha": rng.uniform(15, 19), "mitome": rng.uniform(10.5, 13)}[kind]
        x, y, w, h = target.box
        centre = (x + w / 2 + rng.uniform(-0.3, 0.3) * min(w, 10), y + h / 2 + rng.uniform(-0.3, 0.3) * h)
        _draw_seal(layer, kind, centre, size, dpi, rng)
        seals.append(Seal(kind, colour, (round(centre[0], 2), round(centre[1], 2)), round(size, 2),
                          _fields_under(template, centre, size)))
    return _press(page, layer, SEAL_COLOURS[colour], rng), seals


def _fields_under(template: Template, centre: tuple[float, float], size: float) -> tuple[str, ...]:
    half = size / 2
    touched = []
    for spec in template.fields:
        x, y, w, h = spec.box
        if x < centre[0] + half and centre[0] - half < x + w and y < centre[1] + half and centre[1] - half < y + h:
            touched.append(spec.name)
    return tuple(touched)


def _draw_seal(layer: Image.Image, kind: str, centre_mm, size_mm: float, dpi: int, rng: random.Random) -> None:
    px = dpi / 25.4
    cx, cy = centre_mm[0] * px, centre_mm[1] * px
    r = size_mm * px / 2
    draw = ImageDraw.Draw(layer)
    line = max(2, round(0.6 * px))
    face_path = fonts.PRINTED_FONTS["ipaex_mincho"]
    if kind == "daihyosha":
        draw.rectangle([cx - r, cy - r, cx + r, cy + r], outline=255, width=line)
        face = fonts.font(face_path, int(r * 0.8))
        for i, ch in enumerate("代表者印"):
            gx = cx + (r / 2 if i < 2 else -r / 2)  # read top to bottom, right column first
            gy = cy + (-r / 2 if i % 2 == 0 else r / 2)
            draw.text((gx, gy), ch, font=face, fill=255, anchor="mm")
        return
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=255, width=line)
    if kind == "mitome":
        face = fonts.font(face_path, int(r * 0.9))
        name = rng.choice(["佐藤", "鈴木", "高橋", "田中", "伊藤", "山本"])
        draw.text((cx, cy - r * 0.42), name[0], font=face, fill=255, anchor="mm")
        draw.text((cx, cy + r * 0.42), name[1], font=face, fill=255, anchor="mm")
        return
    # 受付印: a ring, two bars, 「受付」 above, the date between the bars, the city below.
    inner = r * 0.36
    chord = math.sqrt(max(r * r - inner * inner, 0))
    for dy in (-inner, inner):
        draw.line([(cx - chord, cy + dy), (cx + chord, cy + dy)], fill=255, width=max(1, line - 1))
    small = fonts.font(face_path, int(r * 0.42))
    draw.text((cx, cy - r * 0.66), "受付", font=small, fill=255, anchor="mm")
    draw.text((cx, cy), f"7.{rng.randint(1, 12)}.{rng.randint(1, 28)}", font=small, fill=255, anchor="mm")
    draw.text((cx, cy + r * 0.66), "千葉市", font=fonts.font(face_path, int(r * 0.34)), fill=255, anchor="mm")


def _press(page: Image.Image, layer: Image.Image, colour, rng: random.Random) -> Image.Image:
    """Seal ink over the page as ink is: it darkens (multiplies) what is under it, pressed unevenly."""
    pixels = np.asarray(page.convert("RGB"), dtype=np.float32)
    alpha = np.asarray(layer, dtype=np.float32) / 255.0
    pressure = np.random.default_rng(rng.randrange(2**32)).uniform(0.75, 1.0, alpha.shape).astype(np.float32)
    alpha = alpha * pressure
    tint = np.array(colour, np.float32) / 255.0
    factor = 1 - alpha[..., None] * (1 - tint)
    return Image.fromarray(np.clip(pixels * factor, 0, 255).astype(np.uint8), "RGB")
