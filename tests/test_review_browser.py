"""The review page in real Debian chromium (Playwright) over a real uvicorn, a real SQLite ledger and pages read by
the real reader: keyboard-only review, group verification, blind double entry, 個人番号 reveal rights, CSRF and
sign-in redirects."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger.audit import verify_audit
from ledger.db import session_scope
from ledger.models import AuditEntry, BlindEntry, FieldValue, Form, ReviewTime
from ledger.states import FormState
from ledger.values import decode_value
from review.settings import ReviewSettings
from review_scenario import (PASSWORD, ReadScan, add_users, flagged_copy, make_ledger, read_scan,
                                   record_form)

pytestmark = pytest.mark.browser

USERS = {"sato": "supervisor", "suzuki": "clerk", "tanaka": "supervisor"}


@pytest.fixture(scope="module")
def scans() -> dict[str, ReadScan]:
    """Two committed scans read once by the real reader: a 給与支払報告書 and an 異動届出書."""
    return {"kyuyo": read_scan("scan_0010.jpg"), "ido": read_scan("scan_0002.jpg")}


@pytest.fixture(scope="module")
def shared_dirs(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("review-shared")
    return root / "archive", root / "cache"  # the page cache is named by content, so tests can share it


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    from robots.browser import launch_chromium

    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


@dataclass
class Site:
    url: str
    engine: object
    archive: Path

    def session(self, write: bool = False):
        return session_scope(self.engine, write=write)


@contextmanager
def serve(settings: ReviewSettings) -> Iterator[str]:
    import uvicorn

    from review.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the review app did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def site_factory(tmp_path: Path, shared_dirs):
    archive, cache = shared_dirs
    stack = []

    def make(blind_kinds: frozenset[str] = frozenset()) -> Site:
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        engine = make_ledger(url)
        add_users(engine, USERS)
        settings = ReviewSettings(ledger_url=url, archive_root=archive, cache_dir=cache, blind_kinds=blind_kinds)
        context = serve(settings)
        base = context.__enter__()
        stack.append(context)
        return Site(base, engine, archive)

    yield make
    for context in stack:
        context.__exit__(None, None, None)


def sign_in(page, site: Site, name: str, start: str = "/queue") -> None:
    """Keyboard only: the sign-in page focuses the name; Tab to the password, Enter submits."""
    page.goto(site.url + start, wait_until="domcontentloaded")
    assert "/login" in page.url
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'name'")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def focused_field(page) -> str:
    page.wait_for_function("() => document.activeElement && document.activeElement.closest('.field-row')")
    return page.evaluate("() => document.activeElement.closest('.field-row').dataset.name")


def audit_rows(site: Site, action_prefix: str = "review.") -> list[AuditEntry]:
    with site.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action.startswith(action_prefix))
                                    .order_by(AuditEntry.id)))


def form_state(site: Site, form_pk: int) -> FormState:
    with site.session() as session:
        return session.get_one(Form, form_pk).state


def wait_for(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    return condition()


def test_supervisor_fixes_three_fields_with_the_keyboard_only(browser, site_factory, scans):
    site = site_factory()
    kyuyo = scans["kyuyo"]
    truth = {"shimei": "村上陽子", "gensen_choshu_zeigaku": "6000", "haigusha_gokei_shotoku": "710000"}
    misread = {"shimei": "村上陽了", "gensen_choshu_zeigaku": "8000", "haigusha_gokei_shotoku": "710"}
    form_pk = record_form(site.engine, site.archive, kyuyo, flagged_copy(
        kyuyo.result, {name: ["low_confidence"] for name in truth}, values=misread))
    assert form_state(site, form_pk) == FormState.NEEDS_REVIEW

    context = browser.new_context()
    page = context.new_page()
    sign_in(page, site, "sato")
    assert page.url.endswith("/queue")
    cookie = next(c for c in context.cookies() if c["name"] == "taxintake_review")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"

    page.keyboard.press("Enter")  # the queue: Enter opens the oldest form
    page.wait_for_url(f"**/forms/{form_pk}*")
    typed = []
    for _ in truth:
        name = focused_field(page)
        assert name not in typed
        page.keyboard.type(truth[name])  # the prefilled reading is selected: typing replaces it
        typed.append(name)
        page.keyboard.press("Enter")
        if len(typed) < len(truth):
            page.wait_for_function("n => document.activeElement.closest('.field-row').dataset.name !== n", arg=name)
    page.wait_for_url("**/queue?done=1")  # the last Enter finished the form and asked for the next one
    page.close()  # sends the form's seconds on screen

    assert form_state(site, form_pk) == FormState.READY
    corrections = [row for row in audit_rows(site) if row.subject.startswith(f"form:{form_pk}/")]
    assert [row.action for row in corrections] == ["review.correct"] * 3
    assert {row.actor for row in corrections} == {"sato"}
    assert {json.loads(row.after)["value"] for row in corrections} == set(truth.values())
    assert {json.loads(row.before)["value"] for row in corrections} == set(misread.values())
    with site.session() as session:
        assert verify_audit(session) == []
        fields = {f.name: f for f in session.scalars(select(FieldValue).where(FieldValue.form_pk == form_pk))}
        for name, value in truth.items():
            assert fields[name].status == "corrected" and decode_value(fields[name].corrected_value) == value
            assert fields[name].corrected_by == "sato" and decode_value(fields[name].value) == misread[name]
        transition = session.get_one(Form, form_pk).transitions[-1]
        assert (transition.to_state, transition.actor) == (FormState.READY, "sato")
    times = wait_for(lambda: _review_times(site, form_pk) if any(
        t.field_name is None for t in _review_times(site, form_pk)) else None)
    assert times, "the form's seconds on screen were not recorded"
    assert {t.field_name for t in times if t.field_name} == set(truth)
    assert all(t.mode == "form" and t.user_name == "sato" and t.seconds > 0 for t in times)
    context.close()


def _review_times(site: Site, form_pk: int) -> list[ReviewTime]:
    with site.session() as session:
        return list(session.scalars(select(ReviewTime).where(ReviewTime.form_pk == form_pk)))


def test_group_verification_confirms_a_grid_of_amounts_from_the_keyboard(browser, site_factory, scans):
    site = site_factory()
    kyuyo = scans["kyuyo"]
    amounts = ["shiharai_kingaku", "kyuyo_shotoku_kojogo", "shotoku_kojo_gokei", "shakai_hoken_gaku",
               "kiso_kojo_gaku"]
    form_pk = record_form(site.engine, site.archive, kyuyo, flagged_copy(
        kyuyo.result, {name: ["low_confidence"] for name in [*amounts, "kana"]},
        values={"shakai_hoken_gaku": "391956"}))
    with site.session() as session:
        batch_id = session.get_one(Form, form_pk).batch_id

    context = browser.new_context()
    page = context.new_page()
    sign_in(page, site, "suzuki", start="/group")
    page.wait_for_selector("a.queue-link")
    assert "金額" in page.inner_text("table.queue")
    page.goto(f"{site.url}/group/{batch_id}/amount", wait_until="domcontentloaded")
    assert page.locator(".card").count() == len(amounts)  # the flagged kana is not an amount
    for _ in amounts:
        name = focused_field(page)
        if name == "shakai_hoken_gaku":
            page.keyboard.type("391950")
        page.keyboard.press("Enter")
        page.wait_for_function("n => document.querySelector(`.card[data-name='${n}']`).dataset.open === '0'", arg=name)
    page.wait_for_selector("#group-done:not([hidden])")
    assert page.locator(".card.done").count() == len(amounts)

    rows = [row for row in audit_rows(site) if row.subject.startswith(f"form:{form_pk}/")]
    assert sorted(row.action for row in rows) == ["review.confirm"] * 4 + ["review.correct"]
    assert form_state(site, form_pk) == FormState.NEEDS_REVIEW  # the kana is still waiting in the form view
    with site.session() as session:
        field = session.scalars(select(FieldValue).where(FieldValue.form_pk == form_pk,
                                                         FieldValue.name == "shakai_hoken_gaku")).one()
        assert decode_value(field.corrected_value) == "391950"
    times = _review_times(site, form_pk)
    assert {t.field_name for t in times} == set(amounts) and {t.mode for t in times} == {"group"}
    context.close()


def test_a_blind_entry_that_disagrees_goes_to_a_second_reviewer(browser, site_factory, scans):
    site = site_factory(blind_kinds=frozenset({"amount"}))
    kyuyo = scans["kyuyo"]
    form_pk = record_form(site.engine, site.archive, kyuyo, flagged_copy(
        kyuyo.result, {"gensen_choshu_zeigaku": ["low_confidence"]}, values={"gensen_choshu_zeigaku": "6000"}))

    first = browser.new_context()
    page = first.new_page()
    sign_in(page, site, "suzuki", start=f"/forms/{form_pk}")
    row = page.locator("#field-gensen_choshu_zeigaku")
    assert row.get_attribute("data-mode") == "blind"
    assert "6000" not in row.inner_text() and page.locator("input.value").input_value() == ""  # reading hidden
    assert focused_field(page) == "gensen_choshu_zeigaku"
    page.keyboard.type("6100")
    page.keyboard.press("Enter")
    page.wait_for_url("**/queue*")  # nothing else this person can do on the form
    assert form_state(site, form_pk) == FormState.NEEDS_REVIEW
    page.goto(f"{site.url}/forms/{form_pk}", wait_until="domcontentloaded")
    assert page.locator("#field-gensen_choshu_zeigaku").get_attribute("data-mode") == "waiting"
    assert page.locator("input.value").count() == 0  # the first person cannot be the second
    first.close()

    second = browser.new_context()
    page = second.new_page()
    sign_in(page, site, "tanaka", start=f"/forms/{form_pk}")
    assert page.locator("#field-gensen_choshu_zeigaku").get_attribute("data-mode") == "second"
    assert focused_field(page) == "gensen_choshu_zeigaku"
    page.keyboard.type("6000")
    page.keyboard.press("Enter")
    page.wait_for_url("**/queue*")
    second.close()

    assert form_state(site, form_pk) == FormState.READY
    with site.session() as session:
        entries = list(session.scalars(select(BlindEntry).where(BlindEntry.form_pk == form_pk).order_by(BlindEntry.id)))
        assert [(e.user_name, decode_value(e.value), e.outcome) for e in entries] == [
            ("suzuki", "6100", "mismatch"), ("tanaka", "6000", "matched_reading")]
        field = session.scalars(select(FieldValue).where(FieldValue.form_pk == form_pk,
                                                         FieldValue.name == "gensen_choshu_zeigaku")).one()
        assert decode_value(field.corrected_value) == "6000" and field.corrected_by == "tanaka"
        assert "blind_mismatch" in field.reasons
    assert [(row.action, row.actor) for row in audit_rows(site)] == [
        ("review.blind_mismatch", "suzuki"), ("review.blind_match", "tanaka")]
    assert {t.mode for t in _review_times(site, form_pk) if t.field_name} == {"blind"}


def test_a_clerk_cannot_reveal_a_personal_number_and_a_supervisor_reveal_is_audited(browser, site_factory, scans):
    site = site_factory()
    ido = scans["ido"]
    number = ido.result.fields["my_number"].value
    assert isinstance(number, str) and len(number) == 12
    form_pk = record_form(site.engine, site.archive, ido, flagged_copy(
        ido.result, {"my_number": ["low_confidence"], "jusho": ["low_confidence"]}))

    clerk = browser.new_context()
    page = clerk.new_page()
    sign_in(page, site, "suzuki", start=f"/forms/{form_pk}")
    assert number not in page.content()
    assert "********" + number[-4:] in page.inner_text("#field-my_number")
    assert page.locator("#field-my_number button.reveal").count() == 0
    assert page.locator("#field-my_number input.value").count() == 0
    page.keyboard.press("F2")  # the reveal key tells a clerk it is for supervisors, and is audited
    page.wait_for_function("() => document.getElementById('form-message').textContent.includes('監督者のみ')")
    csrf = page.evaluate("() => document.body.dataset.csrf")
    refused = page.request.post(f"{site.url}/forms/{form_pk}/fields/my_number/reveal",
                                headers={"X-CSRF-Token": csrf})
    assert refused.status == 403 and number not in refused.text()
    crop = page.request.get(f"{site.url}/forms/{form_pk}/fields/my_number/crop.png")
    assert crop.status == 403
    saved = page.request.post(f"{site.url}/forms/{form_pk}/fields/my_number", headers={"X-CSRF-Token": csrf},
                              form={"value": number})
    assert saved.status == 403
    clerk.close()
    # F2 and the direct post: each refused attempt is audited (issue 19, item 8).
    assert wait_for(lambda: [(row.action, row.actor) for row in audit_rows(site)] == [
        ("review.reveal_refused", "suzuki")] * 2)

    supervisor = browser.new_context()
    page = supervisor.new_page()
    sign_in(page, site, "sato", start=f"/forms/{form_pk}")
    assert number not in page.content()
    while focused_field(page) != "my_number":
        page.keyboard.press("Tab")
    page.keyboard.press("F2")
    page.wait_for_function("() => document.querySelector('#field-my_number input.value').value.length === 12")
    page.wait_for_function("() => { const img = document.querySelector('#field-my_number img.crop-image');"
                           " return !img.hidden && img.complete && img.naturalWidth > 0; }", timeout=30_000)
    assert page.locator("#field-my_number input.value").input_value() == number
    supervisor.close()
    reveals = [row for row in audit_rows(site) if row.action == "review.reveal"]
    assert [(row.actor, row.subject) for row in reveals] == [("sato", f"form:{form_pk}/field:my_number")]
    assert number not in json.dumps([row.after for row in audit_rows(site, "")], ensure_ascii=False)


def test_posts_without_a_valid_token_are_refused_and_pages_need_sign_in(browser, site_factory, scans):
    site = site_factory()
    ido = scans["ido"]
    form_pk = record_form(site.engine, site.archive, ido, flagged_copy(ido.result, {"jusho": ["low_confidence"]}))

    context = browser.new_context()
    page = context.new_page()
    for path in (f"/forms/{form_pk}", "/queue", "/group", f"/forms/{form_pk}/page.jpg",
                 f"/forms/{form_pk}/fields/jusho/crop.png"):
        response = page.request.get(site.url + path, max_redirects=0)
        assert response.status == 303 and response.headers["location"].startswith("/login?next="), path
    page.goto(f"{site.url}/forms/{form_pk}", wait_until="domcontentloaded")
    assert "/login?next=" in page.url and "サインイン" in page.content()
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'name'")
    unsigned = page.request.post(f"{site.url}/forms/{form_pk}/fields/jusho", form={"value": "x"})
    assert unsigned.status == 401
    forged_login = page.request.post(f"{site.url}/login", form={"name": "sato", "password": PASSWORD,
                                                                "csrf_token": "forged"}, max_redirects=0)
    assert forged_login.status == 403

    page.keyboard.type("sato")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    assert page.url == f"{site.url}/forms/{form_pk}"  # back to the page first asked for
    csrf = page.evaluate("() => document.body.dataset.csrf")
    url = f"{site.url}/forms/{form_pk}/fields/jusho"
    assert page.request.post(url, form={"value": "千葉市"}).status == 403
    assert page.request.post(url, headers={"X-CSRF-Token": "not-the-token"}, form={"value": "千葉市"}).status == 403
    assert page.request.post(url, form={"value": "千葉市", "csrf_token": csrf[:-1]}).status == 403
    assert page.request.post(f"{site.url}/forms/{form_pk}/reject", form={"reason": "x"}).status == 403
    assert audit_rows(site) == [] and form_state(site, form_pk) == FormState.NEEDS_REVIEW

    # The page's own token works, and F4 rejects the form with a reason, keyboard only.
    page.keyboard.press("F4")
    page.keyboard.type("2枚目が欠けている")
    page.keyboard.press("Enter")
    page.wait_for_url("**/queue*")
    assert form_state(site, form_pk) == FormState.QUARANTINED
    assert [(row.action, json.loads(row.after)["reason"]) for row in audit_rows(site)] == [
        ("review.reject", "2枚目が欠けている")]
    context.close()

