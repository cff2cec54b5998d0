"""`taxintake backup --out DIR`: the ledger (SQLite online backup, or pg_dump) and the archive, with a manifest."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="a new or empty folder to write the backup into")
    parser.add_argument("--home", type=Path, default=None, help="working folder (default: TAXINTAKE_HOME or ./var)")
    parser.add_argument("--ledger-url", default=None, help="ledger URL (default: TAXINTAKE_LEDGER_URL)")


def run(args: argparse.Namespace) -> int:
    from ledger.backup import BackupError, backup
    from taxintake.config import load_settings

    settings = load_settings(args.home)
    try:
        summary = backup(args.ledger_url or settings.ledger_url, settings.archive, args.out)
    except BackupError as exc:
        print(str(exc))
        return 2
    print(f"バックアップしました: {summary.folder}（台帳 {summary.ledger_kind}、原本 {summary.archive_files} 件）/ "
          f"backed up into {summary.folder}: {summary.ledger_kind} ledger, {summary.archive_files} archived files")
    if summary.missing_scans:
        print(f"注意: 台帳にあって原本がないスキャン {len(summary.missing_scans)} 件 / {len(summary.missing_scans)} "
              f"scans the ledger knows are missing from the archive")
        return 1
    return 0
