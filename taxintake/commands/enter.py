"""`taxintake enter`: enter the ledger's READY forms into the legacy system now, with the robots, in the foreground.

The scheduled way is the `enter-ready` deployment (every 5 minutes, holding one of the system's licensed sessions);
this is the same work by hand, for an operator who wants it done now. The legacy system's address and account come
from the environment (`TAXINTAKE_LEGACY_URL`, `TAXINTAKE_LEGACY_USER`, `TAXINTAKE_LEGACY_PASSWORD`), never from
the command line, where other users of the machine could see them.
"""
from __future__ import annotations

import argparse
from datetime import timedelta


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=500, help="at most this many forms (default 500)")
    parser.add_argument("--stale-after", type=float, default=30 * 60,
                        help="seconds after which a stopped robot's claim goes back to READY (default 1800)")


def run(args: argparse.Namespace) -> int:
    from flows.enter import enter_ready_forms
    from flows.intake import reader_id
    from ledger import repo
    from ledger.db import init_db, make_engine, session_scope
    from ledger.privacy import mask_personal_numbers
    from taxintake.config import load_settings

    settings = load_settings()
    engine = make_engine(settings.ledger_url)
    init_db(engine)
    with session_scope(engine) as session:
        released = repo.release_stale_claims(session, timedelta(seconds=args.stale_after))
    if released:
        print(f"止まったロボットの {released} 件を入力待ちに戻しました / {released} claims of a stopped robot released")
    from taxintake.credentials import legacy_password

    password = settings.legacy_password or legacy_password()  # the environment, else a Prefect Secret block
    outcome = enter_ready_forms(settings.ledger_url, settings.legacy_url, [(settings.legacy_user, password)],
                                robot_id=f"robot@{reader_id()}", limit=args.limit,
                                evidence_dir=str(settings.evidence))
    if outcome.closed:
        print(f"基幹システムの受付時間外です（{outcome.closed}）。何も入力していません / the system is closed: nothing entered")
        return 0
    print(f"入力 {outcome.entered} 件、入力済み {outcome.already_entered} 件、失敗 {outcome.failed} 件、"
          f"確認へ戻し {outcome.sent_back} 件、保留 {outcome.deferred} 件 / entered {outcome.entered}, already there "
          f"{outcome.already_entered}, failed {outcome.failed}, back to review {outcome.sent_back}, deferred "
          f"{outcome.deferred} ({outcome.seconds:.0f} s)")
    for form_pk, reason in sorted(outcome.failures.items()):
        print(f"  帳票 {form_pk}: {mask_personal_numbers(reason)}")
    from taxintake.commands.held import print_held

    print_held(settings.ledger_url, "forms")
    return 1 if outcome.failed else 0
