"""`taxintake audit verify` over a real ledger file: every state change audited, edits and removals found."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from ledger import repo
from ledger.db import init_db, make_engine, session_scope
from ledger.models import AuditEntry, Form
from ledger.states import FormState, transition


def _verify(ledger_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "taxintake.cli", "audit", "verify", "--ledger-url", ledger_url,
                           *extra], capture_output=True, text=True, timeout=120)


@pytest.fixture
def ledger(tmp_path: Path) -> tuple[str, Engine]:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = make_engine(url)
    init_db(engine)
    with session_scope(engine) as session:
        batch = repo.create_batch(session, "audit", None)
        scan, _ = repo.register_scan_file(session, batch, "scan.pdf", "ab/abc.pdf", "ab" * 32, 3)
        for page in (1, 2, 3):
            form = Form(batch_id=batch.id, scan_file_id=scan.id, page=page, form_id="ido_todoke")
            transition(session, form, FormState.RECEIVED, actor="system")
            transition(session, form, FormState.READ, actor="system")
            transition(session, form, FormState.NEEDS_REVIEW, actor="system",
                       reason="my_number 123456789018 (low_confidence)")
            transition(session, form, FormState.READY, actor="sato")
    with session_scope(engine) as session:
        claimed = repo.claim_ready_forms(session, "robot-1", 1)
        repo.mark_entered(session, claimed[0].id, "R-1", "robot-1")
    return url, engine


def test_every_state_change_is_one_audit_row_with_the_number_masked(ledger) -> None:
    url, engine = ledger
    with session_scope(engine, write=False) as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert len(rows) == 3 * 4 + 2  # four moves per form, then a claim and an entry by the robot
    assert all(row.action == "state_change" for row in rows)
    assert (rows[2].actor, rows[2].subject, json.loads(rows[2].before), json.loads(rows[2].after)) == (
        "system", "form:1", {"state": "READ"},
        {"state": "NEEDS_REVIEW", "reason": "my_number ********9018 (low_confidence)"})
    assert [(r.actor, json.loads(r.after)["state"]) for r in rows[-2:]] == [("robot-1", "ENTERING"),
                                                                            ("robot-1", "ENTERED")]
    assert "123456789018" not in "".join(f"{r.before}{r.after}{r.subject}" for r in rows)


def test_audit_verify_passes_on_an_intact_trail(ledger) -> None:
    url, _ = ledger
    done = _verify(url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "監査ログは正常です: 14 行" in done.stdout


def test_audit_verify_finds_a_deleted_row(ledger) -> None:
    url, engine = ledger
    with session_scope(engine) as session:
        session.execute(text("DELETE FROM audit_log WHERE id = 5"))
    done = _verify(url)
    assert done.returncode == 2
    assert "監査ログ 6 の前の行が削除または改ざんされています" in done.stdout
    assert "forms with state changes missing from the audit trail: 2" in done.stdout


def test_audit_verify_finds_an_edited_row(ledger) -> None:
    url, engine = ledger
    with session_scope(engine) as session:
        session.execute(text("UPDATE audit_log SET actor = 'someone' WHERE id = 4"))
    done = _verify(url)
    assert done.returncode == 2
    assert "監査ログ 4 の内容が書き換えられています (row 4 was edited)" in done.stdout


def test_audit_verify_finds_rows_cut_from_the_end(ledger) -> None:
    url, engine = ledger
    head = _verify(url).stdout.split("head: ")[1].split()[0]
    with session_scope(engine) as session:
        session.execute(text("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)"))
    done = _verify(url, "--expect-head", head)
    assert done.returncode == 2
    assert "末尾の削除" in done.stdout
    assert "forms with state changes missing from the audit trail: 1" in done.stdout
