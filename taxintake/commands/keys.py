"""`taxintake keys`: make a key, see what each key protects, rotate the 個人番号 key (re-encrypt, audited)."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="keys_command", required=True)
    new = sub.add_parser("new", help="print a fresh key (nothing is stored: put it in the environment or a "
                                     "Prefect Secret block)")
    new.add_argument("--id", default=None, help="the key id (default: k<date><random>)")
    new.add_argument("--audit", action="store_true", help="an audit chain key instead of a 個人番号 key")
    for name, text in (("rotate", "re-encrypt every 個人番号 sealed with an old key under TAXINTAKE_MYNUMBER_KEY "
                                  "(old keys in TAXINTAKE_MYNUMBER_OLD_KEYS); audited"),
                       ("status", "count the sealed and retired 個人番号 per key id")):
        command = sub.add_parser(name, help=text)
        command.add_argument("--ledger-url", default=None, help="ledger URL (default: TAXINTAKE_LEDGER_URL or ./var)")
        command.add_argument("--actor", default="admin", help="who rotates (the audit row's actor)")


def run(args: argparse.Namespace) -> int:
    from taxintake.keys import MissingKey, new_audit_key, new_mynumber_key

    if args.keys_command == "new":
        print(new_audit_key() if args.audit else new_mynumber_key(args.id))
        return 0
    from ledger.db import init_db, make_engine, session_scope
    from ledger.secrets_at_rest import rotate_keys, sealed_counts
    from taxintake.config import load_settings

    engine = make_engine(args.ledger_url or load_settings().ledger_url)
    init_db(engine)
    try:
        if args.keys_command == "rotate":
            with session_scope(engine) as session:
                rotation = rotate_keys(session, args.actor)
            print(f"鍵 {rotation.current_key} で再暗号化しました: {rotation.reencrypted} 件（旧鍵 "
                  f"{rotation.by_old_key or '-'}）、既に現行鍵 {rotation.already_current} 件、消去済み "
                  f"{rotation.retired} 件 / re-encrypted {rotation.reencrypted} under {rotation.current_key}; "
                  f"{rotation.already_current} already current; {rotation.retired} retired (hash only)")
            return 0
        with session_scope(engine, write=False) as session:
            counts = sealed_counts(session)
        for key_id, count in sorted(counts.items()):
            print(f"{key_id}: 暗号化 {count['sealed']} 件 / sealed, 消去済み {count['retired']} 件 / retired")
        if not counts:
            print("暗号化された個人番号はありません / no sealed 個人番号")
        return 0
    except MissingKey as exc:
        print(str(exc))
        return 3
