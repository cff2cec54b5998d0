"""Classification by fit: which template (and which quarter turn) a page registers to best, or none.

A page that registers to no template well is "not a known form": never a forced guess.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from ocr import geometry
from ocr.load import LoadedPage
from ocr.register import (CoarseFit, Registration, RegistrationError, coarse_fit, page_features, refine,
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


# After the quarter turn and deskew, a true fit needs only a small rotation and a scale near 1.
MAX_RESIDUAL_ROTATION_DEGREES = 3.0
SCALE_TOLERANCE = 0.12
# Share of the blank form's printed ruling and labels that must be found dark on the registered page.
MIN_PRINT_AGREEMENT = 0.6
UNMISTAKABLE_AGREEMENT = 0.9


@dataclass
class _Candidate:
    fit: CoarseFit
    straight: np.ndarray  # the page turned, scaled and deskewed as the fit saw it
    skew_degrees: float
    turn: int


def place_page(page: LoadedPage, templates: list[Template]) -> PagePlacement:
    """Find the template and the quarter turn under which the page registers best: classification by fit.

    Every template and turn is first matched by features alone (cheap); only the best-ranked candidates are
    refined and checked against the printed form, so more templates cost little more time.
    """
    reasons: list[str] = []
    candidates: list[_Candidate] = []
    prepared: dict[tuple[int, float], tuple[np.ndarray, float, object]] = {}
    for template in templates:
        width_px, height_px = template.page_size_px()
        template_landscape = width_px > height_px
        page_landscape = page.pixels.shape[1] > page.pixels.shape[0]
        for turn in ((0, 180) if template_landscape == page_landscape else (90, 270)):
            key = (turn, _scale_factor(page.pixels.shape[1 if turn in (0, 180) else 0], page.dpi, template))
            if key not in prepared:
                scaled = _scaled(geometry.quarter_turn(page.pixels, turn), key[1])
                straight, skew = geometry.deskew(scaled)
                prepared[key] = (straight, skew, page_features(straight))
            straight, skew, features = prepared[key]
            try:
                candidates.append(_Candidate(coarse_fit(features, template), straight, skew, turn))
            except RegistrationError as exc:
                reasons.append(f"{template.form_id}: {exc}")
    best: PagePlacement | None = None
    best_agreement = 0.0
    for candidate in sorted(candidates, key=lambda c: c.fit.inliers, reverse=True):
        template = candidate.fit.template
        registration = refine(candidate.straight, candidate.fit)
        problem = _implausible(registration)
        if problem:
            reasons.append(f"{template.form_id}: {problem}")
            continue
        registered = warp_to_template(candidate.straight, registration, template)
        agreement = print_agreement(registered, template)
        if agreement < MIN_PRINT_AGREEMENT:
            reasons.append(f"{template.form_id}: 様式の罫線・文字と一致しません（一致率 {agreement:.0%}）/ "
                           "printed form does not match")
            continue
        if agreement > best_agreement:
            # The homography removes what deskew left; together they measure the page's skew precisely.
            skew = candidate.skew_degrees + _homography_rotation_degrees(registration.homography)
            best = PagePlacement(template, registered, skew, (360 - candidate.turn) % 360, registration)
            best_agreement = agreement
        if agreement > UNMISTAKABLE_AGREEMENT:
            break  # the best-ranked fit matches the printed form: the others cannot do better
    if best is None:
        raise UnknownForm("既知の様式ではありません / not a known form: " + (" | ".join(reasons) if reasons else "no fit"))
    return best


def _implausible(registration: Registration) -> str | None:
    if not registration.good:
        return (f"位置合わせの精度が不足しています（inliers {registration.inliers}, "
                f"residual {registration.residual_px:.1f}px）/ registration too weak")
    homography = registration.homography
    rotation = _homography_rotation_degrees(homography)
    scale = float(np.sqrt(abs(np.linalg.det(homography[:2, :2]))))
    if abs(rotation) > MAX_RESIDUAL_ROTATION_DEGREES or abs(scale - 1) > SCALE_TOLERANCE:
        return f"向き・大きさが様式と合いません（回転 {rotation:.0f}°, 倍率 {scale:.2f}）/ orientation or scale off"
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


def _scale_factor(page_width_px: int, dpi: float | None, template: Template) -> float:
    """Page pixels to template pixels: by the scan's dpi, or by width when the file does not say."""
    scale = template.dpi / dpi if dpi else template.page_size_px()[0] / page_width_px
    return 1.0 if abs(scale - 1) < 0.02 else round(scale, 4)


def _scaled(pixels: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return pixels
    return cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
