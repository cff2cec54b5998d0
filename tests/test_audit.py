"""The hash-chained audit trail: rows mask 個人番号, and an edited or removed row is detected."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from ledger.audit import append_audit, verify_audit
from ledger.db import init_db, make_engine, session_scope


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    init_db(engine)
    return engine


def _append_rows(engine: Engine, count: int) -> None:
    with session_scope(engine) as session:
        for index in range(count):
            append_audit(session, actor="sato", action="field_corrected",
                         subject=f"form:{index}/field:my_number",
                         before={"value": "123456789018"}, after={"value": "123456789026"})


def test_rows_chain_and_keep_personal_numbers_masked(engine: Engine) -> None:
    _append_rows(engine, 3)
    with session_scope(engine, write=False) as session:
        assert verify_audit(session) == []
        rows = session.execute(text("SELECT before, after, prev_hash, row_hash FROM audit_log ORDER BY id")).all()
    assert rows[0].before == '{"value": "********9018"}'
    assert rows[0].after == '{"value": "********9026"}'
    assert rows[0].prev_hash == "0" * 64
    assert rows[1].prev_hash == rows[0].row_hash and rows[2].prev_hash == rows[1].row_hash


def test_an_edited_row_and_a_removed_row_are_found(engine: Engine) -> None:
    _append_rows(engine, 5)
    with session_scope(engine) as session:
        session.execute(text("UPDATE audit_log SET actor = 'intruder' WHERE id = 2"))
        session.execute(text("DELETE FROM audit_log WHERE id = 4"))
    with session_scope(engine, write=False) as session:
        problems = verify_audit(session)
    assert [(problem.row_id, problem.problem) for problem in problems] == [(2, "edited"), (5, "removed_before")]
    assert all("監査ログ" in problem.message for problem in problems)


def test_an_audit_row_needs_an_actor(engine: Engine) -> None:
    with session_scope(engine) as session, pytest.raises(ValueError):
        append_audit(session, actor="", action="reveal", subject="form:1/field:my_number")
