"""`taxintake backup` → `taxintake restore` into a fresh home → the work goes on: forms continue from the state they
were in (review, then entry), nothing is entered twice (legacy_sim counted), the archive comes back byte for byte."""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger import repo, review_repo
from ledger.audit import verify_audit
from ledger.db import init_db, make_engine, session_scope
from ledger.models import FieldValue, Form
from ledger.values import reveal_value
from samples.generate import generate_page, write_page


def _cli(*args: str, home: Path, ledger_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TAXINTAKE_HOME": str(home)}
    env.pop("TAXINTAKE_LEDGER_URL", None)
    if ledger_url:
        env["TAXINTAKE_LEDGER_URL"] = ledger_url
    return subprocess.run([sys.executable, "-m", "taxintake.cli", *args], capture_output=True, text=True,
                          timeout=600, env=env)


def _states(url: str) -> dict[tuple[str, int], str]:
    engine = make_engine(url)
    with session_scope(engine, write=False) as session:
        states = {(form.scan_file.sha256, form.page): str(form.state) for form in session.scalars(select(Form))}
    engine.dispose()
    return states


def _archive_digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file()}


def _settle(session, form, truth: dict) -> None:
    """A person resolves every flag of a waiting form with what the scan says."""
    flagged = [row for row in form.fields if row.status == review_repo.REVIEW]
    for row in flagged:
        review_repo.resolve_field(session, form.id, row.name, truth.get(row.name, reveal_value(row.value)), "sato")
    if not flagged:
        review_repo.confirm_form_without_flags(session, form.id, "sato")


@pytest.mark.browser
def test_a_restored_backup_goes_on_where_it_was_and_enters_nothing_twice(tmp_path, prefect_server) -> None:
    from flows.enter import enter_ready_forms
    from flows.intake import intake
    from legacy_sim.server import running_sim
    from legacy_sim.settings import SimSettings

    home, fresh = tmp_path / "home", tmp_path / "fresh"
    inbox = home / "inbox"
    truths = {}
    for n, seed in enumerate((4243, 4251, 4252)):
        write_page(generate_page("ido_todoke", style="printed", profile="clean300", seed=seed), inbox, f"scan_{n}")
        truths[f"scan_{n}.png"] = json.loads((inbox / f"scan_{n}.truth.json").read_text(encoding="utf-8"))["fields"]
        (inbox / f"scan_{n}.truth.json").unlink()
    url = f"sqlite:///{home / 'ledger.sqlite3'}"
    assert intake(inbox=str(inbox), archive_root=str(home / "archive"), ledger_url=url, label="before",
                  results_dir=str(home / "results")).pages_recorded == 3
    engine = make_engine(url)
    with session_scope(engine) as session:
        # One form waits for a person whatever the reader made of the scans, so the restore must carry review:
        # a robot sends the last one back, as it does with homonyms, and gives the others back untouched.
        # What the reader flagged is settled first (the form left waiting is made below).
        for form in session.scalars(select(Form).where(Form.state == "NEEDS_REVIEW")):
            _settle(session, form, truths[form.scan_file.original_name])
        if True:
            claimed = repo.claim_ready_forms(session, "robot-x", 10)
            assert len(claimed) >= 2, [form.state for form in session.scalars(select(Form))]
            for form in claimed[:-1]:
                repo.release_claim(session, form.id, "テスト / test", "robot-x")
            repo.send_back_to_review(session, claimed[-1].id, "同姓同名 / homonyms", "robot-x")
    engine.dispose()

    sim_settings = SimSettings()
    credentials = [(sim_settings.robot_user, sim_settings.robot_password)]
    legacy_db = tmp_path / "legacy.sqlite3"
    with running_sim(legacy_db, sim_settings) as sim:
        first = enter_ready_forms(url, sim.base_url, credentials, limit=1)
        assert first.entered == 1

        backup_dir = tmp_path / "backup"
        done = _cli("backup", "--out", str(backup_dir), home=home)
        assert done.returncode == 0, done.stdout + done.stderr
        manifest = json.loads((backup_dir / "manifest.json").read_text(encoding="utf-8"))
        assert len(manifest["archive"]) == 3 and manifest["missing_scans"] == []
        assert {entry["sha256"] for entry in manifest["archive"]} == {sha for sha, _ in _states(url)}
        before = _states(url)

        # The disk is lost: a fresh home, restored from the backup alone.
        done = _cli("restore", "--from", str(backup_dir), home=fresh)
        assert done.returncode == 0, done.stdout + done.stderr
        restored_url = f"sqlite:///{fresh / 'ledger.sqlite3'}"
        assert _states(restored_url) == before
        assert _archive_digests(fresh / "archive") == _archive_digests(home / "archive")

        # Review goes on in the restored ledger: every flag resolved with what the scan says.
        engine = make_engine(restored_url)
        with session_scope(engine) as session:
            assert verify_audit(session) == []
            for form in session.scalars(select(Form).where(Form.state == "NEEDS_REVIEW")):
                _settle(session, form, truths[form.scan_file.original_name])
        engine.dispose()
        second = enter_ready_forms(restored_url, sim.base_url, credentials)
    assert (second.entered, second.already_entered, second.failed) == (2, 0, 0), second
    assert set(_states(restored_url).values()) == {"ENTERED"}
    with sqlite3.connect(legacy_db) as conn:
        records = conn.execute("SELECT kojin_no, COUNT(*) FROM ido_todoke GROUP BY kojin_no").fetchall()
    assert len(records) == 3 and all(count == 1 for _, count in records), records
    assert {number for number, _ in records} == {truth["my_number"] for truth in truths.values()}


def test_restore_refuses_a_damaged_backup_and_a_ledger_in_use(tmp_path) -> None:
    from benchmarks.robot_entry import add_ready_form

    home = tmp_path / "home"
    url = f"sqlite:///{home / 'ledger.sqlite3'}"
    engine = make_engine(url)
    init_db(engine)
    (home / "archive" / "ab").mkdir(parents=True)
    (home / "archive" / "ab" / "scan.png").write_bytes(b"\x89PNG scan bytes")
    with session_scope(engine) as session:
        add_ready_form(session, repo.create_batch(session, "b", None), "ido_todoke", {"shotokusha_name": "試験"}, "x")
    engine.dispose()
    assert _cli("backup", "--out", str(tmp_path / "b"), home=home).returncode in (0, 1)
    assert _cli("restore", "--from", str(tmp_path / "b"), home=home).returncode == 2  # the ledger is not empty
    (tmp_path / "b" / "archive" / "ab" / "scan.png").write_bytes(b"\x89PNG changed")
    done = _cli("restore", "--from", str(tmp_path / "b"), home=tmp_path / "fresh")
    assert done.returncode == 2 and "damaged" in done.stdout
    assert not (tmp_path / "fresh" / "ledger.sqlite3").exists() or \
        not sqlite3.connect(tmp_path / "fresh" / "ledger.sqlite3").execute(
            "SELECT name FROM sqlite_master WHERE type='table'").fetchall()


@pytest.fixture
def second_postgres_url(postgres_url):
    """Another fresh PostgreSQL database beside `postgres_url`: the restore's target."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(postgres_url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    name = f"taxintake_restore_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield parsed.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgresql_backup_is_a_pg_dump_that_restores_and_goes_on(tmp_path, postgres_url,
                                                                  second_postgres_url) -> None:
    from benchmarks.robot_entry import add_ready_form

    home = tmp_path / "home"
    (home / "archive").mkdir(parents=True)
    engine = make_engine(postgres_url)
    init_db(engine)
    number = "123456789018"
    with session_scope(engine) as session:
        form = add_ready_form(session, repo.create_batch(session, "pg", None), "ido_todoke",
                              {"my_number": number, "shotokusha_name": "試験"}, "pg")
        form_pk, state = form.id, form.state
    engine.dispose()
    done = _cli("backup", "--out", str(tmp_path / "b"), home=home, ledger_url=postgres_url)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: the seeded scan has no archived file
    assert (tmp_path / "b" / "ledger.pgdump").exists()
    assert number.encode() not in (tmp_path / "b" / "ledger.pgdump").read_bytes()
    done = _cli("restore", "--from", str(tmp_path / "b"), home=tmp_path / "fresh", ledger_url=second_postgres_url)
    assert done.returncode == 0, done.stdout + done.stderr
    engine = make_engine(second_postgres_url)
    with session_scope(engine) as session:
        assert verify_audit(session) == []
        restored = session.get_one(Form, form_pk)
        assert restored.state == state
        row = session.scalars(select(FieldValue).where(FieldValue.form_pk == form_pk,
                                                       FieldValue.name == "my_number")).one()
        assert reveal_value(row.value) == number
        # The restored ledger takes new work: ids go on after the restored rows (sequences came back too).
        batch = repo.create_batch(session, "after", None)
        assert batch.id > restored.batch_id
    engine.dispose()
