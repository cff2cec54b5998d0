"""What other workers hold now: printed by `intake` and `enter`, so a run that found nothing to do says why."""
from __future__ import annotations


def print_held(ledger_url: str, kind: str) -> int:
    """Print each holder of `kind` ("files" or "forms") still holding claims; returns how many are held."""
    from ledger.claims import held_claims
    from ledger.db import make_engine, session_scope

    with session_scope(make_engine(ledger_url), write=False) as session:
        held = [claim for claim in held_claims(session) if claim.kind == kind]
    for claim in held:
        print(f"  処理中 / held: {claim.describe()}")
    if held:
        print("  別のマシンの保持は期限（既定30分）が過ぎると戻ります / claims of another machine go back after the "
              "stale time (default 30 min)")
    return sum(claim.count for claim in held)
