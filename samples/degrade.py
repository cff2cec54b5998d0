"""Make a rendered page look like what a city's multifunction printer (or a phone) produced."""
from __future__ import annotations

import random
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

PROFILES = ("clean300", "office200", "fax", "skewed", "photo", "robust")


@dataclass(frozen=True)
class ScanProfile:
    name: str
    dpi: int
    max_skew_degrees: float
    noise_sigma: float
    jpeg_quality: int | None
    quarter_turns: bool
    fax: bool = False
    photo: bool = False
    # The robustness profile: what our other profiles never make (samples/stamps.py, degrade_robust), filled
    # with fonts no calibration saw (samples/fonts.UNSEEN_*).
    robust: bool = False

    @property
    def file_suffix(self) -> str:
        if self.fax:
            return ".tif"
        return ".jpg" if self.jpeg_quality else ".png"


SCAN_PROFILES = {
    "clean300": ScanProfile("clean300", 300, 0.5, 0.0, None, False),
    "office200": ScanProfile("office200", 200, 1.5, 6.0, 72, False),
    "fax": ScanProfile("fax", 200, 1.0, 0.0, None, False, fax=True),
    "skewed": ScanProfile("skewed", 200, 5.0, 4.0, 80, True),
    "photo": ScanProfile("photo", 200, 2.0, 5.0, 85, False, photo=True),
    # Drawn at 200 dpi; per page: 150 or 200 dpi out, 0.3–3° either way, JPEG quality 35–70, uneven light, colour
    # or grey, seals over fields, pencil / blue ballpoint / black ink (generate.py draws the choices).
    "robust": ScanProfile("robust", 200, 3.0, 4.0, 50, False, robust=True),
}
ROBUST_DPIS = (150, 200)
ROBUST_SKEW_DEGREES = (0.3, 3.0)
ROBUST_JPEG_QUALITY = (35, 70)


@dataclass
class Degraded:
    image: Image.Image
    skew_degrees: float
    rotation_degrees: int  # the quarter turn applied, counter-clockwise


def degrade(page: Image.Image, profile: ScanProfile, rng: random.Random) -> Degraded:
    pixels = np.asarray(page.convert("L"), dtype=np.uint8)
    skew = rng.uniform(-profile.max_skew_degrees, profile.max_skew_degrees)
    pixels = _rotate_small(pixels, skew)
    if profile.photo:
        pixels = _perspective_and_light(pixels, rng)
    if profile.noise_sigma:
        np_rng = np.random.default_rng(rng.randrange(2**32))
        noise = np_rng.normal(0, profile.noise_sigma, pixels.shape)
        pixels = np.clip(pixels.astype(np.float32) + noise, 0, 255).astype(np.uint8)
        pixels = cv2.GaussianBlur(pixels, (3, 3), 0.6)
    rotation = rng.choice([0, 90, 180, 270]) if profile.quarter_turns else 0
    if rotation:
        pixels = np.rot90(pixels, rotation // 90).copy()
    if profile.fax:
        pixels = _fax(pixels, rng)
        image = Image.fromarray(pixels).convert("1")
        image.info["dpi"] = (profile.dpi, profile.dpi // 2)
        return Degraded(image, skew, rotation)
    if profile.jpeg_quality:
        ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, profile.jpeg_quality])
        pixels = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
    image = Image.fromarray(pixels)
    image.info["dpi"] = (profile.dpi, profile.dpi)
    return Degraded(image, skew, rotation)


def degrade_robust(page: Image.Image, rng: random.Random, *, colour: bool, dpi: int, jpeg_quality: int,
                   render_dpi: int = 200) -> Degraded:
    """A scan unlike our office printer's: rotated 0.3–3° either way, lit unevenly, resampled to `dpi`, noisy, in
    colour or grey. The JPEG compression itself is applied once, when the page is written (`jpeg_quality`)."""
    pixels = np.asarray(page.convert("RGB"), dtype=np.uint8)
    skew = rng.uniform(*ROBUST_SKEW_DEGREES) * rng.choice([-1, 1])
    pixels = _rotate_small(pixels, skew)
    h, w = pixels.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    light = 1.0 - rng.uniform(0.12, 0.28) * ramp  # one side of the page darker, as under a lid left open
    pixels = np.clip(pixels.astype(np.float32) * light[..., None], 0, 255)
    if dpi != render_dpi:
        pixels = cv2.resize(pixels, (round(w * dpi / render_dpi), round(h * dpi / render_dpi)),
                            interpolation=cv2.INTER_AREA)
    np_rng = np.random.default_rng(rng.randrange(2**32))
    pixels = np.clip(pixels + np_rng.normal(0, 4.0, pixels.shape), 0, 255).astype(np.uint8)
    pixels = cv2.GaussianBlur(pixels, (3, 3), 0.5)
    image = Image.fromarray(pixels, "RGB") if colour else Image.fromarray(pixels, "RGB").convert("L")
    image.info["dpi"] = (dpi, dpi)
    image.info["jpeg_quality"] = jpeg_quality
    return Degraded(image, skew, 0)


def _rotate_small(pixels: np.ndarray, degrees: float) -> np.ndarray:
    h, w = pixels.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    border = 255 if pixels.ndim == 2 else (255, 255, 255)
    return cv2.warpAffine(pixels, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=border)


def _perspective_and_light(pixels: np.ndarray, rng: random.Random) -> np.ndarray:
    h, w = pixels.shape
    shift = 0.03
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[rng.uniform(0, shift) * w, rng.uniform(0, shift) * h],
                      [w - rng.uniform(0, shift) * w, rng.uniform(0, shift) * h],
                      [w - rng.uniform(0, shift) * w, h - rng.uniform(0, shift) * h],
                      [rng.uniform(0, shift) * w, h - rng.uniform(0, shift) * h]])
    warped = cv2.warpPerspective(pixels, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=200)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    light = 1.0 - 0.25 * np.hypot((xx - cx) / w, (yy - cy) / h)
    return np.clip(warped.astype(np.float32) * light, 0, 255).astype(np.uint8)


def _fax(pixels: np.ndarray, rng: random.Random) -> np.ndarray:
    h, w = pixels.shape
    half = cv2.resize(pixels, (w, h // 2), interpolation=cv2.INTER_AREA)
    binary = np.where(half < 150, 0, 255).astype(np.uint8)
    for _ in range(rng.randrange(1, 4)):  # streaks from a dirty scanner glass
        row = rng.randrange(binary.shape[0])
        binary[row:row + 1, :] = np.where(np.random.default_rng(row).random(w) < 0.3, 0, binary[row])
    return binary
