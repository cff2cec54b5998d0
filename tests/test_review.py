"""The review page without a browser: typed values checked by the reader's own rules, blind-entry decisions, the
audit-sample path, passwords and the user command, the queue, crops that never show a 個人番号, and
`taxintake review` starting."""
from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ledger import repo, review_repo
from ledger.audit import verify_audit
from ledger.db import init_db, make_engine, session_scope
from ledger.models import AuditEntry, BlindEntry, FieldValue, Form, ReviewTime
from ledger.states import FormState
from ledger.values import decode_value, encode_value
from ocr.result import FieldReading, ReadResult
from ocr.templates import load_template
from review import auth, blind
from review.fields import check_input
from review.settings import ReviewSettings, parse_blind_kinds
from review_scenario import PASSWORD, SCANS, add_users

REPO = Path(__file__).resolve().parent.parent
KYUYO_TRUTH = json.loads((SCANS / "scan_0010.truth.json").read_text(encoding="utf-8"))["fields"]


# ---- values a person types ---------------------------------------------------------------------------------------

def test_typed_values_are_normalised_and_checked_like_readings():
    kyuyo, ido, hojin = (load_template(f) for f in ("kyuyo_hokoku", "ido_todoke", "hojin_shinkoku"))
    assert check_input(kyuyo, kyuyo.field("shiharai_kingaku"), "2,703,105", {}).value == "2703105"
    assert check_input(kyuyo, kyuyo.field("my_number"), "7613 2763 9600", {}).hard == []
    assert check_input(kyuyo, kyuyo.field("my_number"), "761327639601", {}).hard == ["check_digit"]
    assert "wrong_length" in check_input(kyuyo, kyuyo.field("my_number"), "76132763960", {}).hard
    assert check_input(ido, ido.field("ido_nengappi"), "令和7年11月22日", {}).value == "2025-11-22"
    assert check_input(ido, ido.field("ido_nengappi"), "2025-11-22", {}).value == "2025-11-22"
    assert check_input(ido, ido.field("seinengappi"), "9年2月21日", {"seinengappi_era": "平成"}).value == "1997-02-21"
    assert check_input(ido, ido.field("ido_nengappi"), "令和7年13月1日", {}).hard == ["bad_date"]
    assert check_input(ido, ido.field("ido_jiyu"), "転職", {}).hard[0] == "not_an_option"
    # A huge amount may be true: a warning the person may confirm (Shift+Enter), not a refusal.
    huge = check_input(kyuyo, kyuyo.field("gensen_choshu_zeigaku"), "600000000", {})
    assert huge.hard == [] and huge.soft == ["implausible_amount"]
    # The printed 000 of a boxed amount is part of what the person types, and is not added twice.
    thousands = next(f for f in hojin.fields if f.preprinted_suffix == "000")
    assert check_input(hojin, thousands, "12,000", {}).value == "12000"
    assert check_input(hojin, thousands, "12500", {}).hard == ["suffix_mismatch"]


# ---- blind entry -------------------------------------------------------------------------------------------------

def _entry(user: str, value: str, outcome: str) -> BlindEntry:
    return BlindEntry(form_pk=1, field_name="x", user_name=user, mode="blind", value=encode_value(value),
                      outcome=outcome)


def test_blind_decisions_and_modes():
    assert blind.decide("6000", "6000", []).outcome == "matched_reading"
    assert blind.decide("6100", "6000", []).outcome == "mismatch"
    first = [_entry("a", "6100", "mismatch")]
    assert blind.decide("6000", "6000", first).outcome == "matched_reading"
    assert blind.decide("6100", "6000", first).outcome == "matched_entry"
    assert blind.decide("6200", "6000", first).outcome == "conflict"
    kinds = frozenset({"amount"})
    assert blind.review_mode("amount", ["low_confidence"], [], kinds, "a") == "blind"
    assert blind.review_mode("text", ["low_confidence"], [], kinds, "a") == "form"
    assert blind.review_mode("text", ["audit_sample"], [], frozenset(), "a") == "audit_sample"
    assert blind.review_mode("amount", [], first, kinds, "a") == "waiting"
    assert blind.review_mode("amount", [], first, kinds, "b") == "second"
    assert blind.review_mode("amount", [], [*first, _entry("b", "1", "conflict")], kinds, "c") == "conflict"
    assert parse_blind_kinds("my_number, amount") == {"my_number", "amount"}
    with pytest.raises(ValueError):
        parse_blind_kinds("kana")


# ---- passwords and users -----------------------------------------------------------------------------------------

def test_passwords_are_argon2_hashes():
    hashed = auth.hash_password("a-long-password")
    assert hashed.startswith("$argon2id$") and "a-long-password" not in hashed
    assert auth.verify_password(hashed, "a-long-password")
    assert not auth.verify_password(hashed, "a-long-passwore")
    assert not auth.verify_password(None, "a-long-password")
    with pytest.raises(ValueError):
        auth.hash_password("short")


def test_the_user_command_creates_users_with_hashed_passwords(tmp_path, monkeypatch, capsys):
    from taxintake.cli import main

    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    monkeypatch.setenv("TAXINTAKE_HOME", str(tmp_path))
    monkeypatch.setenv("TAXINTAKE_LEDGER_URL", url)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password\n"))
    assert main(["user", "add", "sato", "--role", "supervisor", "--display-name", "佐藤 花子",
                 "--password-stdin"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("another-password\n"))
    assert main(["user", "add", "sato", "--role", "clerk", "--password-stdin"]) == 2  # the name is taken
    monkeypatch.setattr(sys, "stdin", io.StringIO("x\n"))
    assert main(["user", "add", "suzuki", "--role", "clerk", "--password-stdin"]) == 2  # too short
    assert main(["user", "list"]) == 0
    out = capsys.readouterr()
    assert "sato\t佐藤 花子\tsupervisor" in out.out and "suzuki" not in out.out
    with session_scope(make_engine(url), write=False) as session:
        user = review_repo.user_by_name(session, "sato")
        assert auth.verify_password(user.password_hash, "a-long-password")
        assert [(row.action, row.subject) for row in session.scalars(select(AuditEntry))] == [
            ("user.create", "user:sato")]


# ---- the app over a real ledger (TestClient, no browser) ---------------------------------------------------------

def _kyuyo_result(source: str, flags: dict[str, list[str]], values: dict[str, str] | None = None) -> ReadResult:
    template = load_template("kyuyo_hokoku")
    fields = {}
    for spec in template.fields:
        value = (values or {}).get(spec.name, KYUYO_TRUTH.get(spec.name))
        reasons = flags.get(spec.name, [])
        status = "review" if reasons else ("empty" if value is None else "accepted")
        fields[spec.name] = FieldReading(value=value, confidence=0.5 if reasons else 0.99, status=status,
                                         reasons=reasons)
    return ReadResult(source=source, page=1, form_id="kyuyo_hokoku", template_version=template.version,
                      seconds=1.0, fields=fields)


def _record(engine, source: str, result: ReadResult) -> int:
    digest = (source.encode().hex() * 64)[:64]
    with session_scope(engine) as session:
        batch = repo.create_batch(session, label="unit", source="tests")
        scan_file, _ = repo.register_scan_file(session, batch, source, f"{digest[:2]}/{digest}.jpg", digest, 1)
        return repo.record_read_result(session, batch, scan_file, result).id


@pytest.fixture
def ledger(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = make_engine(url)
    init_db(engine)
    add_users(engine, {"sato": "supervisor", "suzuki": "clerk"})
    return url, engine


def _client(url: str, tmp_path: Path, blind_kinds: frozenset[str] = frozenset()) -> TestClient:
    from review.app import create_app

    settings = ReviewSettings(ledger_url=url, archive_root=tmp_path / "archive", cache_dir=tmp_path / "cache",
                              blind_kinds=blind_kinds)
    # https: the session cookie is Secure, and a cookie jar keeps a Secure cookie from plain http.
    return TestClient(create_app(settings), base_url="https://testserver", follow_redirects=False)


def _sign_in(client: TestClient, name: str) -> str:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post("/login", data={"name": name, "password": PASSWORD, "next": "/queue", "csrf_token": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/queue"
    return re.search(r'data-csrf="([^"]+)"', client.get("/queue").text).group(1)


def test_queue_oldest_first_with_counts_and_safe_headers(ledger, tmp_path):
    url, engine = ledger
    older = _record(engine, "a.jpg", _kyuyo_result("a.jpg", {"shimei": ["low_confidence"]},
                                                   {"shiharai_kingaku": "1"}))
    newer = _record(engine, "b.jpg", _kyuyo_result("b.jpg", {"shimei": ["low_confidence"], "kana": ["x"]},
                                                   {"shiharai_kingaku": "2"}))
    with session_scope(engine, write=False) as session:
        rows = review_repo.review_queue(session)
        assert [(r.form_pk, r.flagged) for r in rows] == [(older, 1), (newer, 2)]
        assert review_repo.queue_size(session) == (2, 3)
    client = _client(url, tmp_path)
    wrong = client.post("/login", data={"name": "sato", "password": "wrong-password-1",
                                        "csrf_token": re.search(r'value="([^"]{20,})"', client.get("/login").text)[1]})
    assert wrong.status_code == 401 and "パスワードが違います" in wrong.text
    _sign_in(client, "sato")
    queue = client.get("/queue")
    assert queue.text.index(f'href="/forms/{older}"') < queue.text.index(f'href="/forms/{newer}"')
    assert "script-src 'self'" in queue.headers["content-security-policy"]
    assert queue.headers["cache-control"] == "no-store" and queue.headers["x-frame-options"] == "DENY"
    assert client.get("/forms/next").headers["location"].startswith(f"/forms/{older}")
    # Signing out ends the session in the ledger: the old cookie no longer opens anything.
    old_cookie = client.cookies.get("taxintake_review")
    csrf = re.search(r'data-csrf="([^"]+)"', queue.text).group(1)
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    client.cookies.set("taxintake_review", old_cookie, domain="testserver")
    assert client.get("/queue").headers["location"] == "/login?next=/queue"
    # The sign-in never sends a person off the site.
    client.cookies.clear()
    page = client.get("/login", params={"next": "//evil.example/x"})
    assert 'name="next" value="/queue"' in page.text


def test_an_audit_sample_field_is_entered_blind_and_its_seconds_recorded(ledger, tmp_path):
    url, engine = ledger
    form_pk = _record(engine, "c.jpg", _kyuyo_result("c.jpg", {}))
    with session_scope(engine) as session:
        assert session.get_one(Form, form_pk).state == FormState.READY
    # Issue 9's sampler draws an auto-accepted field; the form is held for people meanwhile.
    url2_engine = engine
    with session_scope(url2_engine) as session:
        form = session.get_one(Form, form_pk)
        review_repo.mark_for_audit_sample(session, form_pk, "shiharai_kingaku")
        form.state = FormState.NEEDS_REVIEW  # as the sampler would, before entry
    client = _client(url, tmp_path)
    csrf = _sign_in(client, "suzuki")
    page = client.get(f"/forms/{form_pk}")
    assert 'data-mode="audit_sample"' in page.text and KYUYO_TRUTH["shiharai_kingaku"] not in page.text.split(
        'id="field-shiharai_kingaku"')[1].split("</section>")[0]
    answer = client.post(f"/forms/{form_pk}/fields/shiharai_kingaku", headers={"X-CSRF-Token": csrf},
                         data={"value": KYUYO_TRUTH["shiharai_kingaku"], "seconds": "4.5"})
    assert answer.status_code == 200 and answer.json()["outcome"] == "matched_reading"
    assert answer.json()["form_state"] == "READY"
    with session_scope(engine, write=False) as session:
        times = list(session.scalars(select(ReviewTime).where(ReviewTime.form_pk == form_pk)))
        assert [(t.field_name, t.mode, t.seconds) for t in times] == [("shiharai_kingaku", "audit_sample", 4.5)]
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "review.blind_match")).one()
        assert json.loads(audit.after)["mode"] == "audit_sample"
        assert verify_audit(session) == []


def test_a_second_mismatch_goes_to_a_supervisor_and_a_resolved_field_is_not_saved_twice(ledger, tmp_path):
    url, engine = ledger
    add_users(engine, {"takahashi": "clerk"})
    form_pk = _record(engine, "d.jpg", _kyuyo_result("d.jpg", {"gensen_choshu_zeigaku": ["low_confidence"]},
                                                     {"gensen_choshu_zeigaku": "6000"}))
    amount = f"/forms/{form_pk}/fields/gensen_choshu_zeigaku"
    for name, typed, outcome in (("suzuki", "6100", "mismatch"), ("takahashi", "6200", "conflict")):
        client = _client(url, tmp_path, frozenset({"amount"}))
        csrf = _sign_in(client, name)
        answer = client.post(amount, headers={"X-CSRF-Token": csrf}, data={"value": typed})
        assert answer.json()["outcome"] == outcome
    clerk_again = client.post(amount, headers={"X-CSRF-Token": csrf}, data={"value": "6000"})
    assert clerk_again.status_code == 403  # a conflict is a supervisor's decision
    supervisor = _client(url, tmp_path, frozenset({"amount"}))
    csrf = _sign_in(supervisor, "sato")
    page = supervisor.get(f"/forms/{form_pk}").text
    assert 'data-mode="conflict"' in page and "suzuki: 6100" in page and "takahashi: 6200" in page
    assert supervisor.post(amount, headers={"X-CSRF-Token": csrf}, data={"value": "6000"}).json()["resolved"]
    again = supervisor.post(amount, headers={"X-CSRF-Token": csrf}, data={"value": "7000"})
    assert again.status_code == 409
    with session_scope(engine, write=False) as session:
        actions = [row.action for row in session.scalars(select(AuditEntry).where(
            AuditEntry.action.startswith("review.")).order_by(AuditEntry.id))]
        assert actions == ["review.blind_mismatch", "review.blind_conflict", "review.confirm"]
        field = session.scalars(select(FieldValue).where(FieldValue.form_pk == form_pk,
                                                         FieldValue.name == "gensen_choshu_zeigaku")).one()
        assert decode_value(field.corrected_value) == "6000" and field.corrected_by == "sato"


def test_review_seconds_are_clamped_and_a_rejection_needs_a_reason(ledger):
    _, engine = ledger
    form_pk = _record(engine, "e.jpg", _kyuyo_result("e.jpg", {"shimei": ["low_confidence"]}))
    with session_scope(engine) as session:
        long = review_repo.record_review_time(session, form_pk, None, "sato", "form", 10 * 86400)
        assert long.seconds == review_repo.MAX_SECONDS_ON_SCREEN
        assert long.ended_at - long.started_at == timedelta(seconds=review_repo.MAX_SECONDS_ON_SCREEN)
        assert review_repo.record_review_time(session, form_pk, "shimei", "sato", "form", 0) is None
        with pytest.raises(ValueError):
            review_repo.record_review_time(session, form_pk, None, "sato", "coffee", 3)
        with pytest.raises(ValueError):
            review_repo.reject_form(session, form_pk, "sato", "  ")


# ---- crops -------------------------------------------------------------------------------------------------------

def test_crops_never_show_a_personal_number_beside_the_field(tmp_path):
    """On the official 給与支払報告書 face the 役職名 box sits just below the 個人番号 cells and each 扶養親族's
    フリガナ just below the previous person's 個人番号: the margin of their crops must be greyed."""
    import cv2

    from flows.archive import archive_scan
    from review.images import CROP_MARGIN_MM, REDACTED_GREY, PageImages, PageKey
    from review.viewmodel import personal_boxes

    template = load_template("kyuyo_hokoku")
    archived = archive_scan(SCANS / "scan_0010.jpg", tmp_path / "archive")
    images = PageImages(tmp_path / "archive", tmp_path / "cache")
    key = PageKey(archived.sha256, archived.relative_path, 1, "kyuyo_hokoku")
    for field_name, number_name in [("yakushoku", "my_number"), ("fuyo_1_kana", "haigusha_my_number")]:
        field, number = template.field(field_name), template.field(number_name)
        crop = cv2.imdecode(np.frombuffer(images.crop_png(key, template, field.box, personal_boxes(template)),
                                          np.uint8), cv2.IMREAD_GRAYSCALE)
        # The part of the 個人番号 box inside the field's crop, in crop pixels.
        left, top = field.box[0] - CROP_MARGIN_MM, field.box[1] - CROP_MARGIN_MM
        y1 = int(template.mm_to_px(number.box[1] + number.box[3] - top)) - 1
        x0 = int(template.mm_to_px(max(number.box[0], field.box[0]) - left)) + 1
        x1 = int(template.mm_to_px(min(number.box[0] + number.box[2], field.box[0] + field.box[2]) - left)) - 1
        assert y1 > 3 and x1 > x0, field_name
        assert (crop[:y1, x0:x1] == REDACTED_GREY).all(), field_name
        assert (crop[y1 + 10:] != REDACTED_GREY).any(), field_name  # the field itself is there
    assert list((tmp_path / "cache" / "pages").iterdir())[0].name == f"{archived.sha256}_p001_kyuyo_hokoku.png"


# ---- the command -------------------------------------------------------------------------------------------------

def test_taxintake_review_starts_the_page(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "TAXINTAKE_HOME": str(tmp_path), "TAXINTAKE_LEDGER_URL": f"sqlite:///{tmp_path / 'l.db'}"}
    process = subprocess.Popen([sys.executable, "-m", "taxintake.cli", "review", "--port", str(port),
                                "--blind", "my_number"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/queue")
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "taxintake review did not start"
                time.sleep(0.3)
        assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/queue"
        assert "サインイン" in httpx.get(f"http://127.0.0.1:{port}/login").text
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "blind: my_number" in process.stdout.read().decode()
