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
    strongest_first: np.ndarray  # indices of the keypoints by ORB response, strongest first


# A page's handwriting crowds the ruling out of a small feature budget (3 of 10 clean handwritten pages found no
# alignment at 4000); the blank has only ruling and labels, and matching cost grows with both counts.
PAGE_FEATURES = 8000
BLANK_FEATURES = 4000
# ECC on lighting-free ink maps, quarter then half scale. On 40 pages of the three forms (office200, fax, skewed,
# photo) this gave a mean print agreement of 0.986 at 0.25 s a page, against 0.947 at 0.41 s for raw pixels with
# {0.25: 60, 0.5: 20} (which lost three photos).
ECC_ITERATIONS = {0.25: 30, 0.5: 10}
# Where that fails, from an eighth scale first. A photo taken at an angle can have its feature matches crowd into
# one band (the title and the first row of digit boxes): the similarity then fits that band only, the foot of the
# page lies tens of pixels off, and ECC started at a quarter scale wandered off (2 of 20 handwritten photos of
# ido_todoke were refused as unknown forms); at an eighth those pixels are a few, and both were placed.
ECC_ITERATIONS_FROM_AFAR = {0.125: 50, 0.25: 30, 0.5: 10}


@lru_cache(maxsize=4)
def _orb(features: int):
    return cv2.ORB_create(nfeatures=features, scaleFactor=1.2, nlevels=6, fastThreshold=12)


def _features(pixels: np.ndarray, features: int = PAGE_FEATURES) -> _Features:
    scale = min(1.0, FEATURE_WIDTH / max(pixels.shape))
    small = cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else pixels
    keypoints, descriptors = _orb(features).detectAndCompute(small, None)
    if descriptors is None or len(keypoints) < 10:
        return _Features(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8), np.zeros(0, np.intp))
    points = np.array([kp.pt for kp in keypoints], dtype=np.float32) / scale
    responses = np.array([kp.response for kp in keypoints], dtype=np.float32)
    return _Features(points, descriptors, np.argsort(-responses, kind="stable"))


@lru_cache(maxsize=16)
def _blank_features(form_id: str, blank_path: str) -> tuple[_Features, tuple[int, int]]:
    try:
        blank = _blank_image(blank_path)
    except RegistrationError as exc:
        raise RegistrationError(f"{exc}: run `taxintake samples blank {form_id}`") from exc
    return _features(blank, BLANK_FEATURES), blank.shape


@lru_cache(maxsize=16)
def _blank_matcher(form_id: str, blank_path: str):
    """An LSH index over the blank's ORB descriptors: half the time of brute force on 8000 × 4000 descriptors
    (0.06 s against 0.12 s a page) and no fewer good matches on 8 pages tried."""
    blank_features, _ = _blank_features(form_id, blank_path)
    matcher = cv2.FlannBasedMatcher(dict(algorithm=6, table_number=6, key_size=12, multi_probe_level=1),
                                    dict(checks=50))
    matcher.add([blank_features.descriptors])
    matcher.train()
    return matcher


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


def ink_map(pixels: np.ndarray, scale: float) -> np.ndarray:
    """Dark strokes as bright on black at `scale`, with the page's lighting taken out (a closing estimates the
    paper's brightness); ECC on these aligned photos with uneven light that raw pixels could not."""
    small = cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    size = max(3, int(30 * scale) | 1)
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    return cv2.GaussianBlur(cv2.subtract(paper, small), (5, 5), 0)


@lru_cache(maxsize=32)
def _blank_ink_map(path: str, scale: float) -> np.ndarray:
    return ink_map(_blank_image(path), scale)


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


# Ranking the templates on the strongest features only, at about a fifth of a full match's cost: on 36 pages
# (office200, fax, skewed, photo; printed and handwritten) the page's own form ranked first on 35 (the other a
# photo, 31 matches against 30). A wrong rank costs only time: ocr/classify.py fits in rank order and stops at
# an unmistakable fit, so the full match usually runs on one template instead of every one.
RANKING_FEATURES = 1500


def ranking_matches(features: _Features, template: Template) -> int:
    """Good (ratio-test) matches of the page's strongest features to the template's blank: a cheap ranking."""
    if len(features.keypoints) < MIN_INLIERS:
        return 0
    strongest = features.descriptors[features.strongest_first[:RANKING_FEATURES]]
    pairs = _blank_matcher(template.form_id, str(template.blank_path())).knnMatch(strongest, k=2)
    return sum(1 for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance)


def coarse_fit(features: _Features, template: Template) -> CoarseFit:
    """Match a page's features to a template's blank; raises RegistrationError when they do not agree."""
    blank_features, _ = _blank_features(template.form_id, str(template.blank_path()))
    if len(features.keypoints) < MIN_INLIERS:
        raise RegistrationError("特徴点が足りません（白紙か判読不能）/ too few features to register")
    pairs = _blank_matcher(template.form_id, str(template.blank_path())).knnMatch(features.descriptors, k=2)
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
    registration = _refined(pixels, fit, ECC_ITERATIONS)
    if registration.good:
        return registration
    from_afar = _refined(pixels, fit, ECC_ITERATIONS_FROM_AFAR)
    return from_afar if from_afar.inliers > registration.inliers else registration


def _refined(pixels: np.ndarray, fit: CoarseFit, iterations_by_scale: dict[float, int]) -> Registration:
    homography = refine_homography(pixels, str(fit.template.blank_path()), fit.transform, iterations_by_scale)
    projected = cv2.perspectiveTransform(fit.source.reshape(-1, 1, 2), homography).reshape(-1, 2)
    errors = np.linalg.norm(projected - fit.target, axis=1)
    inliers = errors < 4.0
    residual = float(np.median(errors[inliers])) if inliers.any() else 1e9
    return Registration(homography, int(inliers.sum()), residual)


def refine_homography(pixels: np.ndarray, blank_path: str, coarse: np.ndarray,
                      iterations_by_scale: dict[float, int] = ECC_ITERATIONS) -> np.ndarray:
    """Refine a coarse page→template transform by aligning the whole images (ECC), coarse to fine.

    Feature matches on a form are few and repetitive; the ruling and labels as a whole pin the page down to a
    fraction of a pixel, and a homography takes up a photo's perspective.
    """
    homography = coarse.astype(np.float32)
    first_scale = min(iterations_by_scale)
    for scale, iterations in iterations_by_scale.items():
        # Pixel centres, not corners, scale: (x + 0.5)·s − 0.5. The half-pixel term cancels for an upright page
        # but not for a turned one (a 180° page came out a pixel off without it).
        shift = 0.5 * scale - 0.5
        to_small = np.array([[scale, 0, shift], [0, scale, shift], [0, 0, 1]], dtype=np.float32)
        blank_small = _blank_ink_map(blank_path, scale)
        page_small = ink_map(pixels, scale)
        if not np.isfinite(homography).all() or abs(np.linalg.det(homography[:2, :2])) < 1e-6:
            return coarse  # a degenerate fit (a page of another size or form): the plausibility checks reject it
        # ECC's warp maps template coordinates to input coordinates: the inverse of page→template.
        warp = (to_small @ np.linalg.inv(homography) @ np.linalg.inv(to_small)).astype(np.float32)
        warp /= warp[2, 2]
        try:
            _, warp = cv2.findTransformECC(blank_small, page_small, warp, cv2.MOTION_HOMOGRAPHY,
                                           (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, 1e-5), None, 1)
        except cv2.error:
            return coarse if scale == first_scale else homography.astype(np.float64)
        homography = np.linalg.inv(np.linalg.inv(to_small) @ warp @ to_small)
        homography = (homography / homography[2, 2]).astype(np.float32)
    return homography.astype(np.float64)


def warp_to_template(pixels: np.ndarray, registration: Registration, template: Template) -> np.ndarray:
    width, height = template.page_size_px()
    return cv2.warpPerspective(pixels, registration.homography, (width, height), flags=cv2.INTER_LINEAR,
                               borderValue=255)
