"""The batch report on a real SQLite ledger: counts, measured review seconds, the keystroke baseline, hours saved,
the year projected, its files (csv, xlsx, png, md), the Prefect flow with its artifacts, the CLI — and no 個人番号
in any of it."""
from __future__ import annotations

import json
import zipfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sqlalchemy import Engine, update

from ledger import repo
from ledger.db import init_db, make_engine, session_scope
from ledger.models import FieldValue, Form, ReviewTime, Transition
from ledger.report_queries import FormFacts, reason_category
from ledger.stage_times import record_stage_time
from ledger.states import FormState, transition, utc_now
from ocr.result import FieldReading, ReadResult
from reporting.batch_report import build_report
from reporting.hours import batch_hours
from reporting.hours_config import HoursModelError, load_hours_model
from reporting.keystrokes import field_effort
from reporting.outputs import write_report_files

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "scans"
MY_NUMBER = "587900719010"  # a valid 個人番号 (check digit 0): must appear in no output
MY_NUMBER_GROUPED = "5879 0071 9010"


def truth_fields(name: str) -> tuple[str, dict[str, str | bool | None]]:
    truth = json.loads((SAMPLES / f"{name}.truth.json").read_text(encoding="utf-8"))
    return truth["form_id"], truth["fields"]


def read_result(page: int, form_id: str | None, values: dict, flagged: tuple[str, ...] = ()) -> ReadResult:
    fields = {name: FieldReading(value=value, confidence=0.6 if name in flagged else 0.99,
                                 status="review" if name in flagged else ("empty" if value in (None, "") else
                                                                          "accepted"),
                                 reasons=["low_confidence"] if name in flagged else [])
              for name, value in values.items()}
    return ReadResult(source="scan.pdf", page=page, form_id=form_id, seconds=0.4, fields=fields,
                      template_version="令和7年度" if form_id else None,
                      error=None if form_id else "帳票の種類を判別できません")


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    init_db(engine)
    return engine


@pytest.fixture
def batch_id(engine: Engine) -> int:
    """One batch: an ido_todoke entered; one reviewed (a corrected field, timed) and entered; one whose entry
    failed; a hojin_shinkoku READY; an unrecognised page quarantined; an ido_todoke still waiting for review. The 個人番号 sits in values, reasons and
    the label, some of it written past the ledger's own masking."""
    form_id, values = truth_fields("scan_0001")
    assert form_id == "ido_todoke" and values["my_number"] == MY_NUMBER
    hojin_id, hojin_values = truth_fields("scan_0007")
    assert hojin_id == "hojin_shinkoku"
    started = utc_now() - timedelta(minutes=10)
    with session_scope(engine) as session:
        batch = repo.create_batch(session, f"朝の束 {MY_NUMBER}", "inbox")
        scan = repo.register_scan_file(session, batch, "scan.pdf", "ab/scan.pdf", "a" * 64, 5)[0]
        plain = repo.record_read_result(session, batch, scan, read_result(1, form_id, values))
        reviewed = repo.record_read_result(session, batch, scan, read_result(
            2, form_id, {**values, "shitei_bango": "12755370"}, flagged=("shotokusha_name",)))
        failing = repo.record_read_result(session, batch, scan, read_result(
            3, form_id, {**values, "shitei_bango": "12755371"}))
        hojin = repo.record_read_result(session, batch, scan, read_result(4, hojin_id, hojin_values))
        unknown = repo.record_read_result(session, batch, scan, read_result(5, None, {}))
        waiting = repo.record_read_result(session, batch, scan, read_result(
            6, form_id, {**values, "shitei_bango": "12755372"}, flagged=("jusho", "nenzeigaku")))
        assert reviewed.state == FormState.NEEDS_REVIEW and unknown.state == FormState.QUARANTINED
        assert hojin.state == FormState.READY
        repo.finish_batch(session, batch.id)
        # The review page: the whole form on screen 40 s, a field inside that window (not counted twice), and a
        # second person's 7.5 s on the same field later.
        repo.correct_field(session, reviewed.id, "shotokusha_name", "前田康広", "sato")
        t0 = utc_now()
        session.add_all([
            ReviewTime(form_pk=reviewed.id, field_name=None, user_name="sato", mode="form",
                       started_at=t0, ended_at=t0 + timedelta(seconds=40), seconds=40.0),
            ReviewTime(form_pk=reviewed.id, field_name="shotokusha_name", user_name="sato", mode="form",
                       started_at=t0 + timedelta(seconds=5), ended_at=t0 + timedelta(seconds=17), seconds=12.0),
            ReviewTime(form_pk=reviewed.id, field_name="shotokusha_name", user_name="suzuki", mode="audit_sample",
                       started_at=t0 + timedelta(seconds=60), ended_at=t0 + timedelta(seconds=67.5), seconds=7.5),
        ])
        transition(session, reviewed, FormState.READY, actor="sato")
        record_stage_time(session, batch.id, "archive", started, started + timedelta(seconds=3), items=1)
        ids = (plain.id, reviewed.id, failing.id, hojin.id, unknown.id, waiting.id)
        batch_pk = batch.id
    with session_scope(engine) as session:
        claimed = repo.claim_ready_forms(session, "robot-1", 10, form_ids=["ido_todoke"])
        assert sorted(f.id for f in claimed) == sorted(ids[:3])
    with session_scope(engine) as session:
        repo.mark_entered(session, ids[0], "A01-000001", "robot-1")
        repo.mark_entered(session, ids[1], "A01-000002", "robot-1")
        repo.mark_entry_failed(session, ids[2], f"入力エラー: 個人番号 {MY_NUMBER} が不正です", "robot-1")
    with session_scope(engine) as session:  # past the ledger's masking, as a careless writer might
        session.execute(update(Transition).where(Transition.form_pk == ids[2],
                                                 Transition.to_state == FormState.ENTRY_FAILED)
                        .values(reason=f"入力エラー: 個人番号 {MY_NUMBER_GROUPED} が不正です"))
        session.execute(update(Form).where(Form.id == ids[4]).values(state_reason=f"読めません {MY_NUMBER}"))
        session.execute(update(FieldValue).where(FieldValue.form_pk == ids[1])
                        .values(reasons=json.dumps([f"checksum {MY_NUMBER}"])))
    return batch_pk


def test_keystroke_model_counts_keys_by_kind() -> None:
    model = load_hours_model().keystroke
    assert field_effort("digits", "shitei_bango", "12755379", model).keys == 8
    assert field_effort("amount", "nenzeigaku", "-598700", model).keys == 7
    assert field_effort("date_wareki", "seinengappi", "1997-05-14", model).keys == 6
    assert field_effort("checkbox", "chusho", True, model).keys == 1
    assert field_effort("checkbox", "chusho", False, model) is None
    assert field_effort("text", "jusho", "", model) is None
    # カナ: 2 keys per kana, the space 1, the width toggle 1.
    assert field_effort("kana", "shotokusha_kana", "マエダ ヤスヒロ", model).keys == 2 * 7 + 1 + 1
    # 前田 (まえだ) + 康弘 (やすひろ): 7 kana × 2, Space+Enter per segment, and in a name 2 candidate keys and an M each.
    name = field_effort("text", "shotokusha_name", "前田康弘", model)
    segments = 2
    assert name.keys == 7 * 2 + segments * 2 + segments * 2 and name.mental == 1 + segments
    plain = field_effort("text", "jusho", "前田康弘", model)  # not a name: no candidate choice
    assert plain.keys == 7 * 2 + segments * 2 and plain.mental == 1


def test_hours_model_overrides_merge_and_bad_files_are_refused(tmp_path: Path) -> None:
    override = tmp_path / "city.yaml"
    override.write_text("keystroke: {key_seconds: 0.4}\nforms: {kyuyo_hokoku: {yearly_volume: 90000}}\n"
                        "sources: {keystroke.key_seconds: 'timing study 住民税課'}\n", encoding="utf-8")
    config = load_hours_model(override)
    assert config.keystroke.key_seconds == 0.4 and config.keystroke.mental_seconds == 1.35
    assert config.forms["kyuyo_hokoku"].yearly_volume == 90000 and config.forms["ido_todoke"].yearly_volume == 55000
    assert config.sources["keystroke.key_seconds"] == "timing study 住民税課" and str(override) in config.source
    (tmp_path / "bad.yaml").write_text("keystroke: {key_seconds: -1}\n", encoding="utf-8")
    with pytest.raises(HoursModelError, match="key_seconds"):
        load_hours_model(tmp_path / "bad.yaml")


def test_forms_waiting_for_review_cost_the_default_until_something_is_measured() -> None:
    config = load_hours_model()
    waiting = FormFacts(form_pk=1, form_id="ido_todoke", state="NEEDS_REVIEW", values={"shitei_bango": "12755379"},
                        flagged_fields=3)
    result = batch_hours([waiting], config)
    assert not result.review_seconds_per_field_measured
    assert result.forms[0].pending_review_seconds == pytest.approx(3 * 10)
    assert result.forms[0].baseline_seconds == pytest.approx((1.35 + 9 * 0.28 + 20) * 1.5)


def test_reason_category_groups_reasons_without_their_details() -> None:
    assert reason_category("入力エラー: 生年月日が不正です") == "入力エラー"
    assert reason_category("受付番号 A01-000123 が照会で見つかりません") == "受付番号 A#-# が照会で見つかりません"


def test_report_counts_measures_and_saves_hours(engine: Engine, batch_id: int) -> None:
    config = load_hours_model()
    with session_scope(engine, write=False) as session:
        report = build_report(session, batch_id, config)
    facts, hours = report.facts, report.hours
    assert facts.summary.forms_total == 6
    by_kind = {row["様式 / form"]: row for row in report.forms_by_kind_and_state()}
    assert by_kind["異動届"]["入力済 ENTERED"] == 2 and by_kind["異動届"]["入力失敗 ENTRY_FAILED"] == 1
    assert by_kind["法人市民税申告書"]["入力待ち READY"] == 1 and by_kind["分類不能"]["隔離 QUARANTINED"] == 1
    assert by_kind["異動届"]["版 / version"] == "令和7年度", "the report says which template version was read"

    # Whole forms: 3 of the 5 read went through with no field flagged; the others were held by a name, an address
    # and an amount.
    through = {row["項目 / item"]: row["値 / value"] for row in report.forms_through_rows()}
    assert through["帳票の一括通過率 / forms straight through (no field flagged)"] == 60.0
    assert through["止めた項目の種類 / held back by field kind: text:person_name"] == 1
    assert through["止めた項目の種類 / held back by field kind: text:address"] == 1
    assert through["止めた項目の種類 / held back by field kind: amount"] == 1

    # Review seconds: the form's 40 s, the field inside it not again, the second person's 7.5 s.
    assert facts.review.seconds == pytest.approx(47.5)
    assert facts.review.fields_reviewed == 1 and facts.review.reviewers == 2 and facts.review.forms_reviewed == 1
    outcomes = {(row["結果 / outcome"], row["理由 / reason"]): row["件数 / count"] for row in report.entry_outcome_rows()}
    assert outcomes[("入力済 / entered", "")] == 2
    assert outcomes[("入力失敗 / failed", "入力エラー")] == 1
    assert sum(n for (outcome, _), n in outcomes.items() if outcome.startswith("隔離")) == 1

    per_form = {h.form_pk: h for h in hours.forms}
    entered, reviewed, failed, hojin, unknown, waiting = sorted(per_form.values(), key=lambda h: h.form_pk)
    # The baseline follows the keystroke model; a quarantined page adds none and costs its handling.
    filled = [name for name, value, _ in _ido_fields() if value not in (None, "", False)]
    assert len(filled) == 27  # the committed 異動届 scan_0001 on the cities' common sheet
    assert entered.fields_keyed == len(filled) and entered.keys > 250
    expected_keying = sum(effort.mental * 1.35 + (effort.keys + 1) * 0.28 for effort in (
        field_effort(kind, name, value, config.keystroke) for name, value, kind in _ido_fields()) if effort)
    assert entered.keying_seconds == pytest.approx(expected_keying)
    assert entered.baseline_seconds == pytest.approx((expected_keying + 20) * 1.5)
    assert reviewed.review_seconds == pytest.approx(47.5) and failed.exception_seconds == 60.0
    assert unknown.baseline_seconds == 0 and unknown.exception_seconds == 60.0
    assert hojin.baseline_seconds > 0 and hojin.human_seconds == 0
    # Nobody has reviewed the waiting form: its 2 flagged fields at this batch's measured 47.5 s per field.
    assert hours.review_seconds_per_field_measured and hours.review_seconds_per_field == pytest.approx(47.5)
    assert waiting.pending_review_seconds == pytest.approx(95.0) and waiting.review_seconds == 0
    total_baseline = sum(h.baseline_seconds for h in hours.forms)
    assert hours.saved_seconds == pytest.approx(total_baseline - 47.5 - 95 - 60 - 60)
    assert hours.totals["entered_saved_seconds"] == pytest.approx(
        entered.baseline_seconds + reviewed.baseline_seconds - 47.5)

    ido = next(p for p in hours.projections if p.form_id == "ido_todoke")
    ido_forms = (entered, reviewed, failed, waiting)
    assert ido.saved_per_form == pytest.approx(sum(h.saved_seconds for h in ido_forms) / 4)
    assert ido.hours_per_year == pytest.approx(55000 * ido.saved_per_form / 3600)
    kyuyo = next(p for p in hours.projections if p.form_id == "kyuyo_hokoku")
    assert kyuyo.hours_per_year is None
    assert hours.chiba_per_form_achieved == pytest.approx(602 * 3600 / 55000)

    stages = {span.stage: span for span in facts.stages}
    assert list(stages) == ["archive", "intake", "review", "enter"]
    assert stages["archive"].wall_seconds == pytest.approx(3.0) and stages["archive"].source == "stage_times"
    assert stages["review"].wall_seconds == pytest.approx(67.5) and stages["enter"].items == 3
    assert stages["intake"].items == 6
    text = "\n".join(report.headline())
    assert "602" in text and "1,283" in text and "K=0.28s" in text and "55,000" in text


def _ido_fields() -> list[tuple[str, object, str]]:
    from ocr.templates import load_template

    _, values = truth_fields("scan_0001")
    kinds = {spec.name: spec.kind for spec in load_template("ido_todoke").fields}
    return [(name, value, kinds[name]) for name, value in values.items()]


def _assert_no_my_number(blob: str | bytes, where: str) -> None:
    text = blob.decode("utf-8", errors="replace") if isinstance(blob, bytes) else blob
    for form in (MY_NUMBER, MY_NUMBER_GROUPED, MY_NUMBER[:11]):
        assert form not in text, f"個人番号 in {where}"


def test_report_files_hold_every_section_and_no_my_number(engine: Engine, batch_id: int, tmp_path: Path) -> None:
    with session_scope(engine, write=False) as session:
        report = build_report(session, batch_id, load_hours_model())
    files = write_report_files(report, tmp_path / "reports")
    assert files.xlsx.name == f"{batch_id}.xlsx" and files.csv.name == f"{batch_id}.csv"

    sheets = pd.read_excel(files.xlsx, sheet_name=None)
    assert {"概要 summary", "グラフ chart", "前提 assumptions", "年間見込み year", "工程時間 stages"} <= set(sheets)
    summary = dict(zip(sheets["概要 summary"]["項目 / item"], sheets["概要 summary"]["値 / value"]))
    assert float(summary["削減時間 / hours saved"]) == pytest.approx(round(report.hours.saved_seconds / 3600, 2))
    assumptions = sheets["前提 assumptions"]
    assert "Card, Moran & Newell" in " ".join(assumptions["出典 / source"].fillna("").map(str))
    csv_text = files.csv.read_text(encoding="utf-8-sig")
    assert "# 年間見込み year" in csv_text and "千葉市 実績" in csv_text and "602" in csv_text

    with Image.open(files.chart) as chart:
        assert chart.format == "PNG" and chart.size[0] > 800
        assert len(np.unique(np.asarray(chart.convert("L")))) > 20  # drawn, not blank

    _assert_no_my_number(files.csv.read_bytes(), "csv")
    _assert_no_my_number(files.markdown.read_bytes(), "markdown")
    _assert_no_my_number(files.chart.read_bytes(), "chart")
    with zipfile.ZipFile(files.xlsx) as workbook:
        for name in workbook.namelist():
            _assert_no_my_number(workbook.read(name), f"xlsx {name}")
    assert MY_NUMBER[-4:] in csv_text  # the label is there, masked to its last four digits


def test_report_flow_publishes_artifacts_and_the_cli_prints_the_hours(
        prefect_server, engine: Engine, batch_id: int, tmp_path: Path, monkeypatch, capsys) -> None:
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.report import report_flow
    from taxintake.cli import main

    ledger_url = str(engine.url)
    outcome = report_flow(batch_id, ledger_url=ledger_url, reports_dir=str(tmp_path / "flow"))
    assert Path(outcome.xlsx).exists() and Path(outcome.chart).exists() and outcome.projected_hours_per_year > 0

    async def artifacts():
        async with get_client() as client:
            return await client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(
                any_=[f"batch-{batch_id}-report", f"batch-{batch_id}-report-summary"])))

    published = asyncio.run(artifacts())
    assert {a.type for a in published} == {"markdown", "table"}
    for artifact in published:
        data = artifact.data
        if artifact.type == "table":  # stored as JSON text with \u escapes
            data = json.dumps(json.loads(data) if isinstance(data, str) else data, ensure_ascii=False)
        _assert_no_my_number(data, f"artifact {artifact.key}")
        assert "削減時間" in data

    monkeypatch.setenv("TAXINTAKE_LEDGER_URL", ledger_url)
    monkeypatch.setenv("TAXINTAKE_HOME", str(tmp_path))
    assert main(["report", str(batch_id)]) == 0
    printed = capsys.readouterr().out
    assert "年間見込み" in printed and "千葉市" in printed and (tmp_path / "reports" / f"{batch_id}.xlsx").exists()
    _assert_no_my_number(printed, "CLI output")
    assert main(["report", "999"]) == 1
    assert "999" in capsys.readouterr().out
