"""`taxintake restore --from DIR`: a checked backup into a fresh ledger and archive; the audit chain verified."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="source", required=True, type=Path, help="the backup folder")
    parser.add_argument("--home", type=Path, default=None, help="working folder (default: TAXINTAKE_HOME or ./var)")
    parser.add_argument("--ledger-url", default=None, help="an empty ledger to restore into (default: "
                                                           "TAXINTAKE_LEDGER_URL or the home's SQLite file)")


def run(args: argparse.Namespace) -> int:
    from ledger.audit import verify_audit
    from ledger.backup import BackupError, restore
    from ledger.db import init_db, make_engine, session_scope
    from taxintake.config import load_settings

    settings = load_settings(args.home)
    url = args.ledger_url or settings.ledger_url
    try:
        manifest = restore(args.source, url, settings.archive)
    except BackupError as exc:
        print(str(exc))
        return 2
    engine = make_engine(url)
    init_db(engine)
    with session_scope(engine, write=False) as session:
        problems = verify_audit(session)
    engine.dispose()
    print(f"復元しました: {manifest['created_at']} のバックアップ、原本 {len(manifest['archive'])} 件 / restored the "
          f"backup of {manifest['created_at']}: {len(manifest['archive'])} archived files")
    if problems:
        print(f"監査ログに問題があります: {len(problems)} 件（taxintake audit verify で確認）/ the restored audit trail "
              f"has {len(problems)} problem(s)")
        return 1
    return 0
