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
from samples.degrade import ROBUST_DPIS, ROBUST_JPEG_QUALITY, SCAN_PROFILES, degrade, degrade_robust
from samples.generators import GENERATORS
from samples.render import KYUYO_HOKOKU_TITLE, choose_fill_style, fill_form, render_blank, retitled

FILL_STYLES = ("printed", "handwritten")
# Share of official-face pages printed with the 給与支払報告書（個人別明細書） title over the 源泉徴収票 one.
TITLED_AS_REPORT = 0.7


@dataclass
class GeneratedPage:
    image: Image.Image
    truth: dict


def generate_page(form_id: str, *, style: str, profile: str, seed: int, invalid_share: float = 0.0,
                  drift: str | None = None, printed_title: str | None = None) -> GeneratedPage:
    """`drift`: print the filled-in values as samples/drift.py does (a printer the calibration never saw).
    `printed_title` (official faces): "face" keeps the face's own title (給与所得の源泉徴収票), a title prints it over;
    None draws one of the two as payroll software does."""
    template = load_template(form_id)
    scan_profile = SCAN_PROFILES[profile]
    rng = random.Random(f"{form_id}:{style}:{profile}:{seed}")
    faker = Faker("ja_JP")
    faker.seed_instance(rng.randrange(2**31))
    content = GENERATORS[form_id](rng, faker, invalid_share)
    fill_style = choose_fill_style(style, rng, unseen_fonts=scan_profile.robust)
    blank = render_blank(template, dpi=scan_profile.dpi)
    title = None
    if template.official_face and template.official_face.title_box:
        report = rng.random() < TITLED_AS_REPORT
        title = printed_title if printed_title is not None else (KYUYO_HOKOKU_TITLE if report else "face")
        if title != "face":
            blank = retitled(blank, template, title, dpi=scan_profile.dpi)
    filled = fill_form(blank, template, content.written, fill_style, rng, dpi=scan_profile.dpi)
    if drift:
        from samples.drift import apply_drift

        filled = apply_drift(drift, blank, filled)
    robust: dict = {}
    if scan_profile.robust:
        filled, robust = _robust_inks_and_seals(template, blank, filled, rng, scan_profile.dpi)
        scanned = degrade_robust(filled, rng, colour=robust["colour_scan"], dpi=robust["dpi"],
                                 jpeg_quality=robust["jpeg_quality"], render_dpi=scan_profile.dpi)
    else:
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
    if drift:
        truth["drift"] = drift
    if template.official_face:
        truth["printed_title"] = title or "face"
    if robust:
        truth["robust"] = robust
    return GeneratedPage(scanned.image, truth)


def _robust_inks_and_seals(template: Template, blank: Image.Image, filled: Image.Image, rng: random.Random,
                           dpi: int) -> tuple[Image.Image, dict]:
    """The robust profile's draws for one page: ink, seals (red, vermilion or black, every page stamped), colour
    or grey scan, resolution and JPEG quality; the truth records them, and which fields each seal covers."""
    from samples.stamps import recolour_ink, stamp_seals

    ink = rng.choice(["black", "ballpoint_blue", "pencil"])
    page = recolour_ink(blank, filled, ink, rng)
    seal_colour = rng.choice(["red", "vermilion", "black"])
    page, seals = stamp_seals(page, template, rng, dpi, seal_colour, count=rng.choice([1, 2, 2]))
    drawn = {"ink": ink, "seal_colour": seal_colour, "colour_scan": rng.random() < 0.5,
             "dpi": rng.choice(ROBUST_DPIS), "jpeg_quality": rng.randint(*ROBUST_JPEG_QUALITY),
             "seals": [{"kind": s.kind, "colour": s.colour, "centre_mm": list(s.centre_mm), "size_mm": s.size_mm,
                        "fields": list(s.fields)} for s in seals]}
    return page, drawn


def _as_contract_values(template: Template, truth: dict[str, object]) -> dict[str, object]:
    """Every field's true value, free text and kana in the read-result contract's normal form (no spaces between
    Japanese characters, one space between family and given kana), so a right reading equals its truth exactly."""
    # Every field of the template is named; one left blank on the form is null.
    contract = {spec.name: truth.get(spec.name) for spec in template.fields}
    unknown = set(truth) - set(contract)
    if unknown:
        raise ValueError(f"{template.form_id}: generated values for fields the template lacks: {sorted(unknown)}")
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
        save_kwargs["quality"] = page.image.info.get("jpeg_quality") or SCAN_PROFILES[page.truth["profile"]].jpeg_quality
    if suffix == ".tif":
        save_kwargs["compression"] = "group4"
    page.image.save(image_path, **save_kwargs)
    truth = dict(page.truth, source=image_path.name, page=1)
    (out_dir / f"{stem}.truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return image_path


def blank_separator_page(profile: str = "office200", seed: int = 0) -> GeneratedPage:
    """The empty sheet a clerk puts between bundles: an A4 page with nothing on it, scanned like the rest."""
    scan_profile = SCAN_PROFILES[profile]
    width, height = round(297 * scan_profile.dpi / 25.4), round(210 * scan_profile.dpi / 25.4)
    scanned = degrade(Image.new("L", (width, height), 248), scan_profile, random.Random(f"separator:{seed}"))
    return GeneratedPage(scanned.image, {"form_id": None, "blank": True, "profile": profile})


def generate_bundle(form_ids: list[str], *, count: int, style: str, profile: str, seed: int,
                    separator_every: int = 0, invalid_share: float = 0.0) -> list[GeneratedPage]:
    """`count` forms drawn in turn from `form_ids` (mail as it comes), a blank separator after every
    `separator_every` forms (0: none). `style` "mixed" draws printed or handwritten per form."""
    rng = random.Random(f"bundle:{','.join(form_ids)}:{style}:{profile}:{seed}")
    pages: list[GeneratedPage] = []
    start = rng.randrange(len(form_ids))
    for index in range(count):
        form_id = form_ids[(start + index) % len(form_ids)]
        page_style = rng.choice(FILL_STYLES) if style == "mixed" else style
        pages.append(generate_page(form_id, style=page_style, profile=profile, seed=seed + index,
                                   invalid_share=invalid_share))
        if separator_every and (index + 1) % separator_every == 0 and index + 1 < count:
            pages.append(blank_separator_page(profile, seed=seed + index))
    return pages


def write_bundle(pages: list[GeneratedPage], path: Path) -> Path:
    """Several pages in one multi-page PDF or TIFF, as a multifunction printer's scan-to-folder writes them;
    `<name>.truth.json` lists each page's truth in order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    dpi = pages[0].image.info.get("dpi", (200, 200))
    if suffix == ".pdf":
        images = [p.image.convert("L") for p in pages]
        images[0].save(path, save_all=True, append_images=images[1:], resolution=dpi[0])
    elif suffix in (".tif", ".tiff"):
        bilevel = all(p.image.mode == "1" for p in pages)
        images = [p.image if bilevel else p.image.convert("L") for p in pages]
        # Bilevel pages as CCITT G4 (fax), greyscale as JPEG-in-TIFF: what multifunction printers write.
        options = {"compression": "group4"} if bilevel else {"compression": "jpeg", "quality": 80}
        images[0].save(path, save_all=True, append_images=images[1:], dpi=dpi, **options)
    else:
        raise ValueError(f"{path}: a bundle is written as .pdf or .tif")
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


def write_previews(form_ids: list[str], out_dir: Path, *, seed: int = 1, width_px: int = 1000) -> list[Path]:
    """One filled form per form, style and profile, reduced for a quick look (`samples/previews/`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for form_id in form_ids:
        for style in FILL_STYLES:
            for profile in SCAN_PROFILES:
                page = generate_page(form_id, style=style, profile=profile, seed=seed)
                image = page.image.convert("L")
                height_px = round(image.height * width_px / image.width)
                path = out_dir / f"{form_id}_{style}_{profile}.png"
                reduced = image.resize((width_px, height_px), Image.Resampling.LANCZOS)
                # 16 grey levels keep a scan's look at a fraction of the size (the previews are committed).
                reduced.quantize(16, dither=Image.Dither.NONE).save(path, optimize=True)
                written.append(path)
    return written


def write_blank(form_id: str) -> Path:
    template = load_template(form_id)
    path = template.blank_path()
    render_blank(template).save(path, dpi=(template.dpi, template.dpi), optimize=True)
    return path
