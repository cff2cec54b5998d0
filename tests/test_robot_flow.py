"""The `enter` flow's work against legacy_sim with a real ledger file and real chromium: a crash between the save
in the legacy system and the ledger update enters nothing twice; homonyms go back to people with the reason; the
system's maintenance window is respected; every robot action lands in the audit trail with 個人番号 masked."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from benchmarks.robot_entry import add_ready_form
from flows.enter import enter_ready_forms
from ledger import repo
from ledger.audit import verify_audit
from ledger.db import init_db, make_engine, session_scope
from ledger.models import AuditEntry
from legacy_sim.faults import parse_fault_spec
from legacy_sim.server import RunningSim, running_sim
from legacy_sim.settings import SimSettings
from robots.entry import EntryRequest, enter_forms
from robots.screen_map import DEFAULT_SCREEN_MAP
from samples.population import homonym_groups
from test_robot_entry import CREDENTIALS, form_values, stored_rows

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSim]:
    with running_sim(tmp_path_factory.mktemp("legacy") / "legacy.sqlite3", SimSettings()) as sim:
        yield sim


def ledger_with(tmp_path: Path, *forms: tuple[str, dict]) -> tuple[str, list[int]]:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = make_engine(url)
    init_db(engine)
    with session_scope(engine) as session:
        batch = repo.create_batch(session, label="test", source=None)
        made = [add_ready_form(session, batch, form_id, values, f"t{index}") for index, (form_id, values)
                in enumerate(forms)]
        assert [form.state for form in made] == ["READY"] * len(made)
        return url, [form.id for form in made]


def ledger_forms(url: str) -> dict[int, tuple[str, str | None, str | None]]:
    with session_scope(make_engine(url), write=False) as session:
        return {form.id: (form.state, form.entry_receipt, form.state_reason) for form in session.query(repo.Form)}


def audit_rows(url: str) -> list[AuditEntry]:
    with session_scope(make_engine(url), write=False) as session:
        assert verify_audit(session) == []
        # The robots' own rows; every state change has its audit row too (ledger.states.transition).
        # (and the retirement of an entered form's 個人番号, ledger.secrets_at_rest, its own row).
        rows = session.query(AuditEntry).filter(AuditEntry.action.not_in(["state_change", "mynumber.retired"])) \
            .order_by(AuditEntry.id).all()
        session.expunge_all()
        return rows


def test_a_crash_between_save_and_ledger_update_enters_nothing_twice(tmp_path: Path, legacy: RunningSim) -> None:
    values = form_values("kyuyo_hokoku", 81)
    url, [pk] = ledger_with(tmp_path, ("kyuyo_hokoku", values))
    engine = make_engine(url)
    # The robot claims the form and saves it in the legacy system; the process dies before the ledger hears of it.
    with session_scope(engine) as session:
        [claimed] = repo.claim_ready_forms(session, "robot-1", 10)
        request = EntryRequest(str(claimed.id), claimed.form_id, repo.form_values_for_entry(claimed),
                               claimed.idempotency_key or "")
    [saved] = enter_forms([request], base_url=legacy.base_url, credentials=CREDENTIALS)
    assert saved.status == "entered"
    assert ledger_forms(url)[pk][0] == "ENTERING"
    # The watchdog puts the orphaned claim back; the next run finds the entry instead of making a second one.
    with session_scope(engine) as session:
        assert repo.release_stale_claims(session, timedelta(0)) == 1
    outcome = enter_ready_forms(url, legacy.base_url, [CREDENTIALS])
    assert (outcome.already_entered, outcome.entered) == (1, 0)
    assert ledger_forms(url)[pk][:2] == ("ENTERED", saved.receipt_no)
    receipts = [row["uketsuke_no"] for row in stored_rows(legacy.db_path, "kyuyo_hokoku")]
    assert receipts.count(saved.receipt_no) == 1 and len(receipts) == len(set(receipts))
    assert [row.action for row in audit_rows(url)] == ["robot_already_entered"]


def test_homonyms_go_back_to_people_and_every_action_is_audited(tmp_path: Path, legacy: RunningSim) -> None:
    homonym = homonym_groups(__import__("samples.population", fromlist=["population"]).population())[1][0]
    known = form_values("ido_todoke", 91)
    url, [homonym_pk, known_pk] = ledger_with(
        tmp_path, ("ido_todoke", form_values("ido_todoke", 90, person=homonym)), ("ido_todoke", known))
    outcome = enter_ready_forms(url, legacy.base_url, [CREDENTIALS, ("robot02", "robot02-pass")], sessions=2)
    assert (outcome.entered, outcome.sent_back) == (1, 1)
    forms = ledger_forms(url)
    assert forms[homonym_pk][0] == "NEEDS_REVIEW" and "同姓同名" in (forms[homonym_pk][2] or "")
    assert forms[known_pk][0] == "ENTERED"
    rows = {row.subject: row for row in audit_rows(url)}
    entered = json.loads(rows[f"form:{known_pk}"].after)
    assert rows[f"form:{known_pk}"].action == "robot_entered" and entered["legacy_user"] in ("robot01", "robot02")
    typed = {key["field"]: key["value"] for key in entered["keys"]}
    assert typed["shotokusha_name"] == known["shotokusha_name"] and typed["atena_no"]
    assert typed["my_number"].endswith(known["my_number"][-4:]) and known["my_number"] not in rows[f"form:{known_pk}"].after
    assert json.loads(rows[f"form:{homonym_pk}"].after)["reason"] == forms[homonym_pk][2]


def test_the_maintenance_window_is_respected(tmp_path: Path) -> None:
    now = datetime.now()
    window = f"{(now - timedelta(minutes=5)):%H:%M}-{(now + timedelta(minutes=5)):%H:%M}"
    url, pks = ledger_with(tmp_path, ("ido_todoke", form_values("ido_todoke", 95)),
                           ("hojin_shinkoku", form_values("hojin_shinkoku", 96)))
    settings = SimSettings(faults=parse_fault_spec(f"maintenance={window}"))
    with running_sim(tmp_path / "legacy.sqlite3", settings) as sim:
        # Unannounced: the robot meets the closed page, stops, and gives the forms back for a later run.
        outcome = enter_ready_forms(url, sim.base_url, [CREDENTIALS])
        assert (outcome.deferred, outcome.failed, outcome.entered) == (2, 0, 0)
        assert all(state == "READY" and "夜間バッチ" in (reason or "")
                   for state, _, reason in ledger_forms(url).values())
        assert sim.fault_counts["maintenance"] <= 3  # one look, not a retry storm
    assert stored_rows(tmp_path / "legacy.sqlite3") == []
    # Announced in the screen map: nothing is even claimed while the system is closed.
    screen_map = yaml.safe_load(DEFAULT_SCREEN_MAP.read_text(encoding="utf-8"))
    screen_map["closed_hours"] = [window]
    closed_map = tmp_path / "closed.yaml"
    closed_map.write_text(yaml.safe_dump(screen_map, allow_unicode=True), encoding="utf-8")
    outcome = enter_ready_forms(url, "http://127.0.0.1:9", [CREDENTIALS], screen_map=str(closed_map))
    assert outcome.closed == window and outcome.claimed == 0
    assert all(state == "READY" for state, _, _ in ledger_forms(url).values())
