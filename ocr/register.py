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


# A page's handwriting crowds the ruling out of a small feature budget (3 of 10 clean handwritten pages found no
# alignment at 4000); the blank has only ruling and labels, and matching cost grows with both counts.
PAGE_FEATURES = 8000
BLANK_FEATURES = 4000
# ECC at quarter scale converges from the feature fit; at half scale a few iterations polish it (20 kept the print
# agreement of 24 test pages equal to 60 iterations; 12 lost a photo, at a fraction of the time).
ECC_ITERATIONS = {0.25: 60, 0.5: 20}


@lru_cache(maxsize=4)
def _orb(features: int):
    return cv2.ORB_create(nfeatures=features, scaleFactor=1.2, nlevels=6, fastThreshold=12)


def _features(pixels: np.ndarray, features: int = PAGE_FEATURES) -> _Features:
    scale = min(1.0, FEATURE_WIDTH / max(pixels.shape))
    small = cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else pixels
    keypoints, descriptors = _orb(features).detectAndCompute(small, None)
    if descriptors is None or len(keypoints) < 10:
        return _Features(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))
    points = np.array([kp.pt for kp in keypoints], dtype=np.float32) / scale
    return _Features(points, descriptors)


@lru_cache(maxsize=16)
def _blank_features(form_id: str, blank_path: str) -> tuple[_Features, tuple[int, int]]:
    try:
        blank = _blank_image(blank_path)
    except RegistrationError as exc:
        raise RegistrationError(f"{exc}: run `taxintake samples blank {form_id}`") from exc
    return _features(blank, BLANK_FEATURES), blank.shape


def template_blank(template: Template) -> np.ndarray:
    """The template's blank form, read once per process (callers must not modify it)."""
    return _blank_image(str(template.blank_path()))


@lru_cache(maxsize=16)
def _blank_image(path: str) -> np.ndarray:
    blank = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if blank is None:
        raise RegistrationError(f"blank image {path} is missing")
    blank.flags.writeable = False
    return blank


@lru_cache(maxsize=32)
def _blurred_small(path: str, scale: float) -> np.ndarray:
    small = cv2.resize(_blank_image(path), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(small, (5, 5), 0)


@dataclass
class CoarseFit:
    """A page matched to a template by features and a similarity: cheap, and enough to rank templates."""
    template: Template
    transform: np.ndarray  # 3×3 similarity, page pixels -> template pixels
    source: np.ndarray  # the similarity's inlier points on the page
    target: np.ndarray  # and on the blank

    @property
    def inliers(self) -> int:
        return len(self.source)


def page_features(pixels: np.ndarray) -> _Features:
    """Computed once per page (and turn), then matched against every template."""
    return _features(pixels)


def coarse_fit(features: _Features, template: Template) -> CoarseFit:
    """Match a page's features to a template's blank; raises RegistrationError when they do not agree."""
    blank_features, _ = _blank_features(template.form_id, str(template.blank_path()))
    if len(features.keypoints) < MIN_INLIERS:
        raise RegistrationError("特徴点が足りません（白紙か判読不能）/ too few features to register")
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(features.descriptors, blank_features.descriptors, k=2)
    good = [m for m, n in (p for p in pairs if len(p) == 2) if m.distance < 0.8 * n.distance]
    if len(good) < MIN_INLIERS:
        raise RegistrationError(f"様式と一致しません（対応点 {len(good)}）/ page does not match the template")
    source = features.keypoints[[m.queryIdx for m in good]]
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
    return CoarseFit(template, np.vstack([similarity, [0, 0, 1]]), source[keep], target[keep])


def refine(pixels: np.ndarray, fit: CoarseFit) -> Registration:
    """The coarse fit refined to a homography over the whole image, with its measured residual."""
    homography = refine_homography(pixels, str(fit.template.blank_path()), fit.transform)
    projected = cv2.perspectiveTransform(fit.source.reshape(-1, 1, 2), homography).reshape(-1, 2)
    errors = np.linalg.norm(projected - fit.target, axis=1)
    inliers = errors < 4.0
    residual = float(np.median(errors[inliers])) if inliers.any() else 1e9
    return Registration(homography, int(inliers.sum()), residual)


def register(pixels: np.ndarray, template: Template) -> Registration:
    """Homography from this page to the template; raises RegistrationError when the page does not match."""
    return refine(pixels, coarse_fit(page_features(pixels), template))


def refine_homography(pixels: np.ndarray, blank_path: str, coarse: np.ndarray) -> np.ndarray:
    """Refine a coarse page→template transform by aligning the whole images (ECC), coarse to fine.

    Feature matches on a form are few and repetitive; the ruling and labels as a whole pin the page down to a
    fraction of a pixel, and a homography takes up a photo's perspective.
    """
    homography = coarse.astype(np.float32)
    for scale, iterations in ECC_ITERATIONS.items():
        to_small = np.diag([scale, scale, 1]).astype(np.float32)
        blank_small = _blurred_small(blank_path, scale)
        page_small = cv2.GaussianBlur(cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA),
                                      (5, 5), 0)
        if not np.isfinite(homography).all() or abs(np.linalg.det(homography[:2, :2])) < 1e-6:
            return coarse  # a degenerate fit (a page of another size or form): the plausibility checks reject it
        # ECC's warp maps template coordinates to input coordinates: the inverse of page→template.
        warp = (to_small @ np.linalg.inv(homography) @ np.linalg.inv(to_small)).astype(np.float32)
        warp /= warp[2, 2]
        try:
            _, warp = cv2.findTransformECC(blank_small, page_small, warp, cv2.MOTION_HOMOGRAPHY,
                                           (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, 1e-5), None, 1)
        except cv2.error:
            return coarse if scale == 0.25 else homography.astype(np.float64)
        homography = np.linalg.inv(np.linalg.inv(to_small) @ warp @ to_small)
        homography = (homography / homography[2, 2]).astype(np.float32)
    return homography.astype(np.float64)


def warp_to_template(pixels: np.ndarray, registration: Registration, template: Template) -> np.ndarray:
    width, height = template.page_size_px()
    return cv2.warpPerspective(pixels, registration.homography, (width, height), flags=cv2.INTER_LINEAR,
                               borderValue=255)
