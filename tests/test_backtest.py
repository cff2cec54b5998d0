"""The hours model back-tested against Chiba's pilot on generated 異動届: every field checked by a person, as in the
pilot, set beside the pilot's 39 s a form; the figure printed in the report (and the README), the year as a range."""
from __future__ import annotations

import random
import re
from datetime import timedelta
from pathlib import Path

import pytest
from faker import Faker

from ledger import repo
from ledger.db import init_db, make_engine, session_scope
from ledger.models import ReviewTime
from ledger.report_queries import FormFacts
from ledger.states import FormState, utc_now
from ocr.result import FieldReading, ReadResult
from ocr.templates import load_template
from reporting.batch_report import build_report
from reporting.hours import batch_hours
from reporting.hours_config import load_hours_model
from samples.fake_data import ido_todoke
from samples.generate import _as_contract_values

README = Path(__file__).resolve().parent.parent / "README.md"
BACKTEST_SEED, BACKTEST_FORMS = 4242, 60


def generated_ido_values(count: int, seed: int) -> list[dict[str, object]]:
    template = load_template("ido_todoke")
    faker = Faker("ja_JP")
    faker.seed_instance(seed)
    rng = random.Random(seed)
    return [_as_contract_values(template, ido_todoke(rng, faker).truth) for _ in range(count)]


def test_the_backtest_checks_every_keyed_field_at_the_default_and_compares_with_chiba() -> None:
    config = load_hours_model()
    facts = [FormFacts(form_pk=i, form_id="ido_todoke", state="ENTERED", values=values)
             for i, values in enumerate(generated_ido_values(BACKTEST_FORMS, BACKTEST_SEED))]
    result = batch_hours(facts, config)
    backtest = result.backtest
    assert backtest is not None and backtest.forms == BACKTEST_FORMS
    assert not backtest.check_seconds_measured
    assert backtest.check_seconds_per_field == config.exceptions.pending_review_seconds_per_field
    keyed = sum(h.fields_keyed for h in result.forms) / len(result.forms)
    baseline = sum(h.baseline_seconds for h in result.forms) / len(result.forms)
    assert backtest.fields_per_form == pytest.approx(keyed)
    assert backtest.saved_per_form == pytest.approx(baseline - keyed * backtest.check_seconds_per_field)
    assert backtest.chiba_per_form == pytest.approx(602 * 3600 / 55000)
    # At the break-even check time the model gives exactly the pilot's figure; the ratio reproduces it too.
    assert baseline - keyed * backtest.break_even_check_seconds == pytest.approx(backtest.chiba_per_form)
    assert backtest.baseline_ratio * baseline - backtest.human_per_form == pytest.approx(backtest.chiba_per_form)
    # Nobody reviewed anything: the batch's own saving is the whole baseline; the year's range runs from the model as
    # it stands to the model with its baseline corrected by the back-test's ratio.
    ido = next(p for p in result.projections if p.form_id == "ido_todoke")
    low, high = ido.hours_per_year_range
    corrected = 55000 * backtest.baseline_ratio * baseline / 3600
    assert low == pytest.approx(min(ido.hours_per_year, corrected))
    assert high == pytest.approx(max(ido.hours_per_year, corrected))
    print(f"back-test on {BACKTEST_FORMS} generated 異動届 (seed {BACKTEST_SEED}): {keyed:.1f} fields, baseline "
          f"{baseline:.1f} s, model under the pilot's conditions {backtest.saved_per_form:.1f} s vs Chiba "
          f"{backtest.chiba_per_form:.1f} s ({backtest.relative_gap:+.1%}); break-even "
          f"{backtest.break_even_check_seconds:.1f} s a field")


def test_the_readme_states_the_figure_the_model_gives() -> None:
    """The README's back-test figure is the one the model computes now: a change to the model or the form that moves
    it must update the README (and its explanation of the gap) with it."""
    stated = re.search(r"<!-- backtest -->.*?\*\*(-?[0-9.]+) s\*\*", README.read_text(encoding="utf-8"), re.S)
    assert stated, "README lacks the back-test figure"
    facts = [FormFacts(form_pk=i, form_id="ido_todoke", state="ENTERED", values=values)
             for i, values in enumerate(generated_ido_values(BACKTEST_FORMS, BACKTEST_SEED))]
    assert batch_hours(facts, load_hours_model()).backtest.saved_per_form == pytest.approx(float(stated[1]), abs=0.5)


def _accepted(values: dict[str, object], page: int) -> ReadResult:
    return ReadResult(source="ido.pdf", page=page, form_id="ido_todoke", seconds=0.4, fields={
        name: FieldReading(value=value, confidence=0.99, status="empty" if value in (None, "") else "accepted",
                           reasons=[]) for name, value in values.items()})


def test_the_report_prints_the_backtest_beside_the_batch_and_uses_measured_check_seconds(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    init_db(engine)
    generated = generated_ido_values(6, 4343)
    with session_scope(engine) as session:
        batch = repo.create_batch(session, "後方検証", "inbox")
        scan = repo.register_scan_file(session, batch, "ido.pdf", "ab/ido.pdf", "b" * 64, 6)[0]
        forms = [repo.record_read_result(session, batch, scan, _accepted(values, page))
                 for page, values in enumerate(generated, start=1)]
        assert all(form.state == FormState.READY for form in forms)
        repo.finish_batch(session, batch.id)
        batch_pk = batch.id
    config = load_hours_model()
    with session_scope(engine) as session:
        report = build_report(session, batch_pk, config)
    headline = "\n".join(report.headline())
    backtest = report.hours.backtest
    assert backtest.forms == 6 and not backtest.check_seconds_measured
    assert f"{backtest.saved_per_form:.0f} s a form (Chiba measured 39 s)" in headline
    assert "実証と同じく全項目を目視確認する運用" in headline and "千葉市の実測 39 秒" in headline
    assert "後方検証の誤差による幅" in headline
    sections = dict(report.sections())
    assert any("実証の条件でのモデル" in row["項目 / item"] for row in sections["後方検証 back-test"])

    # A person reviews a form for 30 s over 2 flagged fields: 15 s a field is what the back-test now checks at.
    with session_scope(engine) as session:
        form = forms[0]
        repo.correct_field(session, form.id, "jusho", generated[0]["jusho"], "sato")
        repo.correct_field(session, form.id, "shotokusha_name", generated[0]["shotokusha_name"], "sato")
        t0 = utc_now()
        session.add(ReviewTime(form_pk=form.id, field_name=None, user_name="sato", mode="form", started_at=t0,
                               ended_at=t0 + timedelta(seconds=30), seconds=30.0))
    with session_scope(engine) as session:
        measured = build_report(session, batch_pk, config).hours.backtest
    assert measured.check_seconds_measured and measured.check_seconds_per_field == pytest.approx(15.0)
    assert measured.saved_per_form == pytest.approx(backtest.saved_per_form - 5.0 * backtest.fields_per_form)


def test_a_batch_without_the_pilots_kind_says_so() -> None:
    config = load_hours_model()
    result = batch_hours([FormFacts(form_pk=1, form_id="hojin_shinkoku", state="ENTERED",
                                    values={"hojin_bango": "1234567890123"})], config)
    assert result.backtest is None
    assert result.projected_hours_per_year_range is None
