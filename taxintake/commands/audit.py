"""`taxintake audit verify`: walk the keyed hash chain of the audit trail; non-zero exit when a row was edited,
removed or carries an unkeyed hash. `taxintake audit rekey`: re-seal a chain written before it was keyed."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="audit_command", required=True)
    verify = sub.add_parser("verify", help="check that no audit row was edited or removed")
    verify.add_argument("--ledger-url", default=None, help="ledger URL (default: TAXINTAKE_LEDGER_URL or ./var)")
    verify.add_argument("--expect-head", default=None, metavar="ID:HASH",
                        help="the last row's id:hash printed by an earlier verify; rows cut from the end are found")
    rekey = sub.add_parser("rekey", help="re-seal rows written before the chain was keyed (HMAC under "
                                         "TAXINTAKE_AUDIT_KEY), after checking their plain chain")
    rekey.add_argument("--ledger-url", default=None, help="ledger URL (default: TAXINTAKE_LEDGER_URL or ./var)")
    rekey.add_argument("--actor", default="admin", help="who runs the migration (the audit row's actor)")


def run(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from ledger.audit import audit_head, forms_with_unaudited_transitions, verify_audit
    from ledger.db import init_db, make_engine, session_scope
    from ledger.models import AuditEntry
    from taxintake.config import load_settings

    from taxintake.keys import MissingKey

    engine = make_engine(args.ledger_url or load_settings().ledger_url)
    init_db(engine)
    try:
        if args.audit_command == "rekey":
            return _rekey(engine, args.actor)
        return _verify(engine, args)
    except MissingKey as exc:
        print(str(exc))
        return 3


def _rekey(engine, actor: str) -> int:
    from ledger.audit import rekey_audit
    from ledger.db import session_scope

    try:
        with session_scope(engine) as session:
            unkeyed = rekey_audit(session, actor)
    except ValueError as exc:
        print(str(exc))
        return 2
    print(f"監査ログを鍵付きで再封印しました（鍵なしだった行 {unkeyed}）/ audit chain re-sealed with the audit key "
          f"({unkeyed} rows were unkeyed)")
    return 0


def _verify(engine, args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from ledger.audit import audit_head, forms_with_unaudited_transitions, verify_audit
    from ledger.db import session_scope
    from ledger.models import AuditEntry

    with session_scope(engine, write=False) as session:
        rows = session.scalar(select(func.count(AuditEntry.id))) or 0
        messages = [problem.message for problem in verify_audit(session)]
        unaudited = forms_with_unaudited_transitions(session)
        head = audit_head(session)
        if args.expect_head:
            messages += _head_problems(session, args.expect_head)
    if unaudited:
        shown = ", ".join(str(form_pk) for form_pk in unaudited[:20])
        messages.append(f"状態変更の監査行が足りない帳票があります（行の削除の疑い）: {shown} / "
                        f"forms with state changes missing from the audit trail: {shown}")
    if messages:
        print(f"監査ログの改ざんを検出しました: {len(messages)} 件 / audit trail tampered: {len(messages)} problem(s) "
              f"in {rows} rows")
        for message in messages:
            print(f"  - {message}")
        return 2
    head_text = f"{head.id}:{head.row_hash}" if head is not None else "(なし / none)"
    print(f"監査ログは正常です: {rows} 行、改ざんなし / audit trail intact: {rows} rows, hash chain unbroken")
    print(f"  最終行 / head: {head_text}  (別の場所に控えると末尾の削除も検出できます / keep it elsewhere to detect "
          f"rows cut from the end: --expect-head)")
    return 0


def _head_problems(session, expected: str) -> list[str]:
    from ledger.models import AuditEntry

    row_id, _, row_hash = expected.partition(":")
    if not row_id.isdigit() or len(row_hash) != 64:
        return [f"--expect-head は ID:HASH の形で指定してください / --expect-head must be ID:HASH, got {expected!r}"]
    entry = session.get(AuditEntry, int(row_id))
    if entry is None or entry.row_hash != row_hash:
        return [f"控えていた最終行 {row_id} が見つからないか変わっています（末尾の削除）/ the recorded head row "
                f"{row_id} is gone or changed (rows cut from the end)"]
    return []
