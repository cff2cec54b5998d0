"""`taxintake watch`: watch the inbox in the foreground; each complete drop is read as one batch."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from taxintake.commands._prefect_env import quiet_prefect


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--inbox", type=Path, help="folder to watch (default: TAXINTAKE_HOME/inbox)")
    parser.add_argument("--settle", type=float, default=5.0,
                        help="seconds a drop must stay unchanged before it is taken (default 5)")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between looks (default 1)")
    parser.add_argument("--once", action="store_true", help="take one drop (waiting for it), then stop")


def run(args: argparse.Namespace) -> int:
    quiet_prefect()
    from flows import inbox as inbox_rules
    from flows.intake import intake, queued_work, read_queued
    from taxintake.commands.progress_bars import read_progress
    from taxintake.config import load_settings

    settings = load_settings()
    inbox = (args.inbox or settings.inbox).resolve()
    inbox.mkdir(parents=True, exist_ok=True)
    print(f"受付箱を監視中 / watching {inbox} (Ctrl-C で終了 / to stop)")
    try:
        while True:
            if queued_work(settings.ledger_url):
                # Left by a reader that was killed (or by another machine's drop): read before waiting for more.
                with read_progress():
                    outcome = read_queued(ledger_url=settings.ledger_url, archive_root=str(settings.archive))
                print(f"読取待ちを {outcome.files_read} ファイル読取 / read {outcome.files_read} queued files")
            files = inbox_rules.settled_files(inbox, settle_seconds=args.settle, poll_seconds=args.poll,
                                              wait_for_first_seconds=30)
            if not files:
                continue
            with read_progress():
                outcome = intake(inbox=str(inbox), files=[str(p) for p in files], label="watch",
                                 results_dir=str(settings.results))
            print(f"バッチ {outcome.batch_id}: {outcome.files_seen} ファイル、{outcome.pages_recorded} 頁 "
                  f"({outcome.pages_per_second:.2f} 頁/秒 pages/s)")
            if args.once:
                return 0
            time.sleep(args.poll)
    except KeyboardInterrupt:
        return 0
