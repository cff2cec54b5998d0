"""The ledger on a real SQLite file and a real PostgreSQL database: recording, the state machine, claims across processes, summaries, privacy."""
from __future__ import annotations

import json
import multiprocessing
import time
import unicodedata
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text, update

from ledger import repo
from ledger.db import init_db, make_engine, session_scope
from ledger.models import FieldValue, Form, Transition
from ledger.states import FormState, IllegalTransition, transition, utc_now
from ocr.result import FieldReading, ReadResult
from ocr.templates import load_template

VALID_MY_NUMBER = "123456789018"  # check digit 8 is right for 12345678901


def valid_my_number(first_eleven: str) -> str:
    total = sum(int(first_eleven[-n]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    remainder = total % 11
    return first_eleven + str(0 if remainder <= 1 else 11 - remainder)


@pytest.fixture
def engine(ledger_url: str) -> Engine:
    """The ledger on SQLite and on PostgreSQL (the `ledger_url` fixture of conftest runs each test on both)."""
    engine = make_engine(ledger_url)
    init_db(engine)
    yield engine
    engine.dispose()


def reading(value: str | bool | None, status: str = "accepted", reasons: list[str] | None = None,
            confidence: float = 0.99) -> FieldReading:
    return FieldReading(value=value, confidence=confidence, status=status, reasons=reasons or [])


def ido_todoke_result(page: int = 1, *, marker: str = "1", source: str = "scan.pdf",
                      overrides: dict[str, FieldReading] | None = None) -> ReadResult:
    """A read of the real ido_todoke template: every field accepted, optional ones empty, unless overridden."""
    template = load_template("ido_todoke")
    fields = {spec.name: reading(f"{spec.name}-{marker}") if spec.required else reading(None, "empty")
              for spec in template.fields}
    fields.update(overrides or {})
    return ReadResult(source=source, page=page, form_id="ido_todoke", template_version=template.version,
                      seconds=0.5, fields=fields)


def new_scan(session, batch, name: str = "scan.pdf", pages: int = 1):
    scan_file, _ = repo.register_scan_file(session, batch, name, f"ab/{name}", (name.encode().hex() * 64)[:64],
                                           pages)
    return scan_file


def record_ready_forms(engine: Engine, count: int) -> list[int]:
    with session_scope(engine) as session:
        batch = repo.create_batch(session, "many", "inbox")
        scan_file = new_scan(session, batch, "many.pdf", count)
        forms = [repo.record_read_result(session, batch, scan_file, ido_todoke_result(page, marker=str(page)))
                 for page in range(1, count + 1)]
        assert {form.state for form in forms} == {FormState.READY}
        return [form.id for form in forms]


def test_engine_is_wal_with_foreign_keys_and_init_is_idempotent(engine: Engine) -> None:
    init_db(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:  # the tables are there once, whatever the number of init calls
            assert connection.scalar(text("SELECT count(*) FROM pg_tables WHERE tablename = 'forms'")) == 1
        return
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_same_file_twice_is_recognised_and_paths_stay_relative(engine: Engine) -> None:
    with session_scope(engine) as session:
        batch = repo.create_batch(session, "b", "inbox")
        first, created = repo.register_scan_file(session, batch, "a.pdf", "ab/abc.pdf", "A" * 64, 2)
        again, created_again = repo.register_scan_file(session, batch, "copy of a.pdf", "ab/abc.pdf", "a" * 64, 2)
        assert created and not created_again and again.id == first.id
        for bad in ("/srv/archive/x.pdf", "C:\\scans\\x.pdf", "../x.pdf"):
            with pytest.raises(ValueError):
                repo.register_scan_file(session, batch, "x.pdf", bad, "b" * 64, 1)


def test_recording_a_read_result_twice_gives_one_form(engine: Engine) -> None:
    with session_scope(engine) as session:
        batch = repo.create_batch(session, "b", "inbox")
        scan_file = new_scan(session, batch)
        first = repo.record_read_result(session, batch, scan_file, ido_todoke_result())
        second = repo.record_read_result(session, batch, scan_file, ido_todoke_result(marker="different read"))
        assert second.id == first.id
    with session_scope(engine) as session:
        assert session.scalar(select(func.count(Form.id))) == 1
        form = session.get_one(Form, first.id)
        assert form.state == FormState.READY
        assert form.idempotency_key and len(form.idempotency_key) == 64
        assert [(t.from_state, t.to_state) for t in form.transitions] == [
            (None, FormState.RECEIVED), (FormState.RECEIVED, FormState.READ), (FormState.READ, FormState.READY)]
        assert json.loads(form.read_json)["fields"]["shitei_bango"]["value"] == "shitei_bango-1"


def test_flagged_missing_and_unreadable_pages_are_routed(engine: Engine) -> None:
    with session_scope(engine) as session:
        batch = repo.create_batch(session, "b", "inbox")
        scan_file = new_scan(session, batch, pages=5)
        flagged = repo.record_read_result(session, batch, scan_file, ido_todoke_result(1, marker="a", overrides={
            "my_number": reading(VALID_MY_NUMBER, "review", ["low_confidence"], 0.6)}))
        missing = repo.record_read_result(session, batch, scan_file, ido_todoke_result(2, marker="b", overrides={
            "jusho": reading(None, "empty")}))
        unreadable = repo.record_read_result(session, batch, scan_file, ReadResult(
            source="scan.pdf", page=3, form_id=None, seconds=0.1, error="no template fits this page"))
        unknown = repo.record_read_result(session, batch, scan_file, ReadResult(
            source="scan.pdf", page=4, form_id="no_such_form", seconds=0.1, fields={"x": reading("1")}))
        misregistered = repo.record_read_result(session, batch, scan_file, ReadResult(
            source="scan.pdf", page=5, form_id="ido_todoke", seconds=0.1, error="registration failed"))

        assert flagged.state == FormState.NEEDS_REVIEW
        assert "my_number (low_confidence)" in flagged.state_reason and VALID_MY_NUMBER not in flagged.state_reason
        assert missing.state == FormState.NEEDS_REVIEW
        jusho = next(f for f in missing.fields if f.name == "jusho")
        assert jusho.status == "review" and json.loads(jusho.reasons) == ["required_missing"]
        assert unreadable.state == FormState.QUARANTINED
        assert unreadable.state_reason == "no template fits this page" and unreadable.idempotency_key is None
        assert unknown.state == FormState.QUARANTINED and "no_such_form" in unknown.state_reason
        assert [f.name for f in unknown.fields] == ["x"]
        assert misregistered.state == FormState.QUARANTINED and misregistered.fields == []


def test_a_page_recorded_by_another_process_meanwhile_is_returned(engine: Engine, monkeypatch) -> None:
    with session_scope(engine) as session:
        batch = repo.create_batch(session, "b", "inbox")
        scan_file = new_scan(session, batch)
        first = repo.record_read_result(session, batch, scan_file, ido_todoke_result())
        first_pk = first.id
    # As if the other process's insert landed between this one's look-up and its insert.
    real_form_at, calls = repo._form_at, []

    def form_at_missed_once(*args):
        calls.append(args)
        return None if len(calls) == 1 else real_form_at(*args)

    monkeypatch.setattr(repo, "_form_at", form_at_missed_once)
    with session_scope(engine) as session:
        batch, scan_file = session.get_one(repo.Batch, batch.id), session.get_one(repo.ScanFile, scan_file.id)
        again = repo.record_read_result(session, batch, scan_file, ido_todoke_result())
        assert again.id == first_pk and len(calls) == 2  # the insert hit the unique (file, page) and rolled back
        assert session.scalar(select(func.count(Form.id))) == 1


def test_same_content_from_another_file_is_quarantined_as_duplicate(engine: Engine) -> None:
    with session_scope(engine) as session:
        batch = repo.create_batch(session, "b", "inbox")
        original = repo.record_read_result(session, batch, new_scan(session, batch, "a.pdf"), ido_todoke_result())
        rescan = repo.record_read_result(session, batch, new_scan(session, batch, "b.pdf"), ido_todoke_result())
        assert original.state == FormState.READY
        assert rescan.state == FormState.QUARANTINED and f"form {original.id}" in rescan.state_reason
        assert rescan.idempotency_key is None


def test_state_machine_refuses_illegal_moves_and_records_legal_ones(engine: Engine) -> None:
    form_pk = record_ready_forms(engine, 1)[0]
    with session_scope(engine) as session:
        form = session.get_one(Form, form_pk)
        rows_before = len(form.transitions)
        for illegal in (FormState.ENTERED, FormState.READ, FormState.QUARANTINED, FormState.NEEDS_REVIEW):
            with pytest.raises(IllegalTransition):
                transition(session, form, illegal, actor="system")
        assert form.state == FormState.READY
        session.flush()
        assert session.scalar(select(func.count(Transition.id)).where(Transition.form_pk == form_pk)) == rows_before

        before = utc_now()
        transition(session, form, FormState.ENTERING, actor="robot-7")
        assert form.claimed_by == "robot-7"
        transition(session, form, FormState.ENTRY_FAILED, actor="robot-7", reason="legacy system timed out")
        transition(session, form, FormState.READY, actor="suzuki", reason="retry")
        transition(session, form, FormState.ENTERING, actor="robot-8")
        repo.mark_entered(session, form_pk, "R-0001", "robot-8")
        with pytest.raises(IllegalTransition):
            transition(session, form, FormState.READY, actor="suzuki")
    with session_scope(engine) as session:
        form = session.get_one(Form, form_pk)
        assert form.state == FormState.ENTERED and form.entry_receipt == "R-0001" and form.claimed_by is None
        recorded = [(t.from_state, t.to_state, t.actor, t.reason) for t in form.transitions[rows_before:]]
        assert recorded == [
            (FormState.READY, FormState.ENTERING, "robot-7", None),
            (FormState.ENTERING, FormState.ENTRY_FAILED, "robot-7", "legacy system timed out"),
            (FormState.ENTRY_FAILED, FormState.READY, "suzuki", "retry"),
            (FormState.READY, FormState.ENTERING, "robot-8", None),
            (FormState.ENTERING, FormState.ENTERED, "robot-8", None),
        ]
        for row in form.transitions:
            assert row.at.tzinfo is not None and row.at.utcoffset() == timedelta(0)
            assert before - timedelta(minutes=5) <= row.at <= utc_now()


def _claim_until_none_left(url: str, robot_id: str, start: multiprocessing.synchronize.Barrier,
                           out_file: str) -> None:
    engine = make_engine(url)
    start.wait(timeout=60)
    claimed: list[int] = []
    while True:
        with session_scope(engine) as session:
            ids = [form.id for form in repo.claim_ready_forms(session, robot_id, 2)]
        if not ids:
            break
        claimed.extend(ids)
        time.sleep(0.005)  # a robot works between claims; without it SQLite's busy wait lets one process win all
    Path(out_file).write_text(json.dumps(claimed))


def test_two_processes_never_claim_the_same_form(engine: Engine, tmp_path: Path) -> None:
    ready = record_ready_forms(engine, 80)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    workers = {robot: (context.Process(target=_claim_until_none_left,
                                       args=(engine.url.render_as_string(hide_password=False), robot, start, str(tmp_path / f"{robot}.json"))),
                       tmp_path / f"{robot}.json")
               for robot in ("robot-a", "robot-b")}
    for process, _ in workers.values():
        process.start()
    for process, _ in workers.values():
        process.join(timeout=120)
        assert process.exitcode == 0
    claimed = {robot: json.loads(out.read_text()) for robot, (_, out) in workers.items()}

    a, b = set(claimed["robot-a"]), set(claimed["robot-b"])
    assert len(a) == len(claimed["robot-a"]) and len(b) == len(claimed["robot-b"])
    assert not a & b
    assert a | b == set(ready)
    assert a and b, "both processes should have claimed some forms"
    with session_scope(engine) as session:
        for form in session.scalars(select(Form)):
            assert form.state == FormState.ENTERING
            assert form.id in claimed[form.claimed_by]
            claims = [t for t in form.transitions if t.to_state == FormState.ENTERING]
            assert [t.actor for t in claims] == [form.claimed_by]


def test_release_stale_claims_puts_crashed_claims_back(engine: Engine) -> None:
    ready = record_ready_forms(engine, 3)
    with session_scope(engine) as session:
        stale, fresh = [form.id for form in repo.claim_ready_forms(session, "robot-1", 2)]
    never_claimed = (set(ready) - {stale, fresh}).pop()
    with session_scope(engine) as session:
        session.execute(update(Form).where(Form.id == stale).values(claimed_at=utc_now() - timedelta(hours=2)))
    with session_scope(engine) as session:
        assert repo.release_stale_claims(session, timedelta(minutes=30)) == 1
    with session_scope(engine) as session:
        released = session.get_one(Form, stale)
        assert released.state == FormState.READY and released.claimed_by is None
        last = released.transitions[-1]
        assert (last.from_state, last.to_state, last.actor) == (FormState.ENTERING, FormState.READY, "system")
        assert "robot-1" in last.reason
        assert session.get_one(Form, fresh).state == FormState.ENTERING
        # The crashed robot's late report is refused: the form may be someone else's by now.
        with pytest.raises(repo.ClaimLost):
            repo.mark_entered(session, stale, "R-9", "robot-1")
    with session_scope(engine) as session:
        again = repo.claim_ready_forms(session, "robot-2", 10)
        assert sorted(form.id for form in again) == sorted([stale, never_claimed])


def test_a_claim_takes_only_the_kinds_of_form_the_robot_can_enter(engine: Engine) -> None:
    ready = record_ready_forms(engine, 2)
    with session_scope(engine) as session:
        assert repo.claim_ready_forms(session, "robot-1", 10, form_ids=["hojin_shinkoku"]) == []
    with session_scope(engine) as session:
        assert all(session.get_one(Form, pk).state == FormState.READY for pk in ready)
        claimed = repo.claim_ready_forms(session, "robot-1", 10, form_ids=["ido_todoke"])
        assert sorted(form.id for form in claimed) == sorted(ready)


def test_values_for_entry_prefer_corrections_and_decode_json(engine: Engine) -> None:
    with session_scope(engine) as session:
        batch = repo.create_batch(session, "b", "inbox")
        form = repo.record_read_result(
            session, batch, new_scan(session, batch), ReadResult(
                source="scan.pdf", page=1, form_id="t", seconds=0.1, fields={
                    "amount": reading("00123"), "ticked": reading(True), "note": reading(None, "empty"),
                    "kana": reading("サトウ", "review", ["low_confidence"])}),
            required_fields=[])
        assert form.state == FormState.NEEDS_REVIEW
        repo.correct_field(session, form.id, "kana", "サトウ ケンタ", "suzuki")
        assert repo.form_values_for_entry(form) == {"amount": "00123", "ticked": True, "note": None,
                                                    "kana": "サトウ ケンタ"}
        stored = session.scalars(select(FieldValue.value).where(FieldValue.name == "ticked")).one()
        assert stored == "true"


def test_batch_summary_numbers(engine: Engine) -> None:
    with session_scope(engine) as session:
        batch = repo.create_batch(session, "summary", "inbox")
        scan_file = new_scan(session, batch, pages=4)
        fields = lambda *readings: {f"f{i}": r for i, r in enumerate(readings)}  # noqa: E731
        results = [
            ReadResult(source="s.pdf", page=1, form_id="t", seconds=0.1,  # READY → entered
                       fields=fields(reading("a"), reading("b"), reading(None, "empty"))),
            ReadResult(source="s.pdf", page=2, form_id="t", seconds=0.1,  # READY → entry failed
                       fields=fields(reading("c"), reading("d"))),
            ReadResult(source="s.pdf", page=3, form_id="t", seconds=0.1,  # NEEDS_REVIEW
                       fields=fields(reading("e"), reading("?", "review", ["low_confidence"]),
                                     reading("?", "review", ["checksum"]), reading(None, "empty"))),
            ReadResult(source="s.pdf", page=4, form_id=None, seconds=0.1, error="blank page"),
        ]
        forms = [repo.record_read_result(session, batch, scan_file, r, required_fields=[]) for r in results]
        repo.claim_ready_forms(session, "robot-1", 10)
        repo.mark_entered(session, forms[0].id, "R-1", "robot-1")
        repo.mark_entry_failed(session, forms[1].id, f"個人番号 {VALID_MY_NUMBER} not found", "robot-1")
        other_batch = repo.create_batch(session, "other", "inbox")
        repo.record_read_result(session, other_batch, new_scan(session, other_batch, "o.pdf"), ReadResult(
            source="o.pdf", page=1, form_id="t", seconds=0.1, fields=fields(reading("z"))), required_fields=[])
    with session_scope(engine) as session:
        summary = repo.batch_summary(session, batch.id)
    assert summary.batch_id == batch.id
    assert summary.forms_total == 4
    assert summary.forms_by_state == {"ENTERED": 1, "ENTRY_FAILED": 1, "NEEDS_REVIEW": 1, "QUARANTINED": 1}
    assert (summary.fields_total, summary.fields_accepted, summary.fields_review, summary.fields_empty) == (9, 5, 2, 2)
    assert summary.straight_through == pytest.approx(5 / 7)
    assert (summary.forms_entered, summary.forms_failed) == (1, 1)
    assert list(summary.failure_reasons) == [forms[1].id]
    assert_masked(summary.failure_reasons[forms[1].id], VALID_MY_NUMBER)
    assert summary.quarantine_reasons == {forms[3].id: "blank page"}


@pytest.mark.parametrize("written", [
    VALID_MY_NUMBER, valid_my_number("98765432109"), "1234 5678 9018", "1234-5678-9018", "１２３４５６７８９０１８"])
def test_reasons_never_keep_a_personal_number(engine: Engine, written: str) -> None:
    form_pk = record_ready_forms(engine, 1)[0]
    with session_scope(engine) as session:
        repo.claim_ready_forms(session, "robot-1", 1)
        repo.send_back_to_review(session, form_pk, f"two people share 番号 {written} in the legacy system",
                                 "robot-1")
    with session_scope(engine) as session:
        form = session.get_one(Form, form_pk)
        stored = [form.state_reason, form.transitions[-1].reason]
        raw = "|".join(r for r in session.execute(text("SELECT reason FROM transitions")).scalars() if r is not None)
    for reason in [*stored, raw]:
        assert reason.startswith("two people share 番号 ") and reason.endswith(" in the legacy system")
        assert_masked(reason, written)


def assert_masked(text: str, number: str) -> None:
    """`text` shows the number masked: at most its last four digits, never the twelve."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isdigit())
    assert unicodedata.normalize("NFKC", number).replace(" ", "").replace("-", "") not in digits
    assert "********" in text


def test_a_thirteen_digit_corporate_number_is_not_a_personal_number() -> None:
    from ledger.privacy import mask_personal_numbers

    assert mask_personal_numbers("法人番号 1234567890123") == "法人番号 1234567890123"
    assert mask_personal_numbers(None) is None


def test_timestamps_are_timezone_aware_utc(engine: Engine) -> None:
    form_pk = record_ready_forms(engine, 1)[0]
    with session_scope(engine) as session:
        form = session.get_one(Form, form_pk)
        for moment in (form.created_at, form.updated_at, form.batch.created_at, form.scan_file.received_at):
            assert moment.tzinfo is not None and moment.utcoffset() == timezone.utc.utcoffset(None)
