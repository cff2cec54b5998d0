"""`taxintake intake [FOLDER]`: read a folder's scans (default: the inbox) into the ledger as one batch."""
from __future__ import annotations

import argparse
from pathlib import Path

from taxintake.commands._prefect_env import quiet_prefect


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", nargs="?", type=Path, help="folder of scans (default: TAXINTAKE_HOME/inbox)")
    parser.add_argument("--label", default="intake", help="the batch's label")
    parser.add_argument("--keep", action="store_true", help="leave the files in the folder (they are archived)")


def run(args: argparse.Namespace) -> int:
    quiet_prefect()
    from flows.intake import intake
    from taxintake.commands.progress_bars import read_progress
    from taxintake.commands.held import print_held
    from taxintake.commands.summary import print_summary
    from taxintake.config import load_settings

    settings = load_settings()
    folder = (args.folder or settings.inbox).resolve()
    with read_progress():
        outcome = intake(inbox=str(folder), label=args.label, results_dir=str(settings.results),
                         remove_from_inbox=not args.keep)
    print(f"バッチ {outcome.batch_id}: {outcome.files_seen} ファイル（既読 {outcome.files_already_known}）、"
          f"{outcome.pages_recorded} 頁を {outcome.pages_per_second:.2f} 頁/秒で読取 / "
          f"batch {outcome.batch_id}: {outcome.files_seen} files ({outcome.files_already_known} known), "
          f"{outcome.pages_recorded} pages at {outcome.pages_per_second:.2f} pages/s")
    print_summary(settings.ledger_url, outcome.batch_id)
    print_held(settings.ledger_url, "files")
    return 0
