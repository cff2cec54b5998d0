"""Audit sampling, measured trust, the re-fit's rules and the labelled export, without OCR: a committed scan's
truth stands for its reading (a wrong amount planted where a test needs one), recorded in a real SQLite ledger."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from sqlalchemy import func, select

from flows.archive import archive_scan
from ledger import repo, review_repo
from ledger.audit import verify_audit
from ledger.db import init_db, make_engine, session_scope
from ledger.models import AuditEntry, AuditSample, FieldValue, Form, FormCalibration, ReadEvidence
from ledger.states import FormState
from ledger.trust import (AUDIT_SAMPLE_REASON, AuditSampler, labelled_readings, parse_audit_share,
                          sampler_from_settings, trust_by_kind)
from ocr import calibration
from ocr.refit import (NOTHING_ACCEPTED, LabelledReading, capped_below, refit_calibration, score_cut,
                       wilson_interval)
from ocr.result import FieldReading, ReadResult
from ocr.templates import load_template
from review import blind
from reporting.batch_report import build_report
from reporting.hours_config import load_hours_model
from reporting.outputs import render_markdown

SCAN = Path(__file__).resolve().parent.parent / "samples" / "scans" / "scan_0010.jpg"
TRUTH = json.loads(SCAN.with_name("scan_0010.truth.json").read_text(encoding="utf-8"))
KINDS = {spec.name: spec.kind for spec in load_template("kyuyo_hokoku").fields}
WRONG_FIELD, WRONG_VALUE = "shakai_hoken_gaku", "1386647"  # read 3 for 3 at a high score


# ---- statistics and the re-fit's rules ---------------------------------------------------------------------------

def test_wilson_interval_matches_the_textbook_values():
    low, high = wilson_interval(1, 100)
    assert low == pytest.approx(0.00177, abs=1e-5) and high == pytest.approx(0.05449, abs=1e-5)
    assert wilson_interval(0, 50)[0] == 0.0 and wilson_interval(0, 50)[1] == pytest.approx(0.0714, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def _readings(kind: str, n: int, wrong_scores: list[float], seed: int = 1, low: float = 0.9) -> list[LabelledReading]:
    rng = random.Random(seed)
    right = [LabelledReading(kind, rng.uniform(low, 1.0), True, True) for _ in range(n - len(wrong_scores))]
    return right + [LabelledReading(kind, s, True, False) for s in wrong_scores]


def test_a_threshold_is_never_loosened_on_too_little_evidence():
    # 300 amounts, all right from 0.90 up: the fit would accept from 0.90, far below the hand-picked 0.97 ...
    fitted, decisions = refit_calibration(None, _readings("amount", 300, []), version="t1", min_samples=100)
    decision = {d.kind: d for d in decisions}["amount"]
    assert decision.decision == "kept (too little evidence to loosen)"
    assert decision.new_cut == pytest.approx(0.97)
    # ... and the cut holds exactly, inside the isotonic fit's flat top block too.
    assert calibration.probability_right("amount", 0.9699, calibration=fitted) < \
        calibration.accept_threshold("amount", calibration=fitted)
    assert calibration.probability_right("amount", 0.9701, calibration=fitted) >= \
        calibration.accept_threshold("amount", calibration=fitted)
    # 5,000 right readings are enough to show 0.1% at 95% (Wilson upper bound 0.077%): then it loosens.
    _, decisions = refit_calibration(None, _readings("amount", 5000, []), version="t2", min_samples=100)
    loosened = {d.kind: d for d in decisions}["amount"]
    assert loosened.decision == "loosened" and loosened.new_cut < 0.92


def test_errors_above_the_cut_tighten_it_past_them():
    # One error in ~600 above the old cut: above target (0.17%) but not at 95% — the cut rises past it.
    readings = _readings("amount", 2000, [0.975])
    fitted, decisions = refit_calibration(None, readings, version="t3", min_samples=100)
    decision = {d.kind: d for d in decisions}["amount"]
    assert decision.decision == "tightened" and decision.error_above_old > 0.001
    assert decision.new_cut > 0.975
    threshold = calibration.accept_threshold("amount", calibration=fitted)
    assert calibration.probability_right("amount", 0.975, calibration=fitted) < threshold
    assert fitted["kinds"]["amount"]["accepted_wrong"] == 0 and fitted["kinds"]["amount"]["accepted"] > 0


def test_errors_above_target_at_95_percent_stop_acceptance_until_a_cut_is_proven():
    # Three errors among ~120 above the old cut: the Wilson lower bound (0.8%) is above 0.1%. No cut can be shown
    # to meet 0.1% on 400 readings, so nothing of the kind is accepted on its score any more.
    readings = _readings("amount", 400, [0.975, 0.982, 0.9945])
    fitted, decisions = refit_calibration(None, readings, version="t5", min_samples=100)
    decision = {d.kind: d for d in decisions}["amount"]
    assert decision.decision == "tightened (none accepted until evidence)" and decision.new_cut is None
    assert calibration.probability_right("amount", 1.0, calibration=fitted) < \
        calibration.accept_threshold("amount", calibration=fitted)
    # With 4,000 readings and the errors just above the old cut, a higher cut is proven within a 0.5% target.
    many = _readings("amount", 4000, [0.971 + i * 0.0003 for i in range(15)])
    fitted, decisions = refit_calibration(None, many, version="t6", min_samples=100,
                                          target_error_by_kind={"amount": 0.005})
    decision = {d.kind: d for d in decisions}["amount"]
    assert decision.decision == "tightened" and decision.new_cut > 0.971 + 14 * 0.0003
    above = [r for r in many if r.score >= decision.new_cut]
    assert all(r.right for r in above) and wilson_interval(0, len(above))[1] <= 0.005


def test_an_error_at_the_top_score_means_nothing_of_the_kind_is_accepted():
    readings = _readings("phone", 150, [1.0, 1.0], low=0.99)
    fitted, decisions = refit_calibration(None, readings, version="t4", min_samples=100)
    assert {d.kind: d for d in decisions}["phone"].decision == "tightened (none accepted until evidence)"
    assert fitted["kinds"]["phone"]["threshold"] == pytest.approx(NOTHING_ACCEPTED)
    assert calibration.probability_right("phone", 1.0, calibration=fitted) < \
        calibration.accept_threshold("phone", calibration=fitted)


def test_too_few_readings_keep_the_previous_calibration_and_small_kinds_pool_with_their_group():
    previous, _ = refit_calibration(None, _readings("amount", 400, [0.99]), version="p", min_samples=100)
    readings = _readings("amount", 30, [0.999], seed=2) + _readings("digits", 20, [], seed=3)
    fitted, decisions = refit_calibration(previous, readings, version="n", min_samples=100)
    by_kind = {d.kind: d for d in decisions}
    assert by_kind["amount"].decision.startswith("kept (too few")
    assert fitted["kinds"]["amount"] == previous["kinds"]["amount"]  # carried over with its model
    assert fitted["models"][fitted["kinds"]["amount"]["model"]] == previous["models"][previous["kinds"]["amount"]["model"]]
    pooled, _ = refit_calibration(None, readings + _readings("phone", 80, [], seed=4), version="g", min_samples=100)
    assert pooled["kinds"]["digits"]["pool"] == "group:numeric" and pooled["kinds"]["amount"]["pool"] == "group:numeric"
    assert pooled["based_on"] == "uncalibrated" and fitted["based_on"] == "p"


def test_score_cut_and_cap_agree_with_interpolation():
    model = {"x": [0.0, 0.5, 0.9, 1.0], "y": [0.0, 0.8, 0.8, 1.0]}
    assert score_cut(model, 0.8) == pytest.approx(0.5)
    assert score_cut(model, 0.9) == pytest.approx(0.95)
    assert score_cut(model, 1.01) is None
    capped, threshold = capped_below(model, 0.7)
    assert calibration.interpolate(capped, 0.6999) < threshold <= calibration.interpolate(capped, 0.7)
    assert all(b >= a for a, b in zip(capped["y"], capped["y"][1:]))


# ---- settings and loading ----------------------------------------------------------------------------------------

def test_audit_share_settings_and_draws(monkeypatch):
    assert parse_audit_share("0.05,amount=0.2") == (0.05, {"amount": 0.2})
    assert parse_audit_share(None) == (0.02, {})
    with pytest.raises(ValueError):
        AuditSampler(share=1.5)
    with pytest.raises(ValueError):
        AuditSampler(share=0.02, form_share=1.5)
    # Each field is drawn with its share (2%), gathered in a tenth of the forms: 2,000 forms of 5 fields.
    sampler = AuditSampler(0.02, rng=random.Random(7))
    assert sampler.form_share == 0.1
    forms_drawn, fields_drawn = 0, 0
    for _ in range(2_000):
        if sampler.draw_form():
            forms_drawn += 1
            fields_drawn += sum(sampler.draw("text") for _ in range(5))
    assert 140 <= fields_drawn <= 260  # 2% of 10,000 fields, ± 4 standard deviations
    assert 150 <= forms_drawn <= 250  # 10% of 2,000 forms, ± 4 standard deviations
    assert not any(AuditSampler(0.0, rng=random.Random(1)).draw("text") for _ in range(1000))
    # A share above the form share raises the form share: a share of 1 draws every field of every form.
    every = AuditSampler(0.0, {"amount": 1.0}, rng=random.Random(2))
    assert every.form_share == 1.0 and all(every.draw_form() and every.draw("amount") for _ in range(100))
    monkeypatch.setenv("TAXINTAKE_AUDIT_SHARE", "0.02")
    monkeypatch.setenv("TAXINTAKE_AUDIT_FORM_SHARE", "0.25")
    assert sampler_from_settings().form_share == 0.25


def test_the_reader_uses_the_calibration_the_environment_names(tmp_path, monkeypatch):
    fitted, _ = refit_calibration(None, _readings("amount", 150, []), version="cal-0042", min_samples=100)
    path = tmp_path / "cal-0042.json"
    path.write_text(json.dumps(fitted), encoding="utf-8")
    monkeypatch.setenv(calibration.CALIBRATION_ENV, str(path))
    assert calibration.calibration_version(calibration.load_calibration()) == "cal-0042"
    monkeypatch.setenv(calibration.CALIBRATION_ENV, "none")
    assert calibration.load_calibration() is None
    assert calibration.calibration_version(None) == "uncalibrated"
    assert calibration.calibration_version({"kinds": {}}).startswith("base-")


# ---- audit samples in the ledger, the report, the export ---------------------------------------------------------

def _reading_of_scan() -> ReadResult:
    fields = {}
    for name, value in TRUTH["fields"].items():
        if value is None:
            fields[name] = FieldReading(value=None, confidence=0.99, status="empty")
            continue
        read = WRONG_VALUE if name == WRONG_FIELD else value
        fields[name] = FieldReading(value=read, confidence=0.995, status="accepted", engine_score=0.995)
    return ReadResult(source=SCAN.name, page=1, form_id="kyuyo_hokoku", template_version=TRUTH["template_version"],
                      seconds=0.1, fields=fields)


@pytest.fixture
def ledger(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    init_db(engine)
    archived = archive_scan(SCAN, tmp_path / "archive")
    with session_scope(engine) as session:
        batch = repo.create_batch(session, "trust", str(SCAN.parent))
        scan_file, _ = repo.register_scan_file(session, batch, SCAN.name, archived.relative_path, archived.sha256, 1)
        sampler = AuditSampler(0.0, {"amount": 1.0}, rng=random.Random(3))
        form = repo.record_read_result(session, batch, scan_file, _reading_of_scan(), audit_sampler=sampler,
                                       engine="rapidocr", calibration_version="uncalibrated")
        form_pk, batch_id = form.id, batch.id
    return engine, form_pk, batch_id, tmp_path


def test_accepted_fields_drawn_go_blind_to_review_and_their_outcome_measures_the_error(ledger):
    engine, form_pk, batch_id, _ = ledger
    amounts = sorted(n for n, v in TRUTH["fields"].items() if v is not None and KINDS[n] == "amount")
    with session_scope(engine) as session:
        form = session.get_one(Form, form_pk)
        assert form.state == FormState.NEEDS_REVIEW and "audit_sample" in form.state_reason
        drawn = {f.name for f in form.fields if AUDIT_SAMPLE_REASON in review_repo.reasons_of(f)}
        assert drawn == set(amounts) and all(f.status == "review" for f in form.fields if f.name in drawn)
        assert all(f.status == "accepted" for f in form.fields if f.name not in drawn and f.value is not None)
        assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "audit_sample.draw")) \
            == len(amounts)
        evidence = {e.field_name: e for e in session.scalars(select(ReadEvidence).where(ReadEvidence.form_pk == form_pk))}
        assert evidence["gensen_choshu_zeigaku"].kind == "amount" and evidence["gensen_choshu_zeigaku"].passed_checks
        assert session.get_one(FormCalibration, form_pk).calibration_version == "uncalibrated"
        # Blind entries: people type what is on paper. The planted misreading needs a second person.
        for name in amounts:
            for person in ("suzuki", "tanaka"):
                field_row = session.scalars(select(FieldValue).where(FieldValue.form_pk == form_pk,
                                                                     FieldValue.name == name)).one()
                entries = review_repo.blind_entries(session, form_pk).get(name, [])
                decision, ready = blind.enter_blind(session, form_pk, name, person, TRUTH["fields"][name],
                                                    json.loads(field_row.value), review_repo.reasons_of(field_row),
                                                    entries)
                if decision.accepted:
                    break
                assert session.get_one(Form, form_pk).state == FormState.NEEDS_REVIEW  # held back before entry
        assert ready and session.get_one(Form, form_pk).state == FormState.READY
        outcomes = dict(session.execute(select(AuditSample.field_name, AuditSample.outcome)).tuples().all())
        assert outcomes.pop(WRONG_FIELD) == "disagreed" and set(outcomes.values()) == {"agreed"}
        agreed_on = session.scalars(select(FieldValue).where(FieldValue.form_pk == form_pk,
                                                             FieldValue.name == WRONG_FIELD)).one()
        assert json.loads(agreed_on.corrected_value) == TRUTH["fields"][WRONG_FIELD]  # proceeds on the agreed value
        actions = [a for (a,) in session.execute(select(AuditEntry.action).where(
            AuditEntry.action.startswith("audit_sample.")))]
        assert actions.count("audit_sample.disagreed") == 1 and actions.count("audit_sample.agreed") == len(amounts) - 1
        assert verify_audit(session) == []

        (trust,) = trust_by_kind(session, batch_id=batch_id)
        assert (trust.kind, trust.settled, trust.disagreed) == ("amount", len(amounts), 1)
        assert trust.low == pytest.approx(wilson_interval(1, len(amounts))[0]) and trust.warning
        labelled = labelled_readings(session)
        assert len(labelled) == len(amounts) and all(r.audited and r.weight == 1.0 for r in labelled)
        assert sum(not r.right for r in labelled) == 1

        report = build_report(session, batch_id, load_hours_model(None))
    markdown = render_markdown(report)
    row = next(r for r in report.trust_rows() if r["種類 / kind"] == "amount")
    low, high = wilson_interval(1, len(amounts))
    assert row["推定誤り率 / estimated error %"] == f"{100 / len(amounts):.2f}"
    assert row["95%区間 / Wilson 95% %"] == f"{low * 100:.2f} – {high * 100:.2f}"
    assert row["目標 / target %"] == "0.10" and "above target" in row["判定 / verdict"]
    assert "## 信頼度 trust" in markdown and markdown.splitlines()[2].startswith("> ⚠ 警告 / WARNING")
    assert any("⚠" in line and "amount" in line for line in report.headline())


def test_the_labelled_export_keeps_crops_and_agreed_values_within_retention_and_no_personal_numbers(ledger):
    from taxintake.commands.export_labelled import export_labelled

    engine, form_pk, _, tmp_path = ledger
    with session_scope(engine) as session:
        form = session.get_one(Form, form_pk)
        for field_row in list(form.fields):
            if field_row.status == "review":
                review_repo.resolve_field(session, form_pk, field_row.name, TRUTH["fields"][field_row.name], "sato")
        # A supervisor also corrected a 個人番号 the reader accepted: it must never leave.
        review_repo.correct_field(session, form_pk, "my_number", TRUTH["fields"]["my_number"], "sato")
    out = tmp_path / "labelled"
    counts = export_labelled(engine, tmp_path / "archive", tmp_path / "cache", out, retention_days=365)
    labels = [json.loads(line) for line in (out / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    amounts = [n for n, v in TRUTH["fields"].items() if v is not None and KINDS[n] == "amount"]
    assert counts.written == len(labels) == len(amounts) and counts.personal == 1
    wrong = next(label for label in labels if label["field"] == WRONG_FIELD)
    assert (wrong["label"], wrong["read"], wrong["right"], wrong["source"]) == (
        TRUTH["fields"][WRONG_FIELD], WRONG_VALUE, False, "audit_sample")
    assert all((out / label["image"]).stat().st_size > 200 for label in labels)
    assert sorted(p.name for p in out.iterdir()) == sorted([*(label["image"] for label in labels), "labels.jsonl"])
    text = (out / "labels.jsonl").read_text(encoding="utf-8")
    assert TRUTH["fields"]["my_number"] not in text
    expired = export_labelled(engine, tmp_path / "archive", tmp_path / "cache", tmp_path / "old", retention_days=0)
    assert expired.written == 0 and expired.expired == len(amounts)



def test_the_export_command_needs_the_retention_period(ledger, monkeypatch, capsys):
    from taxintake.cli import main

    _, _, _, tmp_path = ledger
    monkeypatch.setenv("TAXINTAKE_HOME", str(tmp_path))
    monkeypatch.delenv("TAXINTAKE_RETENTION_DAYS", raising=False)
    assert main(["export-labelled", "--out", str(tmp_path / "set")]) == 2
    assert "TAXINTAKE_RETENTION_DAYS" in capsys.readouterr().out and not (tmp_path / "set").exists()
    monkeypatch.setenv("TAXINTAKE_RETENTION_DAYS", "30")
    assert main(["export-labelled", "--out", str(tmp_path / "set")]) == 0
    assert "labelled set: 0 crops" in capsys.readouterr().out  # nothing reviewed yet: the drawn amounts are pending
