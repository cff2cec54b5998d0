"""Classification by fit: which template (and which quarter turn) a page registers to best, or none.

A page that registers to no template well is "not a known form": never a forced guess.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from ocr.load import LoadedPage
from ocr.register import (Registration, RegistrationError, coarse_fit, page_features, ranking_matches, refine,
                           warp_to_template)
from ocr.templates import Template


@dataclass
class PagePlacement:
    template: Template
    registered: np.ndarray
    skew_degrees: float
    rotation_degrees: int
    registration: Registration


class UnknownForm(ValueError):
    pass


# ORB features are rotation invariant, so one match per template finds the page's quarter turn and skew together;
# what is left after the nearest quarter turn must be a scan's skew, and the scale near the expected one.
MAX_SKEW_DEGREES = 8.0
SCALE_TOLERANCE = 0.12
# Share of the blank form's printed ruling and labels that must be found dark on the registered page.
MIN_PRINT_AGREEMENT = 0.6
UNMISTAKABLE_AGREEMENT = 0.9


def place_page(page: LoadedPage, templates: list[Template]) -> PagePlacement:
    """Find the template (and with it the page's quarter turn and skew) the page registers best to.

    Every template is first ranked by matching the page's strongest features (cheap, and blind to rotation); the
    templates are then fitted, refined and checked against the printed form best-ranked first, stopping at an
    unmistakable match, so more templates cost little more time. When the scan's dpi is known the fit's scale
    must be near 1.
    """
    reasons: list[str] = []
    prepared: dict[float, tuple[np.ndarray, object]] = {}
    ranked: list[tuple[int, Template]] = []
    for template in templates:
        scale = _scale_factor(page, template)
        if scale not in prepared:
            scaled = _scaled(page.pixels, scale)
            prepared[scale] = (scaled, page_features(scaled))
        ranked.append((ranking_matches(prepared[scale][1], template), template))
    best: PagePlacement | None = None
    best_agreement = 0.0
    for _, template in sorted(ranked, key=lambda pair: pair[0], reverse=True):
        scaled, features = prepared[_scale_factor(page, template)]
        try:
            fit = coarse_fit(features, template)
        except RegistrationError as exc:
            reasons.append(f"{template.form_id}: {exc}")
            continue
        registration = refine(scaled, fit)
        problem = _implausible(registration, 1.0 if page.dpi else None)
        if problem:
            reasons.append(f"{template.form_id}: {problem}")
            continue
        registered = warp_to_template(scaled, registration, template)
        agreement = print_agreement(registered, template)
        if agreement < MIN_PRINT_AGREEMENT:
            reasons.append(f"{template.form_id}: 様式の罫線・文字と一致しません（一致率 {agreement:.0%}）/ "
                           "printed form does not match")
            continue
        if agreement > best_agreement:
            turn, skew = _turn_and_skew(registration.homography)
            best = PagePlacement(template, registered, skew, turn, registration)
            best_agreement = agreement
        if agreement > UNMISTAKABLE_AGREEMENT:
            break  # the best-ranked fit matches the printed form: the others cannot do better
    if best is None:
        raise UnknownForm("既知の様式ではありません / not a known form: " + (" | ".join(reasons) if reasons else "no fit"))
    return best


def _turn_and_skew(homography: np.ndarray) -> tuple[int, float]:
    """The quarter turn (counter-clockwise, 0/90/180/270) the page's content was given, and the skew left over."""
    rotation = _homography_rotation_degrees(homography)
    turn = int(round(rotation / 90.0)) * 90
    return turn % 360, rotation - turn


def _implausible(registration: Registration, expected_scale: float | None) -> str | None:
    if not registration.good:
        return (f"位置合わせの精度が不足しています（inliers {registration.inliers}, "
                f"residual {registration.residual_px:.1f}px）/ registration too weak")
    _, skew = _turn_and_skew(registration.homography)
    scale = float(np.sqrt(abs(np.linalg.det(registration.homography[:2, :2]))))
    scale_off = expected_scale is not None and abs(scale - expected_scale) > SCALE_TOLERANCE * expected_scale
    if abs(skew) > MAX_SKEW_DEGREES or scale_off:
        return f"向き・大きさが様式と合いません（傾き {skew:.0f}°, 倍率 {scale:.2f}）/ skew or scale off"
    return None


def print_agreement(registered: np.ndarray, template: Template) -> float:
    """Share of the blank's dark pixels that are dark on the registered page too (two pixels of slack)."""
    blank_dark = _blank_dark_mask(template.form_id, str(template.blank_path()))
    page_dark = cv2.dilate((registered < 170).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return float(page_dark[blank_dark].mean()) if blank_dark.any() else 0.0


@lru_cache(maxsize=16)
def _blank_dark_mask(form_id: str, blank_path: str) -> np.ndarray:
    return cv2.imread(blank_path, cv2.IMREAD_GRAYSCALE) < 128


def _homography_rotation_degrees(homography: np.ndarray) -> float:
    # Image y points down, so a content rotation that cv2 calls counter-clockwise shows as a negative atan2.
    return float(np.degrees(np.arctan2(homography[1, 0], homography[0, 0])))


def _scale_factor(page: LoadedPage, template: Template) -> float:
    """Page pixels to template pixels: by the scan's dpi, or (dpi unknown) by the longer sides."""
    if page.dpi:
        scale = template.dpi / page.dpi
    else:
        scale = max(template.page_size_px()) / max(page.pixels.shape)
    return 1.0 if abs(scale - 1) < 0.02 else round(scale, 4)


def _scaled(pixels: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return pixels
    return cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


# ---- the version of a form: what its title band prints ----------------------------------------------------------

VERSION_PATTERN = re.compile(r"(令和|平成)\s*([0-9０-９元]+)\s*年\s*(分|度)|様式\s*第?\s*[0-9０-９]+\s*号")


def _folded(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def title_band_text(registered: np.ndarray, template: Template, recognizer) -> str:
    """The printed title band of a registered page, read as one line."""
    x, y, w, h = template.title_band or (0.0, 0.0, template.page.width_mm, template.page.height_mm * 0.12)
    x0, y0 = round(template.mm_to_px(x)), round(template.mm_to_px(y))
    x1, y1 = round(template.mm_to_px(x + w)), round(template.mm_to_px(y + h))
    crop = registered[max(0, y0):y1, max(0, x0):x1]
    return recognizer.recognize([np.pad(crop, 6, constant_values=255)], [None])[0].text


def choose_version(registered: np.ndarray, placed: Template, versions: list[Template], recognizer) -> Template:
    """The installed version of the placed form that the page's title band prints, when its versions say what
    they print (`version_marks`); a page printing a version that is not installed is never read with another."""
    marked = [t for t in versions if t.version_marks]
    if not marked:
        return placed
    text = _folded(title_band_text(registered, placed, recognizer))
    for template in marked:
        if any(_folded(mark) in text for mark in template.version_marks):
            return template
    found = VERSION_PATTERN.search(text)
    installed = "、".join(t.version for t in marked)
    if found:
        raise UnknownForm(f"この様式の版（{found.group(0)}）は登録されていません（登録済み: {installed}）/ "
                          f"version {found.group(0)} of {placed.form_id} is not installed")
    raise UnknownForm(f"様式の版を読み取れません（登録済み: {installed}）/ the version of {placed.form_id} "
                      "could not be read from the title")
