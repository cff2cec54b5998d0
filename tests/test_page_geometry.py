"""Orientation, skew and registration on small generated pages (real pixels, no OCR)."""
import random

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from ocr import geometry
from ocr.load import LoadedPage
from ocr.classify import UnknownForm, place_page
from ocr.templates import load_template
from samples.degrade import SCAN_PROFILES, degrade
from samples.render import choose_fill_style, fill_form, render_blank

WRITTEN = {
    "shitei_bango": "12345678", "shiharaisha_hojin_bango": "7000012050002", "shiharaisha_name": "山田電気株式会社",
    "shotokusha_kana": "ハシモト　ヒデキ", "shotokusha_name": "橋本　英樹", "seinengappi_era": "昭和",
    "seinengappi": ("55", "4", "12"), "my_number": "123456789018", "jusho": "千葉県千葉市美浜区幸町2丁目5番1号",
    "nenzeigaku": "123400", "choshuzumi_gaku": "30800", "michoshu_gaku": "92600", "ido_nengappi": ("7", "9", "30"),
    "ido_jiyu": "退職", "choshu_hoho": "一括徴収",
}


@pytest.fixture(scope="module")
def template():
    return load_template("ido_todoke")


@pytest.fixture(scope="module")
def filled_page(template):
    rng = random.Random(7)
    return np.asarray(fill_form(render_blank(template), template, WRITTEN, choose_fill_style("printed", rng), rng))


@pytest.mark.parametrize("angle", [-4.6, -1.3, 0.0, 0.7, 3.2])
def test_skew_is_measured_within_a_fifth_of_a_degree(template, filled_page, angle):
    rotated = geometry.rotate(filled_page, angle)
    placement = place_page(LoadedPage("t.png", 1, rotated, 200), [template])
    assert placement.skew_degrees == pytest.approx(angle, abs=0.2)
    assert placement.registration.residual_px < 2.0


@pytest.mark.parametrize("turn", [0, 90, 180, 270])
def test_quarter_turns_are_undone(template, filled_page, turn):
    turned = geometry.quarter_turn(filled_page, turn)
    placement = place_page(LoadedPage("t.png", 1, turned, 200), [template])
    assert placement.rotation_degrees == turn
    # Once registered, the page lies on the template: the 個人番号 box holds the same pixels as the upright page.
    upright = place_page(LoadedPage("t.png", 1, filled_page, 200), [template]).registered
    assert np.abs(placement.registered.astype(int) - upright.astype(int)).mean() < 6


def test_a_300_dpi_fax_like_scan_registers_with_a_small_residual(template):
    rng = random.Random(11)
    page = fill_form(render_blank(template, dpi=300), template, WRITTEN, choose_fill_style("handwritten", rng), rng,
                     dpi=300)
    scanned = degrade(page, SCAN_PROFILES["office200"], rng).image
    placement = place_page(LoadedPage("t.png", 1, np.asarray(scanned), 300), [template])
    assert placement.registration.inliers >= 100
    assert placement.registration.residual_px < 2.0


def test_a_page_of_another_form_is_not_forced_onto_the_template(template):
    other = Image.new("L", (2339, 1654), 255)
    draw = ImageDraw.Draw(other)
    rng = random.Random(3)
    for _ in range(60):  # a different ruled form: random boxes and lines
        x, y = rng.randrange(50, 2200), rng.randrange(50, 1550)
        draw.rectangle([x, y, x + rng.randrange(40, 400), y + rng.randrange(20, 120)], outline=0, width=3)
    with pytest.raises(UnknownForm):
        place_page(LoadedPage("other.png", 1, np.asarray(other), 200), [template])


def test_ink_fraction_tells_a_blank_page(filled_page):
    white = np.full((1654, 2339), 250, np.uint8)
    noisy = np.clip(white + np.random.default_rng(1).normal(0, 4, white.shape), 0, 255).astype(np.uint8)
    assert geometry.ink_fraction(noisy) < 0.003
    assert geometry.ink_fraction(filled_page) > 0.01


def test_the_page_s_own_form_ranks_first_and_is_the_one_chosen_among_all_three(template, filled_page):
    from ocr.register import page_features, ranking_matches
    from ocr.templates import available_form_ids

    templates = [load_template(form_id) for form_id in available_form_ids()]
    features = page_features(filled_page)
    matches = {t.form_id: ranking_matches(features, t) for t in templates}
    assert max(matches, key=matches.get) == "ido_todoke", matches
    assert place_page(LoadedPage("t.png", 1, filled_page, 200), templates).template.form_id == "ido_todoke"


def test_a_photo_whose_matches_crowd_into_the_title_band_is_still_placed(tmp_path):
    # Seeds 900000 and 900007 are photos at an angle whose feature matches lie in the title and first box only;
    # ECC started at a quarter scale wandered off from there, and both were refused as unknown forms.
    from ocr.classify import print_agreement
    from ocr.load import iter_pages
    from ocr.templates import available_form_ids
    from samples.generate import generate_many

    templates = [load_template(form_id) for form_id in available_form_ids()]
    for seed in (900000, 900007):
        (path,) = generate_many("ido_todoke", count=1, style="handwritten", profile="photo", seed=seed,
                                out_dir=tmp_path)
        placement = place_page(next(iter_pages(path)), templates)
        assert placement.template.form_id == "ido_todoke"
        assert placement.registration.good
        assert print_agreement(placement.registered, placement.template) > 0.9
