"""`taxintake user add NAME --role R`, `taxintake user list`: the people who may sign in to the review page.

The password is read from the terminal (twice), or from stdin with --password-stdin; never from the command
line, where it would stay in the shell history and the process list.
"""
from __future__ import annotations

import argparse
import getpass
import sys

from ledger.models import USER_ROLES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="user_command", required=True)
    add = sub.add_parser("add", help="create a user (利用者を追加)")
    add.add_argument("name", help="sign-in name (英数字と . _ -)")
    add.add_argument("--role", choices=USER_ROLES, required=True,
                     help="clerk (事務担当), supervisor (監督者: may reveal 個人番号) or admin")
    add.add_argument("--display-name", default="", help="name shown on screen, e.g. 佐藤 花子")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin (one line)")
    sub.add_parser("list", help="list users (利用者の一覧)")
    unlock = sub.add_parser("unlock", help="lift a sign-in lock (サインインのロックを解除)")
    unlock.add_argument("name", nargs="?", default="", help="the locked user name")
    unlock.add_argument("--address", default="", help="lift the lock of an address instead, e.g. 192.0.2.10")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("パスワード / password: ")
    if getpass.getpass("もう一度 / again: ") != first:
        raise ValueError("パスワードが一致しません / the passwords differ")
    return first


def run(args: argparse.Namespace) -> int:
    from ledger import review_repo
    from ledger.db import init_db, make_engine, session_scope
    from review.auth import ROLE_LABELS, hash_password
    from taxintake.config import load_settings

    engine = make_engine(load_settings().ledger_url)
    init_db(engine)
    if args.user_command == "unlock":
        import getpass as _getpass

        from review.throttle import unlock

        subject = f"address:{args.address}" if args.address else f"user:{args.name}"
        if subject in ("user:", "address:"):
            print("エラー / error: 利用者名か --address を指定してください", file=sys.stderr)
            return 2
        with session_scope(engine) as session:
            unlock(session, subject, f"cli:{_getpass.getuser()}")
        print(f"ロックを解除しました / lock lifted: {subject}")
        return 0
    if args.user_command == "list":
        with session_scope(engine, write=False) as session:
            for user in review_repo.list_users(session):
                state = "" if user.active else "（無効）"
                print(f"{user.name}\t{user.display_name}\t{user.role}（{ROLE_LABELS[user.role]}）{state}")
        return 0
    try:
        password_hash = hash_password(_read_password(args.password_stdin))
        with session_scope(engine) as session:
            review_repo.create_user(session, args.name, args.display_name, args.role, password_hash)
    except ValueError as exc:
        print(f"エラー / error: {exc}", file=sys.stderr)
        return 2
    print(f"利用者 {args.name}（{ROLE_LABELS[args.role]}）を作成しました / user {args.name} created")
    return 0
