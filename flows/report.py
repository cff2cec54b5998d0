"""`report`: one batch's report from the ledger: Prefect table and markdown artifacts, and
`reports/<batch>.csv`, `.xlsx`, `.md` and a `.png` chart of where the time went."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from ledger.db import init_db, make_engine, session_scope
from reporting.batch_report import build_report
from reporting.hours_config import load_hours_model
from reporting.outputs import render_markdown, safe_rows, write_report_files


@dataclass
class ReportOutcome:
    batch_id: int
    saved_hours: float
    projected_hours_per_year: float
    csv: str
    xlsx: str
    markdown: str
    chart: str
    headline: list[str] = field(default_factory=list)
    summary_rows: list[dict] = field(default_factory=list)
    markdown_text: str = ""
    trust_rows: list[dict] = field(default_factory=list)
    trust_warnings: list[str] = field(default_factory=list)


@task(cache_policy=NO_CACHE)
def make_report(batch_id: int, ledger_url: str, reports_dir: str, hours_model: str | None) -> ReportOutcome:
    """Read the batch from the ledger, compute the hours and write the report files."""
    config = load_hours_model(hours_model)
    engine = make_engine(ledger_url)
    init_db(engine)
    with session_scope(engine, write=False) as session:
        report = build_report(session, batch_id, config)
    files = write_report_files(report, Path(reports_dir))
    return ReportOutcome(batch_id=batch_id, saved_hours=report.hours.saved_seconds / 3600,
                         projected_hours_per_year=report.hours.projected_hours_per_year,
                         csv=str(files.csv), xlsx=str(files.xlsx), markdown=str(files.markdown),
                         chart=str(files.chart), headline=report.headline(),
                         summary_rows=safe_rows(report.summary_rows()),
                         markdown_text=render_markdown(report), trust_rows=safe_rows(report.trust_rows()),
                         trust_warnings=report.trust_warnings())


@flow(name="report", log_prints=False)
def report_flow(batch_id: int, ledger_url: str | None = None, reports_dir: str | None = None,
                hours_model: str | None = None) -> ReportOutcome:
    """Defaults: the ledger and `reports/` folder of the settings (TAXINTAKE_HOME), the bundled hours model
    overridden by TAXINTAKE_HOURS_MODEL or `hours_model`."""
    from taxintake.config import load_settings

    settings = load_settings()
    outcome = make_report(batch_id, ledger_url or settings.ledger_url, reports_dir or str(settings.reports),
                          hours_model)
    key = f"batch-{batch_id}-report"
    create_table_artifact(table=outcome.summary_rows, key=key + "-summary",
                          description=f"バッチ {batch_id} の概要と削減時間 / batch {batch_id} summary and hours saved")
    create_markdown_artifact(markdown=outcome.markdown_text, key=key,
                             description=f"バッチ {batch_id} 報告 / batch {batch_id} report")
    if outcome.trust_rows:
        create_table_artifact(table=outcome.trust_rows, key=key + "-trust",
                              description=f"バッチ {batch_id} 自動確定項目の誤り率（監査抽出）/ accepted-field error "
                                          "from audit samples" + (" ⚠ 目標超過 / ABOVE TARGET"
                                                                  if outcome.trust_warnings else ""))
    logger = get_run_logger()
    for line in outcome.headline:
        logger.info(line)
    for line in outcome.trust_warnings:
        logger.warning(line.strip())
    logger.info("報告ファイル / report files: %s, %s, %s", outcome.xlsx, outcome.csv, outcome.chart)
    return outcome
