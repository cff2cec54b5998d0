"""A supervisor's day on the review page (issue 19, items 1–9 and undo, progress, confirm as written, reasons in
words), in real Debian chromium over a real uvicorn, a real SQLite ledger and pages read by the real reader."""
from __future__ import annotations

import ast
import json
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger.audit import verify_audit
from ledger.db import session_scope
from ledger.models import AuditEntry, FieldValue, Form
from ledger.states import FormState
from ledger.values import decode_value
from review.settings import ReviewSettings
from review_scenario import PASSWORD, add_users, flagged_copy, make_ledger, record_form
from test_review_browser import (Site, audit_rows, browser, focused_field, form_state, scans, serve,  # noqa: F401
                                 shared_dirs, sign_in, wait_for)

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
USERS = {"sato": "supervisor", "suzuki": "clerk", "tanaka": "supervisor", "yamada": "supervisor", "kanri": "admin"}


@pytest.fixture
def day_site(tmp_path: Path, shared_dirs):
    archive, cache = shared_dirs
    stack = []

    def make(blind_kinds: frozenset[str] = frozenset(), throttle=None) -> Site:
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        engine = make_ledger(url)
        add_users(engine, USERS)
        settings = ReviewSettings(ledger_url=url, archive_root=archive, cache_dir=cache, blind_kinds=blind_kinds,
                                  **({"throttle": throttle} if throttle else {}))
        context = serve(settings)
        base = context.__enter__()
        stack.append(context)
        return Site(base, engine, archive)

    yield make
    for context in stack:
        context.__exit__(None, None, None)


def field_row(site: Site, form_pk: int, name: str) -> FieldValue:
    with site.session() as session:
        return session.scalars(select(FieldValue).where(FieldValue.form_pk == form_pk, FieldValue.name == name)).one()


def wait_for_message(page, selector: str, text: str) -> str:
    page.wait_for_function("([s, t]) => (document.querySelector(s) || {}).textContent?.includes(t)", arg=[selector, text],
                           timeout=30_000)
    return page.inner_text(selector)


# ---- 1: a form skipped with F8 stays skipped after F4 -----------------------------------------------------------

def test_a_form_skipped_with_f8_does_not_come_back_after_the_next_f4(browser, day_site, scans):
    site = day_site()
    first = record_form(site.engine, site.archive, scans["kyuyo"],
                        flagged_copy(scans["kyuyo"].result, {"shimei": ["low_confidence"]}))
    second = record_form(site.engine, site.archive, scans["ido"],
                         flagged_copy(scans["ido"].result, {"jusho": ["low_confidence"]}))
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, site, "sato")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/forms/{first}*")
    focused_field(page)
    page.keyboard.press("F8")  # skip the first
    page.wait_for_url(f"**/forms/{second}*")
    focused_field(page)
    page.keyboard.press("F4")
    page.keyboard.type("2枚目が欠けている")
    page.keyboard.press("Enter")
    page.wait_for_url("**/queue?done=1")  # not back to the skipped form
    assert form_state(site, second) == FormState.QUARANTINED
    assert form_state(site, first) == FormState.NEEDS_REVIEW
    context.close()


# ---- 2 and confirm as written -------------------------------------------------------------------------------------

def test_a_supervisor_confirms_a_value_as_written_and_a_clerk_may_not(browser, day_site, scans):
    from reporting.batch_report import build_report
    from reporting.hours_config import load_hours_model

    site = day_site()
    kyuyo = scans["kyuyo"]
    form_pk = record_form(site.engine, site.archive, kyuyo, flagged_copy(
        kyuyo.result, {"shiharaisha_denwa": ["low_confidence"]}, values={"shiharaisha_denwa": "11-3972-7885"}))

    clerk = browser.new_context()
    page = clerk.new_page()
    sign_in(page, site, "suzuki", start=f"/forms/{form_pk}")
    assert focused_field(page) == "shiharaisha_denwa"
    page.keyboard.press("Enter")
    wait_for_message(page, "#field-shiharaisha_denwa .msg", "電話番号として読めません")
    page.keyboard.press("F9")
    wait_for_message(page, "#field-shiharaisha_denwa .msg", "監督者のみ")
    assert wait_for(lambda: [r for r in audit_rows(site) if r.action == "review.confirm_as_written_refused"])
    assert field_row(site, form_pk, "shiharaisha_denwa").status == "review"
    clerk.close()

    supervisor = browser.new_context()
    page = supervisor.new_page()
    sign_in(page, site, "sato", start=f"/forms/{form_pk}")
    assert focused_field(page) == "shiharaisha_denwa"
    page.keyboard.press("Shift+Enter")  # a warning may be overridden; a failed check may not
    wait_for_message(page, "#field-shiharaisha_denwa .msg", "F9")
    assert field_row(site, form_pk, "shiharaisha_denwa").status == "review"
    page.keyboard.press("F9")
    page.wait_for_function("() => document.activeElement && document.activeElement.matches('select.as-written-reason')")
    page.keyboard.press("2")  # the second reason: 提出者（事業所）に確認した
    page.wait_for_url("**/queue?done=1")
    supervisor.close()

    field = field_row(site, form_pk, "shiharaisha_denwa")
    assert field.status == "corrected" and decode_value(field.corrected_value) == "11-3972-7885"
    assert form_state(site, form_pk) == FormState.READY
    row = next(r for r in audit_rows(site) if r.action == "review.confirm_as_written")
    assert row.actor == "sato" and json.loads(row.after)["reason"] == "confirmed_with_filer"
    assert "not_phone" in json.loads(row.after)["problems"]
    with site.session() as session:
        assert verify_audit(session) == []
        batch_id = session.get_one(Form, form_pk).batch_id
        report = build_report(session, batch_id, load_hours_model())
    rows = dict(report.sections())["記載どおり確定 as written"]
    assert [(r["帳票番号 / form"], r["項目 / field"], r["確定者 / by"]) for r in rows] == [
        (form_pk, "shiharaisha_denwa", "sato")]
    assert "提出者" in rows[0]["理由 / reason"]


# ---- 3: corrections are checked as readings are ------------------------------------------------------------------

def test_corrections_are_checked_for_characters_and_against_the_postal_data(browser, day_site, scans):
    site = day_site()
    kyuyo = scans["kyuyo"]
    form_pk = record_form(site.engine, site.archive, kyuyo, flagged_copy(
        kyuyo.result, {"jusho": ["low_confidence"], "shimei": ["low_confidence"]}))
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, site, "sato", start=f"/forms/{form_pk}")
    assert focused_field(page) == "jusho"
    page.keyboard.type("架空県夢見市1丁目2番3号")
    page.keyboard.press("Shift+Enter")
    wait_for_message(page, "#field-jusho .msg", "郵便番号データにない地名")
    assert field_row(site, form_pk, "jusho").status == "review"
    page.keyboard.press("Control+a")
    truth = json.loads((REPO / "samples/scans/scan_0010.truth.json").read_text(encoding="utf-8"))["fields"]
    page.keyboard.type(truth["jusho"])
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.closest('.field-row').dataset.name === 'shimei'")
    page.keyboard.type("<b>加藤舞</b>")
    page.keyboard.press("Shift+Enter")
    message = wait_for_message(page, "#field-shimei .msg", "使わない文字")
    assert "<b>" not in page.inner_html("#field-shimei .msg")  # shown as text, never as markup
    assert field_row(site, form_pk, "shimei").status == "review"
    assert "unlikely_character" not in message  # words, not the code
    context.close()
    assert decode_value(field_row(site, form_pk, "jusho").corrected_value) == truth["jusho"]


# ---- 4 and 9: a ベリファイ conflict is decided by a third person -----------------------------------------------------

def test_a_blind_conflict_is_decided_by_a_supervisor_who_made_neither_entry(browser, day_site, scans):
    site = day_site(blind_kinds=frozenset({"amount"}))
    kyuyo = scans["kyuyo"]
    form_pk = record_form(site.engine, site.archive, kyuyo, flagged_copy(
        kyuyo.result, {"gensen_choshu_zeigaku": ["low_confidence"]}, values={"gensen_choshu_zeigaku": "6000"}))
    for user, typed in (("sato", "6100"), ("tanaka", "6200")):
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, site, user, start=f"/forms/{form_pk}")
        assert focused_field(page) == "gensen_choshu_zeigaku"
        page.keyboard.type(typed)
        page.keyboard.press("Enter")
        page.wait_for_url("**/queue*")
        context.close()

    for user in ("sato", "tanaka", "suzuki"):  # the two entrants, and a clerk
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, site, user, start=f"/forms/{form_pk}")
        row = page.locator("#field-gensen_choshu_zeigaku")
        assert row.get_attribute("data-mode") == "conflict"
        assert row.locator("input.value").count() == 0, user
        text = row.inner_text()
        assert "6100" not in text and "6200" not in text and "6000" not in text, user
        csrf = page.evaluate("() => document.body.dataset.csrf")
        refused = page.request.post(f"{site.url}/forms/{form_pk}/fields/gensen_choshu_zeigaku",
                                    headers={"X-CSRF-Token": csrf}, form={"value": "6100"})
        assert refused.status == 403, user
        context.close()

    third = browser.new_context()
    page = third.new_page()
    sign_in(page, site, "yamada", start=f"/forms/{form_pk}")
    row = page.locator("#field-gensen_choshu_zeigaku")
    assert "sato: 6100" in row.inner_text() and "tanaka: 6200" in row.inner_text()
    assert focused_field(page) == "gensen_choshu_zeigaku"
    page.keyboard.press("Control+a")
    page.keyboard.type("6000")
    page.keyboard.press("Enter")
    page.wait_for_url("**/queue*")
    third.close()
    field = field_row(site, form_pk, "gensen_choshu_zeigaku")
    assert field.corrected_by == "yamada" and decode_value(field.corrected_value) == "6000"
    assert form_state(site, form_pk) == FormState.READY


# ---- 8 and 9: F2 and F4 answer a clerk, and the refusal is audited -------------------------------------------------

def test_f2_and_f4_as_a_clerk_show_a_message_and_are_audited(browser, day_site, scans):
    site = day_site()
    ido = scans["ido"]
    form_pk = record_form(site.engine, site.archive, ido, flagged_copy(
        ido.result, {"my_number": ["low_confidence"], "jusho": ["low_confidence"]}))
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, site, "suzuki", start=f"/forms/{form_pk}")
    focused_field(page)
    page.keyboard.press("F2")
    wait_for_message(page, "#form-message", "監督者のみ")
    assert wait_for(lambda: [(r.action, r.actor) for r in audit_rows(site)] == [("review.reveal_refused", "suzuki")])
    page.keyboard.press("F4")
    wait_for_message(page, "#form-message", "差し戻し（保留）は監督者")
    assert page.locator("#reject-form").count() == 0
    assert wait_for(lambda: any(r.action == "review.reject_refused" for r in audit_rows(site)))
    csrf = page.evaluate("() => document.body.dataset.csrf")
    refused = page.request.post(f"{site.url}/forms/{form_pk}/reject", headers={"X-CSRF-Token": csrf},
                                form={"reason": "読めない"})
    assert refused.status == 403
    assert form_state(site, form_pk) == FormState.NEEDS_REVIEW
    context.close()


# ---- 5: sign-in throttled per account and per address, locks lifted by an admin ----------------------------------

def _try_password(page, site: Site, name: str, password: str) -> str:
    page.goto(site.url + "/login", wait_until="domcontentloaded")
    page.fill("#name", name)
    page.fill("#password", password)
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.keyboard.press("Enter")
    return page.inner_text("main")


def test_wrong_passwords_are_delayed_then_locked_audited_and_an_admin_lifts_the_lock(browser, day_site):
    from review.throttle import ThrottlePolicy

    # The shipped policy is 5 free failures, 1 s doubling, a lock after 10 for 15 min; a shorter one here so the
    # test's waits stay short (the delay must still be longer than two page loads on a loaded machine).
    assert ThrottlePolicy() == ThrottlePolicy(5, timedelta(seconds=1), 10, timedelta(minutes=15))
    policy = ThrottlePolicy(free_failures=3, base_delay=timedelta(seconds=3), lock_after=5)
    site = day_site(throttle=policy)
    context = browser.new_context()
    page = context.new_page()
    for attempt in range(1, 4):
        assert "パスワードが違います" in _try_password(page, site, "sato", f"wrong-password-{attempt}")
    assert "秒待って" in _try_password(page, site, "sato", "wrong-password-x")  # at once: the delay holds
    assert "秒待って" in _try_password(page, site, "sato", PASSWORD)  # not even the right one is looked at
    failures = 3
    while failures < 5:
        time.sleep(policy.base_delay.total_seconds() * 2 ** (failures - policy.free_failures) + 0.5)
        failures += 1
        text = _try_password(page, site, "sato", f"wrong-password-{failures}")
        assert ("ロック" in text) == (failures == 5), text
    assert "ロックされています" in _try_password(page, site, "sato", PASSWORD)
    assert "/login" in page.url
    actions = [(r.action, r.subject) for r in audit_rows(site, "auth.")]
    assert actions.count(("auth.login_failed", "user:sato")) == 5
    assert ("auth.locked", "user:sato") in actions
    assert actions.count(("auth.login_refused", "user:sato")) == 3
    assert PASSWORD not in json.dumps([r.after for r in audit_rows(site, "auth.")])

    admin = browser.new_context()
    admin_page = admin.new_page()  # the address (5 failures) has twice an account's allowance: not delayed yet
    sign_in(admin_page, site, "kanri", start="/admin/locks")
    admin_page.wait_for_selector("#locks tr[data-subject='user:sato']")
    admin_page.click("#locks tr[data-subject='user:sato'] button")
    admin_page.wait_for_selector("#no-locks")
    admin.close()
    assert ("auth.unlocked", "user:sato", "kanri") in [(r.action, r.subject, r.actor) for r in audit_rows(site, "auth.")]
    _try_password(page, site, "sato", PASSWORD)
    page.wait_for_url("**/queue")
    # A clerk cannot see or lift locks.
    clerk = browser.new_context()
    clerk_page = clerk.new_page()
    sign_in(clerk_page, site, "suzuki")
    assert clerk_page.request.get(site.url + "/admin/locks").status == 403
    clerk.close()
    context.close()


# ---- 6: the group index counts what the group page shows ---------------------------------------------------------

def test_the_group_index_counts_exactly_the_cards_of_the_group_page(browser, day_site, scans):
    site = day_site()
    kyuyo = scans["kyuyo"]
    form_pk = record_form(site.engine, site.archive, kyuyo, flagged_copy(
        kyuyo.result, {"shimei": ["low_confidence"], "jusho": ["low_confidence"],
                       "shiharaisha_shimei": ["audit_sample"]}))
    with site.session() as session:
        batch_id = session.get_one(Form, form_pk).batch_id
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, site, "sato", start="/group")
    row = page.locator("table.queue tr", has=page.locator(f"a[href='/group/{batch_id}/text']"))
    counted = int(row.locator("td.num").inner_text())
    page.goto(f"{site.url}/group/{batch_id}/text", wait_until="domcontentloaded")
    assert page.locator(".card").count() == counted == 2
    context.close()


# ---- 7: a cross-field flag is the rule in words, with the numbers ------------------------------------------------

def test_a_cross_field_flag_shows_its_rule_numbers_and_the_likely_wrong_field(browser, day_site, scans):
    site = day_site()
    kyuyo = scans["kyuyo"]
    reason = "cross_field:miharai_within_payment"
    form_pk = record_form(site.engine, site.archive, kyuyo, flagged_copy(
        kyuyo.result, {"miharai_gaku": ["low_confidence", reason], "shiharai_kingaku": [reason]},
        values={"miharai_gaku": "12000000", "shiharai_kingaku": "9547483"}))
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, site, "sato", start=f"/forms/{form_pk}")
    text = page.inner_text("#field-shiharai_kingaku .reasons")
    assert "内 未払額は支払金額以下でなければなりません" in text
    assert "≦" in text and "12,000,000" in text and "9,547,483" in text
    assert "誤りの可能性が高い項目：支払金額 内 未払額" in text
    assert "cross_field" not in page.inner_text("main") and "low_confidence" not in page.inner_text("main")
    context.close()


# ---- undo -----------------------------------------------------------------------------------------------------------

def test_undo_reopens_a_field_of_a_form_just_made_ready_and_a_form_just_rejected(browser, day_site, scans):
    site = day_site()
    kyuyo = scans["kyuyo"]
    form_pk = record_form(site.engine, site.archive, kyuyo, flagged_copy(kyuyo.result, {"shimei": ["low_confidence"]},
                                                                         values={"shimei": "村上陽了"}))
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, site, "sato", start=f"/forms/{form_pk}")
    assert focused_field(page) == "shimei"
    page.keyboard.type("村上陽子")
    page.keyboard.press("Enter")
    page.wait_for_url("**/queue?done=1")
    assert form_state(site, form_pk) == FormState.READY
    page.keyboard.press("Control+z")
    page.wait_for_url(f"**/forms/{form_pk}?undone=shimei")
    assert focused_field(page) == "shimei"
    assert "元に戻しました" in page.inner_text("#form-message")
    assert form_state(site, form_pk) == FormState.NEEDS_REVIEW
    field = field_row(site, form_pk, "shimei")
    assert field.status == "review" and field.corrected_value is None
    undo = [r for r in audit_rows(site) if r.action == "review.undo"]
    assert [(r.actor, r.subject) for r in undo] == [("sato", f"form:{form_pk}/field:shimei")]

    page.keyboard.press("F4")
    page.keyboard.type("別の様式")
    page.keyboard.press("Enter")
    page.wait_for_url("**/queue*")
    assert form_state(site, form_pk) == FormState.QUARANTINED
    page.keyboard.press("Control+z")
    page.wait_for_url(f"**/forms/{form_pk}?undone=")
    assert form_state(site, form_pk) == FormState.NEEDS_REVIEW
    assert [r.subject for r in audit_rows(site) if r.action == "review.undo"][-1] == f"form:{form_pk}"
    # Once a robot has claimed a form, there is nothing of it to undo: the field stays as it was entered.
    page.keyboard.type("村上陽子")
    page.keyboard.press("Enter")
    page.wait_for_url("**/queue?done=1")
    with site.session(write=True) as session:
        from ledger.repo import claim_ready_forms

        assert [f.id for f in claim_ready_forms(session, "robot-1", 5)] == [form_pk]
    csrf = page.evaluate("() => document.body.dataset.csrf")
    refused = page.request.post(f"{site.url}/undo", headers={"X-CSRF-Token": csrf}, max_redirects=0)
    assert refused.status == 409 and "ロボット" in refused.text()
    assert field_row(site, form_pk, "shimei").status == "corrected"
    with site.session() as session:
        assert verify_audit(session) == []
    context.close()


# ---- progress -------------------------------------------------------------------------------------------------------

def test_progress_shows_the_form_the_batch_the_day_and_per_person_figures(browser, day_site, scans):
    site = day_site()
    kyuyo, ido = scans["kyuyo"], scans["ido"]
    first = record_form(site.engine, site.archive, kyuyo, flagged_copy(
        kyuyo.result, {"shimei": ["low_confidence"], "gensen_choshu_zeigaku": ["low_confidence"]},
        values={"gensen_choshu_zeigaku": "8000"}))
    second = record_form(site.engine, site.archive, ido, flagged_copy(ido.result, {"jusho": ["low_confidence"]}))
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, site, "sato", start=f"/forms/{first}")
    line = page.inner_text("#progress-line")
    assert "確認待ち 2 様式中 1 番目" in line and "今日 0 様式・0 項目" in line
    assert page.inner_text("#form-progress") == "0" and "/ 2 項目済" in line
    assert "残り 1 様式・2 項目" in line
    name = focused_field(page)
    page.wait_for_timeout(600)  # seconds on screen, so seconds per field is above zero
    if name == "gensen_choshu_zeigaku":
        page.keyboard.type("6000")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('form-progress').textContent === '1'")
    name = focused_field(page)
    page.wait_for_timeout(600)
    if name == "gensen_choshu_zeigaku":
        page.keyboard.type("6000")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/forms/{second}*")
    page.wait_for_selector("#progress-line")
    assert "今日 1 様式・2 項目" in page.inner_text("#progress-line")
    page.goto(f"{site.url}/progress", wait_until="domcontentloaded")
    assert page.inner_text("#today-forms") == "1" and page.inner_text("#today-fields") == "2"
    row = page.locator("#people tr[data-user='sato']")
    assert row.locator(".corrections").inner_text() == "1"
    assert float(row.locator(".seconds-per-field").inner_text()) > 0.3
    context.close()

    clerk = browser.new_context()
    page = clerk.new_page()
    sign_in(page, site, "suzuki", start="/progress")
    assert page.locator("#people").count() == 0  # per-person figures are for supervisors
    clerk.close()


# ---- reasons in words -----------------------------------------------------------------------------------------------

_CODE = re.compile(r"^[a-z]+(_[a-z0-9]+)+$|^[a-z]{4,}$")
_SNAKE = re.compile(r"^[a-z]+(_[a-z0-9]+)+$")
# String constants the scan below finds in reason-like places that are not field reasons.
NOT_REASONS = {
    "choice", "chromium", "corrected", "edited", "mismatch", "needs_people", "review",
    "unkeyed",  # like "edited": a kind of audit-chain problem (ledger.audit.verify_audit), not a field's reason
    "my_or_corporate_number_check_digit",  # a validator's name, tested against in validate_field
    "scan_file",  # an audit subject (`scan_file:<id>`)
}


def _hints(name: str) -> bool:
    return any(word in name.lower() for word in ("reason", "problem", "found"))


def emitted_reason_codes() -> dict[str, set[str]]:
    """Every reason code the code base can put on a field, found in its source: string constants appended to,
    assigned to, returned as or constructed into reasons/problems, `add_reason` arguments, the prefix of reasons
    built with an f-string (`cross_field:<rule>`), and module constants named *_REASON."""
    found: dict[str, set[str]] = {}

    def add(node: ast.AST, where: str) -> None:
        for const in ast.walk(node):
            if isinstance(const, ast.Constant) and isinstance(const.value, str) and _CODE.match(const.value):
                found.setdefault(const.value, set()).add(where)
            if isinstance(const, ast.JoinedStr) and const.values and isinstance(const.values[0], ast.Constant):
                prefix = str(const.values[0].value)
                if prefix.endswith(":") and _CODE.match(prefix[:-1]):
                    found.setdefault(prefix[:-1], set()).add(where)

    for package in ("ocr", "review", "ledger", "flows", "robots"):
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id.endswith("_REASON")
                                                        for t in node.targets):
                    add(node.value, f"{path.name}")
            for node in ast.walk(tree):  # `cross_field:<rule>`, `unknown_validator:<name>` wherever they are built
                if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                    prefix = str(node.values[0].value)
                    if prefix.endswith(":") and _SNAKE.match(prefix[:-1]):
                        found.setdefault(prefix[:-1], set()).add(path.name)
            for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
                where = f"{path.relative_to(REPO)}:{function.name}"
                returns_reasons = _hints(function.name) or "validat" in function.name \
                    or function.name.startswith("normal") or "check" in function.name
                for node in ast.walk(function):
                    if isinstance(node, ast.Call):
                        callee = ast.unparse(node.func)
                        if isinstance(node.func, ast.Attribute) and node.func.attr in ("append", "extend", "add") \
                                and _hints(ast.unparse(node.func.value)):
                            for argument in node.args:
                                add(argument, where)
                        if callee.split(".")[-1] == "add_reason":
                            for argument in node.args:
                                add(argument, where)
                        if callee.split(".")[-1] in ("Normalized", "FieldReading", "CheckedInput"):
                            for argument in node.args[1:]:
                                add(argument, where)
                        for keyword in node.keywords:
                            if keyword.arg in ("reasons", "problems"):
                                add(keyword.value, where)
                    elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                        if node.value is not None and any(_hints(ast.unparse(t)) for t in targets):
                            add(node.value, where)
                    elif isinstance(node, ast.Return) and returns_reasons and node.value is not None:
                        add(node.value, where)
    return found


def test_every_reason_code_the_code_base_emits_has_a_japanese_sentence():
    from ocr.templates import available_form_ids, load_template
    from review.reasons import REASON_SENTENCES, explain, sentence

    emitted = {code: where for code, where in emitted_reason_codes().items() if code not in NOT_REASONS}
    # The scan finds the codes of every layer (it would find none if it were broken).
    assert {"check_digit", "not_phone", "place_not_in_postal_data", "blind_conflict", "name_cut_short",
            "audit_sample", "cross_field", "unknown_validator", "text_beyond_box", "era_missing"} <= set(emitted)
    missing = {code: sorted(where) for code, where in emitted.items() if code not in REASON_SENTENCES}
    assert missing == {}
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    for code in emitted:
        words = sentence(code)
        assert japanese.search(words) and code not in words and words.endswith("。"), code
    # Every rule between fields of every template reads as its message and formula.
    for form_id in available_form_ids():
        template = load_template(form_id)
        for rule in template.cross_field_rules:
            words = explain(f"cross_field:{rule.name}", rule.names()[0], template, {}, {}, {})
            # A rule of fields that must be filled says which are missing (all, with nothing read); others show
            # their formula.
            shown = "未記入：" if rule.requires else ("式：" if rule.expression else rule.message)
            assert words.startswith(rule.message) and shown in words and rule.name not in words, rule.name


def test_the_default_policy_locks_after_ten_failures_and_the_user_command_lifts_it(tmp_path, monkeypatch, capsys):
    from ledger.db import init_db, make_engine
    from review import throttle
    from taxintake.cli import main

    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    monkeypatch.setenv("TAXINTAKE_HOME", str(tmp_path))
    monkeypatch.setenv("TAXINTAKE_LEDGER_URL", url)
    engine = make_engine(url)
    init_db(engine)
    policy = throttle.ThrottlePolicy()
    from ledger.states import utc_now

    start = utc_now()
    with session_scope(engine) as session:
        for n in range(10):  # each one after its delay has passed
            moment = start + timedelta(seconds=60 * n)
            assert throttle.check(session, "sato", "192.0.2.1", policy, now=moment) is None
            locked = throttle.record_failure(session, "sato", "192.0.2.1", policy, now=moment)
            assert locked == (n == 9)
        early = throttle.check(session, "sato", "192.0.2.9", policy, now=start + timedelta(seconds=60 * 9 + 1))
        assert early is not None and early.locked  # from any address: the account is locked
        assert throttle.check(session, "sato", "192.0.2.9", policy, now=start + timedelta(minutes=9 + 16)) is None
        # A 個人番号 typed into the name box is never written to the audit as a name.
        throttle.record_failure(session, "123456789018", "192.0.2.1", policy)
        assert [lock.subject for lock in throttle.current_locks(session, policy, now=start + timedelta(minutes=10))
                ] == ["user:sato"]
    assert main(["user", "unlock", "sato"]) == 0
    assert "user:sato" in capsys.readouterr().out
    with session_scope(engine) as session:
        assert throttle.check(session, "sato", "192.0.2.9", policy, now=start + timedelta(minutes=10)) is None
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert "123456789018" not in json.dumps([(r.subject, r.actor, r.after) for r in rows])
        assert rows[-1].action == "auth.unlocked" and rows[-1].actor.startswith("cli:")
        assert verify_audit(session) == []
