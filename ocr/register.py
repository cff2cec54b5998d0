"""Register a page to a template's blank form: features on the printed ruling and labels, then a homography."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from ocr.templates import Template

FEATURE_WIDTH = 1400  # px; matching runs on reduced copies
MIN_INLIERS = 40
MAX_RESIDUAL_PX = 4.0  # in template pixels (200 dpi: 0.5 mm)


class RegistrationError(ValueError):
    pass


@dataclass
class Registration:
    homography: np.ndarray  # page pixels -> template pixels
    inliers: int
    residual_px: float  # median reprojection error of the inliers, template pixels

    @property
    def good(self) -> bool:
        return self.inliers >= MIN_INLIERS and self.residual_px <= MAX_RESIDUAL_PX


@dataclass
class _Features:
    keypoints: np.ndarray  # N×2 in full-resolution pixels
    descriptors: np.ndarray


_ORB = None


def _orb():
    global _ORB
    if _ORB is None:
        _ORB = cv2.ORB_create(nfeatures=4000, scaleFactor=1.2, nlevels=6, fastThreshold=12)
    return _ORB


def _features(pixels: np.ndarray) -> _Features:
    scale = min(1.0, FEATURE_WIDTH / max(pixels.shape))
    small = cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else pixels
    keypoints, descriptors = _orb().detectAndCompute(small, None)
    if descriptors is None or len(keypoints) < 10:
        return _Features(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))
    points = np.array([kp.pt for kp in keypoints], dtype=np.float32) / scale
    return _Features(points, descriptors)


@lru_cache(maxsize=16)
def _blank_features(form_id: str, blank_path: str) -> tuple[_Features, tuple[int, int]]:
    blank = cv2.imread(blank_path, cv2.IMREAD_GRAYSCALE)
    if blank is None:
        raise RegistrationError(f"blank image {blank_path} is missing: run `taxintake samples blank {form_id}`")
    return _features(blank), blank.shape


def template_blank(template: Template) -> np.ndarray:
    blank = cv2.imread(str(template.blank_path()), cv2.IMREAD_GRAYSCALE)
    if blank is None:
        raise RegistrationError(f"blank image {template.blank_path()} is missing")
    return blank


def register(pixels: np.ndarray, template: Template) -> Registration:
    """Homography from this page to the template; raises RegistrationError when the page does not match."""
    blank_features, _ = _blank_features(template.form_id, str(template.blank_path()))
    page_features = _features(pixels)
    if len(page_features.keypoints) < MIN_INLIERS:
        raise RegistrationError("特徴点が足りません（白紙か判読不能）/ too few features to register")
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(page_features.descriptors, blank_features.descriptors, k=2)
    good = [m for m, n in (p for p in pairs if len(p) == 2) if m.distance < 0.8 * n.distance]
    if len(good) < MIN_INLIERS:
        raise RegistrationError(f"様式と一致しません（対応点 {len(good)}）/ page does not match the template")
    source = page_features.keypoints[[m.queryIdx for m in good]]
    target = blank_features.keypoints[[m.trainIdx for m in good]]
    homography, mask = cv2.findHomography(source, target, cv2.USAC_MAGSAC, 3.0, maxIters=5000, confidence=0.999)
    if homography is None:
        raise RegistrationError("位置合わせができません / no consistent alignment found")
    inlier_mask = mask.ravel().astype(bool)
    projected = cv2.perspectiveTransform(source[inlier_mask].reshape(-1, 1, 2), homography).reshape(-1, 2)
    residual = float(np.median(np.linalg.norm(projected - target[inlier_mask], axis=1))) if inlier_mask.any() else 1e9
    return Registration(homography, int(inlier_mask.sum()), residual)


def warp_to_template(pixels: np.ndarray, registration: Registration, template: Template) -> np.ndarray:
    width, height = template.page_size_px()
    return cv2.warpPerspective(pixels, registration.homography, (width, height), flags=cv2.INTER_LINEAR,
                               borderValue=255)
