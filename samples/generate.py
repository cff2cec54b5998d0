"""Generate filled, scanned-looking forms with ground truth: deterministic for a seed."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from faker import Faker
from PIL import Image

from ocr.normalize import normalize
from ocr.templates import Template, load_template
from samples.degrade import SCAN_PROFILES, degrade
from samples.fake_data import GENERATORS
from samples.render import choose_fill_style, fill_form, render_blank


@dataclass
class GeneratedPage:
    image: Image.Image
    truth: dict


def generate_page(form_id: str, *, style: str, profile: str, seed: int, invalid_share: float = 0.0) -> GeneratedPage:
    template = load_template(form_id)
    scan_profile = SCAN_PROFILES[profile]
    rng = random.Random(f"{form_id}:{style}:{profile}:{seed}")
    faker = Faker("ja_JP")
    faker.seed_instance(rng.randrange(2**31))
    content = GENERATORS[form_id](rng, faker, invalid_share)
    fill_style = choose_fill_style(style, rng)
    blank = render_blank(template, dpi=scan_profile.dpi)
    filled = fill_form(blank, template, content.written, fill_style, rng, dpi=scan_profile.dpi)
    scanned = degrade(filled, scan_profile, rng)
    truth = {
        "form_id": form_id,
        "template_version": template.version,
        "style": style,
        "font": Path(str(fill_style.font_path)).name,
        "profile": profile,
        "seed": seed,
        "rotation_degrees": scanned.rotation_degrees,
        "skew_degrees": round(scanned.skew_degrees, 3),
        "fields": _as_contract_values(template, content.truth),
        "deliberately_invalid": content.deliberately_invalid,
    }
    return GeneratedPage(scanned.image, truth)


def _as_contract_values(template: Template, truth: dict[str, object]) -> dict[str, object]:
    """Free text and kana in the read-result contract's normal form (no spaces between Japanese characters,
    one space between family and given kana), so a right reading equals its ground truth exactly."""
    contract = dict(truth)
    for spec in template.fields:
        if spec.kind in ("text", "kana") and isinstance(truth.get(spec.name), str):
            contract[spec.name] = normalize(spec.kind, truth[spec.name], spec).value
    return contract


def write_page(page: GeneratedPage, out_dir: Path, stem: str) -> Path:
    """Write the scan and its ground truth (`<stem>.truth.json`) side by side."""
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = SCAN_PROFILES[page.truth["profile"]].file_suffix
    image_path = out_dir / f"{stem}{suffix}"
    save_kwargs = {"dpi": page.image.info.get("dpi", (200, 200))}
    if suffix == ".jpg":
        save_kwargs["quality"] = SCAN_PROFILES[page.truth["profile"]].jpeg_quality
    if suffix == ".tif":
        save_kwargs["compression"] = "group4"
    page.image.save(image_path, **save_kwargs)
    truth = dict(page.truth, source=image_path.name, page=1)
    (out_dir / f"{stem}.truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return image_path


def blank_separator_page(dpi: int = 200) -> GeneratedPage:
    """The empty sheet a clerk puts between bundles: an A4 page with scanner noise and nothing on it."""
    import numpy as np

    width, height = round(297 * dpi / 25.4), round(210 * dpi / 25.4)
    noise = np.random.default_rng(dpi).normal(247, 3, (height, width))
    image = Image.fromarray(np.clip(noise, 0, 255).astype("uint8"))
    image.info["dpi"] = (dpi, dpi)
    return GeneratedPage(image, {"form_id": None, "blank": True})


def write_bundle_pdf(pages: list[GeneratedPage], path: Path) -> Path:
    """Several pages in one PDF, as a multifunction printer's scan-to-folder writes them; truth lists each page."""
    images = [p.image.convert("L") for p in pages]
    dpi = pages[0].image.info.get("dpi", (200, 200))[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], resolution=dpi)
    truth = {"source": path.name, "pages": [dict(p.truth, page=i + 1) for i, p in enumerate(pages)]}
    path.with_suffix(".truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def generate_many(form_id: str, *, count: int, style: str, profile: str, seed: int, out_dir: Path,
                  invalid_share: float = 0.0) -> list[Path]:
    paths = []
    for index in range(count):
        page = generate_page(form_id, style=style, profile=profile, seed=seed + index, invalid_share=invalid_share)
        paths.append(write_page(page, out_dir, f"{form_id}_{style}_{profile}_{seed + index:05d}"))
    return paths


def write_blank(form_id: str) -> Path:
    template = load_template(form_id)
    path = template.blank_path()
    render_blank(template).save(path, dpi=(template.dpi, template.dpi), optimize=True)
    return path
