"""個人番号 at rest: after a real batch (real OCR, a real Prefect run, real robots typing into legacy_sim) neither
the SQLite file's bytes nor a pg_dump holds a valid 個人番号; keys rotate on both databases; no key is a refusal."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger import crypto, repo
from ledger.db import init_db, make_engine, session_scope
from ledger.models import AuditEntry, BlindEntry, FieldValue, Form
from ledger.review_repo import add_blind_entry
from ledger.values import decode_value, reveal_value
from ocr.checkdigits import is_valid_my_number, my_number_check_digit
from samples.generate import generate_page, write_page

KEY_1 = "test-k1:dGF4aW50YWtlLXRlc3Qta2V5LW9uZS0zMmJ5dGVzISE="  # tests/conftest.py's key
KEY_2 = "test-k2:c2Vjb25kLXRlc3Qta2V5LWZvci1yb3RhdGlvbiEhISE="

# Twelve digits, each pair maybe split by one separator a person or a program might put there.
_SEPARATED_RUN = re.compile(r"(?<![0-9])(?<![0-9][ \-._/:,‐－　])[0-9](?:[ \-._/:,‐－　]?[0-9]){11}(?![0-9]|[ \-._/:,‐－　][0-9])")
_HEX_TOKEN = re.compile(r"[0-9a-f]{32,}")


def valid_numbers_in(text: str) -> list[str]:
    """Every 12-digit run (separators allowed) with a valid 個人番号 check digit, outside hex hashes (a sha256 or
    HMAC in hex is 64 characters of 0-9a-f, where runs of decimal digits occur by chance)."""
    hexes = [match.span() for match in _HEX_TOKEN.finditer(text)]
    found = []
    for match in _SEPARATED_RUN.finditer(text):
        if any(start <= match.start() and match.end() <= end for start, end in hexes):
            continue
        digits = re.sub(r"[^0-9]", "", match.group())
        if is_valid_my_number(digits):
            found.append(digits)
    return found


def a_valid_number(base: int) -> str:
    body = f"{base:011d}"
    return body + str(my_number_check_digit(body))


def test_the_detector_finds_numbers_written_in_any_way() -> None:
    number = a_valid_number(12345678901)
    for written in (number, f"{number[:4]}-{number[4:8]}-{number[8:]}", f"{number[:4]}.{number[4:8]}.{number[8:]}",
                    f"{number[:4]}_{number[4:8]}_{number[8:]}", f'"value": "{number}"'):
        assert valid_numbers_in(f"x {written} y") == [number], written
    assert valid_numbers_in(f"2026-12-03 06:55:12.{number}") == []  # inside a longer run: not a 個人番号


def _search_database(ledger_url: str, sqlite_dir: Path | None) -> tuple[list[str], bytes]:
    if sqlite_dir is not None:
        raw = b"".join(path.read_bytes() for path in sorted(sqlite_dir.glob("ledger.sqlite3*")))
    else:
        from sqlalchemy.engine import make_url

        parsed = make_url(ledger_url)
        env = {**os.environ, "PGPASSWORD": str(parsed.password or "")}
        dsn = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
        raw = subprocess.run(["pg_dump", "--no-owner", dsn], env=env, capture_output=True, check=True,
                             timeout=300).stdout
    return valid_numbers_in(raw.decode("utf-8", errors="replace")), raw


@pytest.mark.browser
def test_no_valid_my_number_sits_in_the_database_after_a_real_batch(tmp_path, prefect_server, ledger_url) -> None:
    from flows.enter import enter_ready_forms
    from flows.intake import intake
    from legacy_sim.server import running_sim
    from legacy_sim.settings import SimSettings

    inbox = tmp_path / "inbox"
    truths = {}
    for stem, form_id, seed in (("ido_0001", "ido_todoke", 4243), ("kyuyo_0001", "kyuyo_hokoku", 4244)):
        write_page(generate_page(form_id, style="printed", profile="clean300", seed=seed), inbox, stem)
        truth_path = inbox / f"{stem}.truth.json"
        truths[stem] = json.loads(truth_path.read_text(encoding="utf-8"))["fields"]
        truth_path.unlink()
    carried = {value for fields in truths.values() for value in fields.values()
               if isinstance(value, str) and is_valid_my_number(value)}
    assert len(carried) >= 3, "the batch must carry 個人番号 (payee, spouse, dependants)"

    outcome = intake(inbox=str(inbox), archive_root=str(tmp_path / "archive"), ledger_url=ledger_url,
                     label="at-rest", results_dir=str(tmp_path / "results"))
    assert outcome.pages_recorded == 2
    engine = make_engine(ledger_url)
    typed = a_valid_number(98765432101)
    with session_scope(engine) as session:
        forms = {form.scan_file.original_name.split(".")[0]: form for form in session.scalars(select(Form))}
        kyuyo = forms["kyuyo_0001"]
        # Every 個人番号 the reader stored is sealed, and opens to what the scan carries.
        sealed = [row for row in kyuyo.fields if crypto.is_sealed(row.value)]
        assert sealed and {reveal_value(row.value) for row in sealed} & carried
        assert all(decode_value(row.value).startswith("********") for row in sealed)
        # A person's correction and a blind entry of a 個人番号 are sealed too.
        repo.correct_field(session, kyuyo.id, "haigusha_my_number", typed, corrected_by="sato")
        add_blind_entry(session, kyuyo.id, "my_number", "suzuki", "blind", typed, "mismatch")
        ido = forms["ido_0001"]
        if ido.state == "NEEDS_REVIEW":  # a person settles what the reader flagged, with what the scan says
            from ledger.review_repo import REVIEW, confirm_form_without_flags, resolve_field

            flagged = [row for row in ido.fields if row.status == REVIEW]
            for row in flagged:
                resolve_field(session, ido.id, row.name, truths["ido_0001"].get(row.name, reveal_value(row.value)),
                              "sato")
            if not flagged:
                confirm_form_without_flags(session, ido.id, "sato")
        ido_state = session.scalar(select(Form.state).where(Form.id == ido.id))
    assert ido_state == "READY"

    sim_settings = SimSettings()
    with running_sim(tmp_path / "legacy.sqlite3", sim_settings) as sim:
        entered = enter_ready_forms(ledger_url, sim.base_url, [(sim_settings.robot_user, sim_settings.robot_password)],
                                    evidence_dir=str(tmp_path / "evidence"))
    assert (entered.entered, entered.readback_ok) == (1, 1)

    with session_scope(engine, write=False) as session:
        ido = session.scalars(select(Form).where(Form.form_id == "ido_todoke")).one()
        [my_number] = [row for row in ido.fields if row.name == "my_number"]
        assert crypto.is_retired(my_number.value), "entered and read back: only the keyed hash and mask remain"
        assert crypto.matches(my_number.value, truths["ido_0001"]["my_number"])
        assert session.scalar(select(AuditEntry.id).where(AuditEntry.action == "mynumber.retired"))
        blind = session.scalars(select(BlindEntry)).one()
        assert reveal_value(blind.value) == typed
        corrected = session.scalars(select(FieldValue).where(FieldValue.name == "haigusha_my_number")).one()
        assert reveal_value(corrected.corrected_value) == typed
    engine.dispose()

    sqlite_dir = tmp_path if ledger_url.startswith("sqlite") else None
    found, raw = _search_database(ledger_url, sqlite_dir)
    assert found == [], f"{len(found)} valid 個人番号 in the raw database"
    assert len(raw) > 10_000 and b"$mynumber" in raw, "the search ran over the real ledger"
    for number in carried | {typed}:
        assert number.encode() not in raw


def _seed_forms(url: str, count: int) -> list[int]:
    from benchmarks.robot_entry import add_ready_form

    engine = make_engine(url)
    init_db(engine)
    with session_scope(engine) as session:
        batch = repo.create_batch(session, "rotate", None)
        pks = [add_ready_form(session, batch, "ido_todoke", {"my_number": a_valid_number(10_000_000_000 + n),
                                                             "shotokusha_name": f"試験{n}"}, f"r{n}").id
               for n in range(count)]
    engine.dispose()
    return pks


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "taxintake.cli", *args], capture_output=True, text=True,
                          timeout=180, env=env)


def test_keys_rotate_reencrypts_every_value_and_is_audited(ledger_url, monkeypatch) -> None:
    pks = _seed_forms(ledger_url, 3)
    env = {**os.environ, "TAXINTAKE_MYNUMBER_KEY": KEY_2, "TAXINTAKE_MYNUMBER_OLD_KEYS": KEY_1}
    done = _cli("keys", "rotate", "--ledger-url", ledger_url, "--actor", "admin-yamada", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "re-encrypted 3 under test-k2" in done.stdout

    # Only the new key configured now: every value still opens, and the old key is needed for nothing.
    monkeypatch.setenv("TAXINTAKE_MYNUMBER_KEY", KEY_2)
    monkeypatch.delenv("TAXINTAKE_MYNUMBER_OLD_KEYS", raising=False)
    engine = make_engine(ledger_url)
    with session_scope(engine) as session:
        rows = session.scalars(select(FieldValue).where(FieldValue.name == "my_number")
                               .order_by(FieldValue.form_pk)).all()
        assert [crypto.key_id_of(row.value) for row in rows] == ["test-k2"] * 3
        assert [reveal_value(row.value) for row in rows] == [a_valid_number(10_000_000_000 + n) for n in range(3)]
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "keys.rotate")).one()
        assert audit.actor == "admin-yamada" and json.loads(audit.after)["from_keys"] == {"test-k1": 3}
        assert "dGF4" not in (audit.after or "") and "c2Vj" not in (audit.after or "")
        from ledger.audit import verify_audit

        assert verify_audit(session) == []
        assert len(session.scalars(select(Form).where(Form.id.in_(pks))).all()) == 3
    engine.dispose()
    # A second rotation finds nothing left to do.
    again = _cli("keys", "rotate", "--ledger-url", ledger_url, env={**env, "TAXINTAKE_MYNUMBER_OLD_KEYS": ""})
    assert again.returncode == 0 and "re-encrypted 0" in again.stdout and "3 already current" in again.stdout


def test_a_second_copy_read_after_a_rotation_is_still_found_as_a_duplicate(tmp_path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    _seed_forms(url, 1)
    monkeypatch.setenv("TAXINTAKE_MYNUMBER_KEY", KEY_2)
    monkeypatch.setenv("TAXINTAKE_MYNUMBER_OLD_KEYS", KEY_1)
    from benchmarks.robot_entry import add_ready_form

    engine = make_engine(url)
    with session_scope(engine) as session:
        batch = repo.create_batch(session, "again", None)
        copy = add_ready_form(session, batch, "ido_todoke", {"my_number": a_valid_number(10_000_000_000),
                                                             "shotokusha_name": "試験0"}, "again")
        other = add_ready_form(session, batch, "ido_todoke", {"my_number": a_valid_number(10_000_000_001),
                                                              "shotokusha_name": "試験0"}, "other")
        assert copy.state == "QUARANTINED" and "二重提出" in copy.state_reason
        assert other.state != "QUARANTINED", "another number is another form, though both show ********xxxx masked"
    engine.dispose()


def test_without_a_key_the_ledger_refuses_with_how_to_set_one(tmp_path, prefect_server, monkeypatch) -> None:
    from taxintake.keys import MissingKey

    monkeypatch.delenv("TAXINTAKE_MYNUMBER_KEY")
    monkeypatch.setenv("TAXINTAKE_MYNUMBER_KEY_BLOCK", "no-such-block-for-this-test")
    with pytest.raises(MissingKey, match="TAXINTAKE_MYNUMBER_KEY.*taxintake keys new"):
        crypto.seal(a_valid_number(1))
    monkeypatch.setenv("TAXINTAKE_MYNUMBER_KEY", "k1:tooshort")
    with pytest.raises(MissingKey, match="base64 of 32 bytes") as refused:
        crypto.seal(a_valid_number(1))
    assert "tooshort" not in str(refused.value), "a malformed key is never echoed"


def test_the_key_can_come_from_a_prefect_secret_block(prefect_server, monkeypatch) -> None:
    from prefect.blocks.system import Secret

    Secret(value=KEY_2).save("taxintake-mynumber-key-test", overwrite=True)
    monkeypatch.delenv("TAXINTAKE_MYNUMBER_KEY")
    monkeypatch.setenv("TAXINTAKE_MYNUMBER_KEY_BLOCK", "taxintake-mynumber-key-test")
    stored = crypto.seal(a_valid_number(5))
    assert crypto.key_id_of(stored) == "test-k2" and crypto.reveal(stored) == a_valid_number(5)
