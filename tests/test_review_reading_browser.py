"""Reading a form on the review page, in real Debian chromium over a real uvicorn and pages read by the real reader:
the crop of writing past its box, images rendered ahead (served with the scan gone), the zoom at full resolution,
crops large enough to read, a group grid wide enough for an address, and 個人番号 never left in clear."""
from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from review.settings import ReviewSettings
from review_scenario import ReadScan, add_users, flagged_copy, make_ledger, record_form
from test_review_browser import (USERS, Site, browser, focused_field, scans, serve, shared_dirs,  # noqa: F401
                                 sign_in, site_factory, wait_for)

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 900}  # a supervisor's ordinary screen, where wide crops used to turn thin


def _template(form_id: str = "kyuyo_hokoku"):
    from ocr.templates import load_template

    return load_template(form_id)


def _image_loaded(page, selector: str, timeout: float = 60_000) -> None:
    page.wait_for_function(f"() => {{ const img = document.querySelector({selector!r});"
                           " return img && !img.hidden && img.complete && img.naturalWidth > 0; }", timeout=timeout)


def _decoded(response) -> np.ndarray:
    assert response.status == 200, response.status
    return cv2.imdecode(np.frombuffer(response.body(), np.uint8), cv2.IMREAD_GRAYSCALE)


def test_a_field_written_past_its_box_is_cropped_to_where_the_writing_ends(browser, site_factory, scans, tmp_path):
    """The reader flags text_beyond_box when the writing touches the frame; the crop must show what ran past it."""
    from ocr.classify import place_page
    from ocr.load import iter_pages

    site = site_factory()
    kyuyo = scans["kyuyo"]
    template = _template()
    registered = place_page(next(iter_pages(kyuyo.path)), [template]).registered.copy()
    # 控除対象扶養親族1 氏名: on the official face 摘要 spans the page, so nothing can run past it; this box has
    # 90 mm of page to its right, and the next writing in its rows (田中陽子) starts 16 mm past the stroke's end.
    x, y, w, h = template.field("fuyo_1_shimei").box
    beyond_mm = 15.0
    px = template.mm_to_px
    assert px(x + w + beyond_mm + 2.0) < registered.shape[1]  # the stroke and the crop's margin fit on the page
    points = [(int(px(x + w - 10 + step * 0.8)), int(px(y + h / 2 + (1.2 if step % 2 else -1.2))))
              for step in range(int((10 + beyond_mm) / 0.8) + 1)]
    cv2.polylines(registered, [np.array(points, np.int32)], False, 20, 3)  # a pen stroke 15 mm past the frame
    written = tmp_path / "written_past_box.png"
    cv2.imwrite(str(written), registered)
    form_pk = record_form(site.engine, site.archive, ReadScan(written, kyuyo.result),
                          flagged_copy(kyuyo.result, {"fuyo_1_shimei": ["text_beyond_box"]}))

    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    sign_in(page, site, "sato", start=f"/forms/{form_pk}")
    _image_loaded(page, "#field-fuyo_1_shimei img.crop-image")
    natural = page.evaluate("() => document.querySelector('#field-fuyo_1_shimei img.crop-image').naturalWidth")
    left = int(px(x - 2.0))
    assert natural >= px(x + w + beyond_mm) - left, (natural, px(x + w + beyond_mm) - left)
    crop = _decoded(page.request.get(f"{site.url}/forms/{form_pk}/fields/fuyo_1_shimei/crop.png"))
    past = crop[:, int(px(x + w + 3.0)) - left:int(px(x + w + beyond_mm - 1.0)) - left]
    assert past.size and (past < 100).any(axis=0).mean() > 0.8  # the stroke past the box is in the crop
    context.close()


def test_images_are_rendered_ahead_and_served_when_the_scan_is_gone(browser, scans, tmp_path):
    """The background worker renders every waiting form's page, zoom and flagged crops into the cache; the form
    view and the group page then only send files (here: with the archived scans deleted)."""
    kyuyo, ido = scans["kyuyo"], scans["ido"]
    archive, cache = tmp_path / "archive", tmp_path / "cache"
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = make_ledger(url)
    add_users(engine, USERS)
    amounts = ["shiharai_kingaku", "shakai_hoken_gaku", "kiso_kojo_gaku"]
    first = record_form(engine, archive, kyuyo, flagged_copy(kyuyo.result, {n: ["low_confidence"] for n in amounts}))
    second = record_form(engine, archive, ido, flagged_copy(ido.result, {"jusho": ["low_confidence"]}))
    site = Site("", engine, archive)
    with site.session() as session:
        from ledger.models import Form

        batch_id = session.get_one(Form, first).batch_id
    settings = ReviewSettings(ledger_url=url, archive_root=archive, cache_dir=cache)
    with serve(settings) as base:
        from review import prerender

        def all_ready() -> bool:
            with site.session() as session:
                waiting = prerender.waiting_forms(session)
            return len(waiting) == 2 and all(prerender.is_ready(cache, form.key) for _, form in waiting)

        assert wait_for(all_ready, timeout=300), "the worker did not render the waiting forms ahead"
        shutil.rmtree(archive)  # from here on, nothing can be rendered on demand

        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        sign_in(page, Site(base, engine, archive), "sato", start=f"/forms/{first}")
        _image_loaded(page, "img.page-image")
        for name in amounts:
            _image_loaded(page, f"#field-{name} img.crop-image")
        page.keyboard.press("F7")
        _image_loaded(page, "#zoom-image")
        page.goto(f"{base}/forms/{second}", wait_until="domcontentloaded")
        _image_loaded(page, "img.page-image")
        _image_loaded(page, "#field-jusho img.crop-image")
        page.goto(f"{base}/group/{batch_id}/amount", wait_until="domcontentloaded")
        assert page.locator(".card").count() == len(amounts)
        page.wait_for_function("() => Array.from(document.querySelectorAll('.card img.crop-image'))"
                               ".every(img => img.complete && img.naturalWidth > 0)", timeout=60_000)
        context.close()


def test_zoom_on_a_key_and_on_a_click_shows_the_page_at_full_resolution(browser, site_factory, scans):
    site = site_factory()
    kyuyo = scans["kyuyo"]
    template = _template()
    form_pk = record_form(site.engine, site.archive, kyuyo, flagged_copy(
        kyuyo.result, {name: ["low_confidence"] for name in ("jusho", "shimei", "shiharai_kingaku")}))
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    sign_in(page, site, "sato", start=f"/forms/{form_pk}")
    assert focused_field(page) == "jusho"
    assert page.locator("#zoom").is_hidden()

    def zoom_centre_offset(name: str) -> tuple[float, float, float]:
        """(natural width, shown width, distance in px of the field's centre from the zoom's centre)."""
        return page.evaluate("""name => {
            const zoom = document.getElementById('zoom'), img = document.getElementById('zoom-image');
            const [l, t, w, h] = document.getElementById('outline-' + name).dataset.box.split(',').map(Number);
            const z = zoom.getBoundingClientRect(), r = img.getBoundingClientRect();
            const cx = r.left + (l + w / 2) / 100 * r.width, cy = r.top + (t + h / 2) / 100 * r.height;
            return [img.naturalWidth, r.width, Math.hypot(cx - (z.left + z.width / 2), cy - (z.top + z.height / 2))];
        }""", name)

    page.keyboard.press("F7")
    _image_loaded(page, "#zoom-image")
    page.wait_for_function("() => document.getElementById('zoom-image').style.left !== ''")
    natural, shown, off = zoom_centre_offset("jusho")
    assert natural == template.page_size_px()[0]  # the page as registered, 200 dpi: full resolution
    assert abs(shown - natural) <= 1 and off <= 3, (natural, shown, off)
    assert page.locator(".page-frame").is_hidden()
    page.keyboard.press("Escape")
    assert page.locator("#zoom").is_hidden() and page.locator(".page-frame").is_visible()

    page.locator("#outline-shimei").click()  # a click on a field's outline: zoom there, and type into it
    assert focused_field(page) == "shimei"
    page.wait_for_function("() => !document.getElementById('zoom').hidden")
    natural, shown, off = zoom_centre_offset("shimei")
    assert abs(shown - natural) <= 1 and off <= 3, (natural, shown, off)
    page.keyboard.press("Enter")  # saved; the zoom follows to the next field
    page.wait_for_function("() => document.activeElement.closest('.field-row').dataset.name !== 'shimei'")
    page.wait_for_function("() => document.getElementById('zoom').dataset.field === "
                           "document.activeElement.closest('.field-row').dataset.name")
    assert zoom_centre_offset(focused_field(page))[2] <= 3

    zoom = _decoded(page.request.get(f"{site.url}/forms/{form_pk}/zoom.jpg"))
    assert zoom.shape[1] == template.page_size_px()[0]
    mx, my, mw, mh = template.field("my_number").box  # the zoom shows no 個人番号
    region = zoom[int(template.mm_to_px(my)) + 2:int(template.mm_to_px(my + mh)) - 2,
                  int(template.mm_to_px(mx)) + 2:int(template.mm_to_px(mx + mw)) - 2]
    assert region.size and region.std() < 6 and abs(float(region.mean()) - 190) < 8
    context.close()


def test_the_active_crop_is_large_and_wide_crops_are_not_thin(browser, site_factory, scans):
    site = site_factory()
    kyuyo = scans["kyuyo"]
    form_pk = record_form(site.engine, site.archive, kyuyo, flagged_copy(
        kyuyo.result, {name: ["low_confidence"] for name in ("jusho", "kana", "shiharai_kingaku")}))
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    sign_in(page, site, "sato", start=f"/forms/{form_pk}")
    for name in ("jusho", "kana", "shiharai_kingaku"):
        _image_loaded(page, f"#field-{name} img.crop-image")

    def scale(name: str) -> float:
        """Shown height over natural height of the field's crop (1.0: every pixel of the scan)."""
        return page.evaluate("n => { const img = document.querySelector(`#field-${n} img.crop-image`);"
                             " return img.getBoundingClientRect().height / img.naturalHeight; }", name)

    def settled_scale(name: str, least: float) -> float:
        """The crop's scale once it reaches `least` (sizing follows the focus), or as it stands after 10 s."""
        try:
            page.wait_for_function("([n, least]) => { const img = document.querySelector(`#field-${n} img.crop-image`);"
                                   " return img.getBoundingClientRect().height / img.naturalHeight >= least; }",
                                   arg=[name, least], timeout=10_000)
        except PlaywrightTimeout:
            pass
        return scale(name)

    assert focused_field(page) == "jusho"
    assert settled_scale("jusho", 0.89) >= 0.89  # the active field: large (the address at 9/10 of its pixels)
    assert scale("kana") >= 0.59  # a wide kana line waiting its turn: not squeezed into the column
    page.keyboard.press("Tab")
    assert focused_field(page) == "kana"
    assert settled_scale("kana", 0.89) >= 0.89
    page.keyboard.press("Tab")
    assert focused_field(page) == "shiharai_kingaku"
    assert settled_scale("shiharai_kingaku", 1.0) >= 1.0  # a small crop grows
    context.close()


def test_the_group_grid_gives_an_address_a_wide_input_and_crop(browser, site_factory, scans):
    site = site_factory()
    kyuyo = scans["kyuyo"]
    form_pk = record_form(site.engine, site.archive, kyuyo, flagged_copy(
        kyuyo.result, {name: ["low_confidence"] for name in ("jusho", "shiharaisha_jusho", "tekiyo_1")}))
    with site.session() as session:
        from ledger.models import Form

        batch_id = session.get_one(Form, form_pk).batch_id
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    sign_in(page, site, "sato", start=f"/group/{batch_id}/text")
    assert page.locator(".card").count() == 3
    _image_loaded(page, ".card[data-name='jusho'] img.crop-image")
    chars, crop_scale = page.evaluate("""() => {
        const card = document.querySelector(".card[data-name='jusho']"), input = card.querySelector('input.value');
        const img = card.querySelector('img.crop-image');
        return [input.clientWidth / parseFloat(getComputedStyle(input).fontSize),
                img.getBoundingClientRect().height / img.naturalHeight];
    }""")
    assert chars >= 30, chars  # room for 30 full-width characters: an address, not 12 of them
    assert crop_scale >= 0.89, crop_scale
    context.close()


def test_a_blind_personal_number_once_saved_is_masked_in_its_input(browser, site_factory, scans):
    site = site_factory(blind_kinds=frozenset({"my_number"}))
    ido = scans["ido"]
    number = ido.result.fields["my_number"].value
    assert isinstance(number, str) and len(number) == 12
    form_pk = record_form(site.engine, site.archive, ido, flagged_copy(
        ido.result, {"my_number": ["low_confidence"], "jusho": ["low_confidence"]}))
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    sign_in(page, site, "sato", start=f"/forms/{form_pk}")
    assert page.locator("#field-my_number").get_attribute("data-mode") == "blind"
    while focused_field(page) != "my_number":
        page.keyboard.press("Tab")
    page.keyboard.press("F2")  # the crop (only: blind) is shown, audited
    _image_loaded(page, "#field-my_number img.crop-image")
    page.keyboard.type(number)
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#field-my_number').dataset.open === '0'")
    shown = page.locator("#field-my_number input.value").input_value()
    assert shown == "********" + number[-4:], shown
    values = page.evaluate("() => Array.from(document.querySelectorAll('input')).map(i => i.value).join(' ')")
    assert number not in values and number not in page.content()
    context.close()


def test_a_thirteen_digit_reading_of_a_personal_number_is_masked(browser, site_factory, scans):
    site = site_factory()
    ido = scans["ido"]
    number = ido.result.fields["my_number"].value
    misread = number[:6] + number[5] + number[6:]  # one digit read twice: 13 digits
    form_pk = record_form(site.engine, site.archive, ido, flagged_copy(
        ido.result, {"my_number": ["wrong_length"], "jusho": ["low_confidence"]}, values={"my_number": misread}))
    for user in ("sato", "suzuki"):
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        sign_in(page, site, user, start=f"/forms/{form_pk}")
        reading = page.inner_text("#field-my_number .reading-value")
        assert reading == "*********" + misread[-4:], reading
        assert misread not in page.content() and number not in page.content()
        context.close()
