"""`taxintake calibrate`: re-fit each kind's calibration and threshold from the fields people reviewed and the audit
samples they checked blind (ocr/refit.py), and keep it as the newest version: in the ledger (which the intake reads
with from then on) and as `$TAXINTAKE_HOME/calibration/<version>.json`."""
from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ocr.refit import DEFAULT_MIN_SAMPLES

    parser.add_argument("--min-samples", type=int, default=DEFAULT_MIN_SAMPLES,
                        help="種類（またはそのグループ）ごとに必要なラベル付き読取数 / labelled readings a kind (or its "
                             f"group) needs before it is re-fitted (default {DEFAULT_MIN_SAMPLES})")
    parser.add_argument("--since-days", type=int, default=None,
                        help="直近 N 日の確認結果だけを使う / learn only from decisions of the last N days")
    parser.add_argument("--target", action="append", default=[], metavar="KIND=ERROR",
                        help="自動確定の誤り率の目標 / target error among accepted fields of a kind")
    parser.add_argument("--out", type=Path, default=None,
                        help="校正ファイルの出力先 / folder for the version file (default $TAXINTAKE_HOME/calibration)")
    parser.add_argument("--dry-run", action="store_true", help="判定を表示するだけ / print the decisions only")
    parser.add_argument("--actor", default="system", help="記録する実行者 / who runs it, for the audit trail")


def run(args: argparse.Namespace) -> int:
    from flows.calibration_use import default_calibration_dir, write_version_file
    from ledger.calibrations import latest_version, next_version_name, save_version
    from ledger.db import init_db, make_engine, session_scope
    from ledger.states import utc_now
    from ledger.trust import labelled_readings
    from ocr import calibration
    from ocr.refit import refit_calibration
    from taxintake.config import load_settings

    settings = load_settings()
    engine = make_engine(settings.ledger_url)
    init_db(engine)
    targets = {}
    for item in args.target:
        kind, _, value = item.partition("=")
        targets[kind.strip()] = float(value)
    since = utc_now() - timedelta(days=args.since_days) if args.since_days else None
    with session_scope(engine) as session:
        current = latest_version(session)
        previous = calibration.load_calibration(None) if current is None else _parse(current.content)
        readings = labelled_readings(session, since=since)
        version = next_version_name(session)
        fitted, decisions = refit_calibration(
            previous, readings, version=version, min_samples=args.min_samples, target_error_by_kind=targets,
            provenance={"from": "ledger", "labelled": len(readings), "audited": sum(r.audited for r in readings),
                        "since_days": args.since_days, "min_samples": args.min_samples,
                        "fitted_at": utc_now().isoformat(timespec="seconds")})
        print(f"校正の再計算 / re-fit from the ledger: {len(readings)} labelled readings "
              f"({sum(r.audited for r in readings)} audit samples), based on {calibration.calibration_version(previous)}")
        print(f"{'kind':17s} {'pool':14s} {'n':>5s} {'audit':>5s} {'err@old':>8s} {'target':>7s} "
              f"{'old cut':>8s} {'new cut':>8s}  decision")
        for d in decisions:
            print(f"{d.kind:17s} {d.pool or '-':14s} {d.labelled:5d} {d.audited:5d} "
                  f"{_pct(d.error_above_old):>8s} {d.target:7.2%} {_cut(d.old_cut):>8s} {_cut(d.new_cut):>8s}  "
                  f"{d.decision}")
        changed = [d for d in decisions if d.decision.startswith(("tightened", "loosened"))]
        if args.dry_run:
            print("（表示のみ / dry run: nothing written）")
            return 0
        row = save_version(session, fitted, created_by=args.actor, summary={
            "labelled": len(readings), "tightened": [d.kind for d in decisions if d.decision.startswith("tightened")],
            "loosened": [d.kind for d in decisions if d.decision == "loosened"]})
        path = write_version_file(row, args.out or default_calibration_dir())
    print(f"wrote {path} (version {version}; {len(changed)} kinds changed their cut); "
          f"the next intake reads with it")
    return 0


def _parse(content: str) -> dict:
    import json

    return json.loads(content)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _cut(value: float | None) -> str:
    return "accept-none" if value is None else f"{value:.4f}"
