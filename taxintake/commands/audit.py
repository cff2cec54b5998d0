"""`taxintake audit verify`: walk the hash-chained audit trail; non-zero exit when a row was edited or removed."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="audit_command", required=True)
    verify = sub.add_parser("verify", help="check that no audit row was edited or removed")
    verify.add_argument("--ledger-url", default=None, help="ledger URL (default: TAXINTAKE_LEDGER_URL or ./var)")
    verify.add_argument("--expect-head", default=None, metavar="ID:HASH",
                        help="the last row's id:hash printed by an earlier verify; rows cut from the end are found")


def run(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from ledger.audit import audit_head, forms_with_unaudited_transitions, verify_audit
    from ledger.db import init_db, make_engine, session_scope
    from ledger.models import AuditEntry
    from taxintake.config import load_settings

    engine = make_engine(args.ledger_url or load_settings().ledger_url)
    init_db(engine)
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
