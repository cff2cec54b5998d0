"""`taxintake retention --days N`: delete page images and crops older than N days; ledger and audit rows stay."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

RETENTION_DAYS_ENV = "TAXINTAKE_RETENTION_DAYS"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=int, default=None,
                        help=f"keep this many days (default: ${RETENTION_DAYS_ENV})")
    parser.add_argument("--dry-run", action="store_true", help="say what would go, delete nothing")
    parser.add_argument("--ledger-url", default=None)
    parser.add_argument("--archive", type=Path, default=None, help="archive of original scans (default: HOME/archive)")
    parser.add_argument("--images", type=Path, action="append", default=None,
                        help="a folder of screenshots, crops or page images (repeatable; default: HOME/evidence, "
                             "HOME/crops, HOME/pages, HOME/review_cache)")


def run(args: argparse.Namespace) -> int:
    from flows.retention import apply_retention
    from ledger.db import init_db, make_engine
    from taxintake.config import load_settings

    days = args.days if args.days is not None else _days_from_environment()
    if days is None:
        print(f"保存日数を --days か {RETENTION_DAYS_ENV} で指定してください / give --days or {RETENTION_DAYS_ENV}")
        return 2
    settings = load_settings()
    engine = make_engine(args.ledger_url or settings.ledger_url)
    init_db(engine)
    # review_cache holds the review page's renderings, 個人番号 crops among them: they go with the other pictures.
    images = args.images or [settings.evidence, settings.home / "crops", settings.home / "pages",
                             settings.home / "review_cache"]
    outcome = apply_retention(engine, args.archive or settings.archive, [p for p in images if p.is_dir()], days,
                              dry_run=args.dry_run)
    verb = "削除予定 / would delete" if args.dry_run else "削除しました / deleted"
    print(f"{verb}: 原本スキャン {outcome.scans_deleted} 件, 画像 {outcome.images_deleted} 件 "
          f"({outcome.bytes_freed / 1e6:.1f} MB), {outcome.cutoff:%Y-%m-%d %H:%M} UTC より前 / scans "
          f"{outcome.scans_deleted}, images {outcome.images_deleted}, older than {outcome.cutoff.isoformat()}")
    if outcome.scans_kept_in_work:
        print(f"  処理中のため保持 / kept, still in work: {outcome.scans_kept_in_work} 件")
    print("  台帳と監査ログは保持されます / ledger rows and audit rows are kept")
    return 0


def _days_from_environment() -> int | None:
    value = os.environ.get(RETENTION_DAYS_ENV)
    return int(value) if value and value.isdigit() else None
