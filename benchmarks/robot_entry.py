"""Robot entry under faults: READY forms in a fresh ledger, legacy_sim breaking the way real systems do.

    python benchmarks/robot_entry.py --count 200 --sessions 4 --seed 0 [--faults SPEC] [--json]

Makes `count` READY forms of the three kinds (generated contents: people and companies drawn from the population
legacy_sim is seeded with, so a few are unknown to it or homonyms), starts legacy_sim in its own process with the
faults (default: 10% 503s, 5% slow answers of 3 s, every session ended 60 s after its login, 2% record locks),
runs the `enter` flow's work with `sessions` robots, then checks the outcome from both databases:

- entered / failed (by reason) / sent back to people (by reason) / deferred, from the ledger;
- duplicates: records in legacy_sim beyond the first with the same duplicate key, and forced duplicates;
- unaccounted: forms not in a final state, ENTERED forms whose receipt legacy_sim does not hold, and legacy_sim
  records no ENTERED form points at;
- read-back: entered forms whose robot read-back matched every field, and that also pass an independent check of
  key columns in legacy_sim's own table against the ledger;
- forms per minute: forms given an outcome per minute of the entry run (browsers started inside it).

With `--json` the last line is one JSON object (keys entered, failed, duplicates, unaccounted, forms_per_minute,
and the details).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from benchmarks.scratch_keys import use_scratch_keys  # noqa: E402

DEFAULT_FAULTS = "503=0.1,slow=0.05:3,expire=60,lock=0.02"
FORM_IDS = ("ido_todoke", "kyuyo_hokoku", "hojin_shinkoku")
LEGACY_TABLES = {"ido_todoke": "ido_todoke", "kyuyo_hokoku": "kyuyo_hokoku", "hojin_shinkoku": "hojin_shinkoku"}
# An independent check of what legacy_sim stored, written apart from the robot's screen map:
# form -> [(ledger field, legacy column, how the ledger value is stored)].
KEY_COLUMNS = {
    "ido_todoke": [("my_number", "kojin_no", str), ("nenzeigaku", "nenzei", int), ("shitei_bango", "shitei_no", str),
                   ("michoshu_gaku", "michoshu", int)],
    "kyuyo_hokoku": [("my_number", "kojin_no", str), ("shiharai_kingaku", "shiharai_kingaku", int),
                     ("shiharaisha_bango", "shiharaisha_bango", str)],
    "hojin_shinkoku": [("hojin_bango", "hojin_no", str), ("kintowari_gaku", "kintowari_gaku", int),
                       ("nofu_shichosonminzei", "nofu_shichosonminzei", int)],
}
DUPLICATE_KEYS = {"ido_todoke": ("shitei_no", "atena_no", "ido_ymd"), "kyuyo_hokoku": ("atena_no", "shiharaisha_bango"),
                  "hojin_shinkoku": ("kanri_no", "jigyo_nendo_shuryo", "shinkoku_kubun")}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_legacy_sim(db: Path, faults: str, seed: int, accounts: int) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "taxintake.cli", "legacy-sim", "--port", str(port), "--db", str(db), "--faults", faults,
         "--seed", str(seed), "--robot-accounts", str(accounts), "--log-level", "warning"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"legacy_sim exited: {process.stdout.read() if process.stdout else ''}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"http://127.0.0.1:{port}"
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("legacy_sim did not start within 60 s")


def _stop_legacy_sim(process: subprocess.Popen) -> dict[str, int]:
    process.terminate()
    output, _ = process.communicate(timeout=30)
    match = re.search(r"faults injected: (\{.*\})", output or "")
    return json.loads(match.group(1)) if match else {}


def add_ready_form(session, batch, form_id: str, values: dict, name: str):
    """One form recorded as the intake flow records a page whose every field was read with confidence."""
    from ledger import repo
    from ocr.result import FieldReading, ReadResult
    from ocr.templates import load_template

    template = load_template(form_id)
    fields = {spec.name: FieldReading(value=values.get(spec.name), confidence=0.99,
                                      status="empty" if values.get(spec.name) in (None, "") else "accepted")
              for spec in template.fields}
    result = ReadResult(source=f"{name}.png", page=1, form_id=form_id, template_version=template.version,
                        seconds=0.0, fields=fields)
    digest = hashlib.sha256(f"{batch.id}:{name}".encode()).hexdigest()
    scan_file, _ = repo.register_scan_file(session, batch, f"{name}.png", f"bench/{digest}.png", digest, 1)
    return repo.record_read_result(session, batch, scan_file, result)


def make_ready_forms(ledger_url: str, count: int, seed: int) -> dict[int, tuple[str, dict]]:
    """`count` READY forms in the ledger, as the intake flow leaves them; returns form pk -> (form_id, values)."""
    from faker import Faker

    from ledger import repo
    from ledger.db import init_db, make_engine, session_scope
    from samples.generators import GENERATORS

    engine = make_engine(ledger_url)
    init_db(engine)
    made: dict[int, tuple[str, dict]] = {}
    with session_scope(engine) as session:
        batch = repo.create_batch(session, label=f"bench robot_entry seed {seed}", source=None)
        for index in range(count):
            form_id = FORM_IDS[index % len(FORM_IDS)]
            rng = random.Random(f"robot_entry:{form_id}:{seed}:{index}")
            faker = Faker("ja_JP")
            faker.seed_instance(rng.randrange(2**31))
            form = add_ready_form(session, batch, form_id, GENERATORS[form_id](rng, faker).truth,
                                  f"bench_{seed}_{index:05d}")
            if form.state == "READY":
                made[form.id] = (form_id, repo.form_values_for_entry(form))
    return made


def _bucket(reason: str) -> str:
    """A reason without the form's own numbers, to count like with like."""
    reason = re.sub(r"[A-Z]{2}\d{2}-\d{6}", "<受付番号>", reason)
    return re.sub(r"（\d+回試行）|\d+件", lambda m: "（n回試行）" if "試行" in m.group(0) else "n件", reason)


def check_outcome(ledger_url: str, legacy_db: Path, made: dict[int, tuple[str, dict]]) -> dict:
    from ledger import repo
    from ledger.db import make_engine, session_scope

    engine = make_engine(ledger_url)
    with session_scope(engine, write=False) as session:
        forms = {form.id: (form.state, form.entry_receipt, form.state_reason)
                 for form in session.query(repo.Form).filter(repo.Form.id.in_(list(made)))}
    legacy, duplicates = legacy_records(legacy_db)

    states = Counter(state for state, _, _ in forms.values())
    final = {"ENTERED", "ENTRY_FAILED", "NEEDS_REVIEW", "READY"}  # READY: deferred (system closed), untouched
    unaccounted = len(made) - len(forms) + sum(1 for state, _, _ in forms.values() if state not in final)
    entered_receipts = {receipt: pk for pk, (state, receipt, _) in forms.items() if state == "ENTERED"}
    unaccounted += sum(1 for receipt in entered_receipts if receipt not in legacy)
    unaccounted += sum(1 for receipt in legacy if receipt not in entered_receipts)

    checked = mismatched = 0
    for receipt, pk in entered_receipts.items():
        row = legacy.get(receipt)
        form_id, values = made[pk]
        if row is None or row["form_id"] != form_id:
            mismatched += 1
            continue
        checked += 1
        for ledger_name, column, kind in KEY_COLUMNS[form_id]:
            value = values.get(ledger_name)
            if (kind(value) if value not in (None, "") else None) != row[column]:
                mismatched += 1
                break
    failed = Counter(_bucket(reason or "") for state, _, reason in forms.values() if state == "ENTRY_FAILED")
    sent_back = Counter(_bucket(reason or "") for state, _, reason in forms.values() if state == "NEEDS_REVIEW")
    return {"states": dict(states), "duplicates": duplicates, "unaccounted": unaccounted,
            "failed_by_reason": dict(failed), "sent_back_by_reason": dict(sent_back),
            "independent_check": {"checked": checked, "mismatched": mismatched},
            "legacy_records": len(legacy)}



def legacy_records(legacy_db) -> tuple[dict[str, dict], int]:
    """Every record in legacy_sim by its receipt number (with its form id), and how many are duplicates: the same
    person or corporation entered twice, or entered past the duplicate warning."""
    conn = sqlite3.connect(legacy_db)
    conn.row_factory = sqlite3.Row
    legacy: dict[str, dict] = {}
    duplicates = 0
    try:
        for form_id, table in LEGACY_TABLES.items():
            rows = [dict(row) for row in conn.execute(f"SELECT * FROM {table}")]
            legacy.update({row["uketsuke_no"]: dict(row, form_id=form_id) for row in rows})
            keys = Counter(tuple(row[c] for c in DUPLICATE_KEYS[form_id]) for row in rows)
            duplicates += sum(n - 1 for n in keys.values()) + sum(row["forced_duplicate"] for row in rows)
    finally:
        conn.close()
    return legacy, duplicates

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="READY forms to enter (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the forms and of the fault draws")
    parser.add_argument("--sessions", type=int, default=4, help="robot sessions at once (default 4)")
    parser.add_argument("--faults", default=DEFAULT_FAULTS, help=f"legacy_sim fault spec (default {DEFAULT_FAULTS})")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)
    use_scratch_keys()

    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from flows.enter import enter_ready_forms
    from legacy_sim.settings import dev_robot_accounts

    with tempfile.TemporaryDirectory(prefix="robot_entry_") as tmp:
        work = Path(tmp)
        ledger_url = f"sqlite:///{work / 'ledger.sqlite3'}"
        made = make_ready_forms(ledger_url, args.count, args.seed)
        process, base_url = _start_legacy_sim(work / "legacy.sqlite3", args.faults, args.seed, args.sessions)
        try:
            started = time.monotonic()
            outcome = enter_ready_forms(ledger_url, base_url, dev_robot_accounts(args.sessions),
                                        robot_id="bench-robot", limit=len(made) + 10, sessions=args.sessions,
                                        evidence_dir=str(work / "evidence"))
            seconds = time.monotonic() - started
        finally:
            injected = _stop_legacy_sim(process)
        checks = check_outcome(ledger_url, work / "legacy.sqlite3", made)

    done = outcome.entered + outcome.already_entered + outcome.failed + outcome.sent_back + outcome.deferred
    result = {
        "count": args.count, "ready": len(made), "sessions": args.sessions, "faults": args.faults,
        "faults_injected": injected,
        "entered": outcome.entered + outcome.already_entered, "already_entered": outcome.already_entered,
        "failed": outcome.failed, "failed_by_reason": checks["failed_by_reason"],
        "sent_back": outcome.sent_back, "sent_back_by_reason": checks["sent_back_by_reason"],
        "deferred": outcome.deferred, "duplicates": checks["duplicates"], "unaccounted": checks["unaccounted"],
        "readback_equal": outcome.readback_ok, "independent_check": checks["independent_check"],
        "ledger_states": checks["states"], "legacy_records": checks["legacy_records"],
        "seconds": round(seconds, 1), "forms_per_minute": round(done / seconds * 60, 1),
        "entered_per_minute": round((outcome.entered + outcome.already_entered) / seconds * 60, 1),
        "cpu_count": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(f"robot_entry: {result['ready']} READY forms, {args.sessions} sessions, faults {args.faults}")
    print(f"  injected by legacy_sim: {injected}")
    print(f"  entered {result['entered']} (already there {outcome.already_entered}), failed {outcome.failed}, "
          f"sent back to people {outcome.sent_back}, deferred {outcome.deferred}")
    for reason, n in checks["failed_by_reason"].items():
        print(f"    failed  {n:3d}  {reason}")
    for reason, n in checks["sent_back_by_reason"].items():
        print(f"    to people {n:3d}  {reason}")
    print(f"  duplicates in legacy_sim: {result['duplicates']}   unaccounted: {result['unaccounted']}")
    print(f"  read-back equal: {outcome.readback_ok} of {result['entered']}; independent check of key columns: "
          f"{checks['independent_check']['checked'] - checks['independent_check']['mismatched']} of "
          f"{checks['independent_check']['checked']}")
    print(f"  {result['forms_per_minute']} forms/min ({result['entered_per_minute']} entered/min) over "
          f"{result['seconds']} s; load average {result['load_average_1min']} on {result['cpu_count']} CPUs")
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
