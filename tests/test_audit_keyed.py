"""The audit chain is keyed (HMAC under TAXINTAKE_AUDIT_KEY): a forger who edits a row and recomputes every later
hash without the key is caught by `taxintake audit verify`; a chain from before keying is re-sealed by `rekey`."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

from sqlalchemy import select

from ledger import repo
from ledger.audit import GENESIS_HASH, append_audit, verify_audit
from ledger.db import init_db, make_engine, session_scope
from ledger.models import AuditEntry


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "taxintake.cli", *args], capture_output=True, text=True,
                          timeout=120, env=env or dict(os.environ))


def _unkeyed(entry: AuditEntry, prev: str) -> str:
    """The hash as the chain computed it before keying, which anyone with the database can recompute."""
    canonical = json.dumps([prev, entry.at.isoformat(timespec="microseconds"), entry.actor, entry.action,
                            entry.subject, entry.before, entry.after], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _ledger(tmp_path, rows: int = 6) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = make_engine(url)
    init_db(engine)
    with session_scope(engine) as session:
        repo.create_batch(session, "audit", None)
        for n in range(rows):
            append_audit(session, actor="sato", action="review.correct", subject=f"form:{n}/field:amount",
                         before={"value": str(n)}, after={"value": str(n + 1)})
    engine.dispose()
    return url


def _rechain_unkeyed(url: str, edit=None) -> None:
    engine = make_engine(url)
    with session_scope(engine) as session:
        prev = GENESIS_HASH
        for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
            if edit is not None:
                edit(entry)
            entry.prev_hash, entry.row_hash = prev, _unkeyed(entry, prev)
            prev = entry.row_hash
    engine.dispose()


def test_a_forgery_with_every_later_hash_recomputed_is_caught(tmp_path) -> None:
    url = _ledger(tmp_path)
    assert _cli("audit", "verify", "--ledger-url", url).returncode == 0

    def forge(entry: AuditEntry) -> None:
        if entry.id == 3:
            entry.after = json.dumps({"value": "999999"})  # the forger's change

    _rechain_unkeyed(url, forge)
    done = _cli("audit", "verify", "--ledger-url", url)
    assert done.returncode == 2, done.stdout
    assert "unkeyed hash" in done.stdout and "forgery" in done.stdout
    engine = make_engine(url)
    with session_scope(engine, write=False) as session:
        assert {problem.problem for problem in verify_audit(session)} == {"unkeyed"}
    engine.dispose()


def test_a_chain_keyed_with_another_key_is_caught(tmp_path) -> None:
    url = _ledger(tmp_path)
    other = {**os.environ, "TAXINTAKE_AUDIT_KEY": "another-key-someone-guessed-0123456789"}
    done = _cli("audit", "verify", "--ledger-url", url, env=other)
    assert done.returncode == 2 and "was edited" in done.stdout


def test_an_old_unkeyed_chain_is_resealed_by_rekey_once_its_plain_chain_checks(tmp_path) -> None:
    url = _ledger(tmp_path)
    _rechain_unkeyed(url)  # a ledger written before the chain was keyed
    assert _cli("audit", "verify", "--ledger-url", url).returncode == 2
    done = _cli("audit", "rekey", "--ledger-url", url, "--actor", "admin")
    assert done.returncode == 0 and "6 rows were unkeyed" in done.stdout, done.stdout
    assert _cli("audit", "verify", "--ledger-url", url).returncode == 0
    engine = make_engine(url)
    with session_scope(engine, write=False) as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        assert last.action == "audit.rekeyed" and json.loads(last.after) == {"rows": 6, "unkeyed_rows": 6}
    engine.dispose()


def test_rekey_refuses_to_seal_over_a_broken_plain_chain(tmp_path) -> None:
    url = _ledger(tmp_path)
    _rechain_unkeyed(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        session.get_one(AuditEntry, 2).after = json.dumps({"value": "edited"})  # edited, chain not recomputed
    engine.dispose()
    done = _cli("audit", "rekey", "--ledger-url", url)
    assert done.returncode == 2 and "row 2 does not verify" in done.stdout


def test_without_an_audit_key_verify_says_how_to_set_one(tmp_path) -> None:
    url = _ledger(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "TAXINTAKE_AUDIT_KEY"}
    env["TAXINTAKE_AUDIT_KEY_BLOCK"] = "no-such-audit-block"
    env["PREFECT_API_URL"] = "http://127.0.0.1:9/api"  # no Prefect server: the block cannot be found either
    env["PREFECT_CLIENT_MAX_RETRIES"] = "0"
    done = _cli("audit", "verify", "--ledger-url", url, env=env)
    assert done.returncode == 3 and "TAXINTAKE_AUDIT_KEY" in done.stdout and "taxintake keys new --audit" in done.stdout
