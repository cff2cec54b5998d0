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
        _ORB = cv2.ORB_create(nfeatures=8000, scaleFactor=1.2, nlevels=6, fastThreshold=12)
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
    # Forms repeat themselves (cells, boxes, the same label twice), which lets a free homography lock onto a
    # locally consistent but wrong fit. A similarity (rotation, scale, shift) is far harder to fool; the
    # homography is then fitted only to the similarity's inliers, to take up a photo's perspective.
    similarity, similarity_mask = cv2.estimateAffinePartial2D(source, target, method=cv2.RANSAC,
                                                              ransacReprojThreshold=4.0, maxIters=4000,
                                                              confidence=0.999)
    if similarity is None or similarity_mask.sum() < MIN_INLIERS:
        raise RegistrationError("位置合わせができません / no consistent alignment found")
    keep = similarity_mask.ravel().astype(bool)
    coarse = np.vstack([similarity, [0, 0, 1]])
    blank = template_blank(template)
    homography = refine_homography(pixels, blank, coarse)
    source, target = source[keep], target[keep]
    projected = cv2.perspectiveTransform(source.reshape(-1, 1, 2), homography).reshape(-1, 2)
    errors = np.linalg.norm(projected - target, axis=1)
    inliers = errors < 4.0
    residual = float(np.median(errors[inliers])) if inliers.any() else 1e9
    return Registration(homography, int(inliers.sum()), residual)


def refine_homography(pixels: np.ndarray, blank: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """Refine a coarse page→template transform by aligning the whole images (ECC), coarse to fine.

    Feature matches on a form are few and repetitive; the ruling and labels as a whole pin the page down to a
    fraction of a pixel, and a homography takes up a photo's perspective.
    """
    homography = coarse.astype(np.float32)
    for scale in (0.25, 0.5):
        to_small = np.diag([scale, scale, 1]).astype(np.float32)
        blank_small = cv2.GaussianBlur(cv2.resize(blank, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA),
                                       (5, 5), 0)
        page_small = cv2.GaussianBlur(cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA),
                                      (5, 5), 0)
        if not np.isfinite(homography).all() or abs(np.linalg.det(homography[:2, :2])) < 1e-6:
            return coarse  # a degenerate fit (a page of another size or form): the plausibility checks reject it
        # ECC's warp maps template coordinates to input coordinates: the inverse of page→template.
        warp = (to_small @ np.linalg.inv(homography) @ np.linalg.inv(to_small)).astype(np.float32)
        warp /= warp[2, 2]
        try:
            _, warp = cv2.findTransformECC(blank_small, page_small, warp, cv2.MOTION_HOMOGRAPHY,
                                           (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5), None, 1)
        except cv2.error:
            return coarse if scale == 0.25 else homography.astype(np.float64)
        homography = np.linalg.inv(np.linalg.inv(to_small) @ warp @ to_small)
        homography = (homography / homography[2, 2]).astype(np.float32)
    return homography.astype(np.float64)


def warp_to_template(pixels: np.ndarray, registration: Registration, template: Template) -> np.ndarray:
    width, height = template.page_size_px()
    return cv2.warpPerspective(pixels, registration.homography, (width, height), flags=cv2.INTER_LINEAR,
                               borderValue=255)
