"""`taxintake report [BATCH]`: a batch's report (hours saved with its assumptions) and its files in reports/."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("batch", type=int, nargs="?", help="バッチ番号 / batch id (default: the latest)")
    parser.add_argument("--out", type=Path, default=None,
                        help="報告ファイルの出力先 / folder for the report files (default: $TAXINTAKE_HOME/reports)")
    parser.add_argument("--hours-model", type=Path, default=None,
                        help="削減時間モデルの設定 YAML（既定値を上書き）/ hours-model YAML overriding the defaults "
                             "(also TAXINTAKE_HOURS_MODEL)")
    parser.add_argument("--prefect", action="store_true",
                        help="Prefect のフロー実行として作り、成果物（artifacts）も残す / run as a Prefect flow run "
                             "with table and markdown artifacts")


def run(args: argparse.Namespace) -> int:
    from ledger import repo
    from ledger.db import make_engine, session_scope
    from reporting.hours_config import HoursModelError
    from taxintake.config import load_settings

    settings = load_settings()
    batch_id = args.batch
    if batch_id is None:
        with session_scope(make_engine(settings.ledger_url), write=False) as session:
            batch_id = repo.latest_batch_id(session)
        if batch_id is None:
            print("バッチがありません / no batches in the ledger")
            return 1
    reports_dir = args.out or settings.reports
    hours_model = str(args.hours_model) if args.hours_model else None
    try:
        if args.prefect:
            from flows.report import report_flow

            outcome = report_flow(batch_id, ledger_url=settings.ledger_url, reports_dir=str(reports_dir),
                                  hours_model=hours_model)
            headline, files = outcome.headline, (outcome.xlsx, outcome.csv, outcome.chart, outcome.markdown)
        else:
            headline, files = make_report_files(settings.ledger_url, batch_id, reports_dir, hours_model)
    except LookupError as error:
        print(f"{error.args[0] if error.args else error}")
        return 1
    except HoursModelError as error:
        print(error)
        return 2
    print("\n".join(headline))
    print("  報告ファイル / report files: " + ", ".join(str(path) for path in files))
    return 0


def make_report_files(ledger_url: str, batch_id: int, reports_dir: Path,
                      hours_model: str | None = None) -> tuple[list[str], tuple[Path, ...]]:
    """The report without a Prefect run: (headline lines, (xlsx, csv, chart, markdown))."""
    from ledger.db import init_db, make_engine, session_scope
    from reporting.batch_report import build_report
    from reporting.hours_config import load_hours_model
    from reporting.outputs import write_report_files

    config = load_hours_model(hours_model)
    engine = make_engine(ledger_url)
    init_db(engine)  # a ledger made before stage_times existed gets the table (empty) instead of an error
    with session_scope(engine, write=False) as session:
        report = build_report(session, batch_id, config)
    files = write_report_files(report, reports_dir)
    return report.headline(), (files.xlsx, files.csv, files.chart, files.markdown)
