"""`taxintake summary [BATCH]`: what a batch did, in the words an operator acts on."""
from __future__ import annotations

import argparse

from taxintake.config import load_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("batch", type=int, nargs="?", help="batch id (default: the latest)")


def run(args: argparse.Namespace) -> int:
    from ledger import repo
    from ledger.db import make_engine, session_scope

    settings = load_settings()
    batch_id = args.batch
    if batch_id is None:
        with session_scope(make_engine(settings.ledger_url)) as session:
            batch_id = repo.latest_batch_id(session)
        if batch_id is None:
            print("バッチがありません / no batches in the ledger")
            return 1
    print_summary(settings.ledger_url, batch_id)
    return 0


def print_summary(ledger_url: str, batch_id: int) -> None:
    from ledger import repo
    from ledger.db import make_engine, session_scope

    with session_scope(make_engine(ledger_url)) as session:
        summary = repo.batch_summary(session, batch_id)
    states = ", ".join(f"{state} {count}" for state, count in sorted(summary.forms_by_state.items()))
    print(f"== バッチ {batch_id} の結果 / batch {batch_id} summary")
    print(f"  帳票 / forms:                 {summary.forms_total} ({states})")
    print(f"  項目 / fields:                {summary.fields_total}: 自動確定 accepted {summary.fields_accepted}, "
          f"要確認 flagged {summary.fields_review}, 空欄 empty {summary.fields_empty}")
    print(f"  自動確定率 / straight-through: {summary.straight_through:.1%}")
    print(f"  入力済 / entered:             {summary.forms_entered}")
    print(f"  入力失敗 / failed:            {summary.forms_failed}")
    for form_ref, reason in summary.failure_reasons.items():
        print(f"    - form {form_ref}: {reason}")
