"""A long night: generated pages of all three forms dropped in waves into the inbox while readers (`taxintake watch`)
and robots (`taxintake enter`, run again and again) work as separate processes against legacy_sim under faults, a
reviewer settles flagged forms through the review page's HTTP API (signed in as supervisors, the same endpoints
the browser posts to), and every `--kill-every` seconds a reader or a robot is killed with SIGKILL (its whole process
group) and started again.

It prints pages and forms per minute, the load average and peak memory beside them (speed figures mean something
only on an idle machine), then the counts in both databases: pages lost, pages or records doubled, ENTERED forms
whose legacy record reads back different, and whether the audit chain verifies.

    python benchmarks/soak.py --pages 60          # a quick proof that it works (about 20–40 minutes on 2 busy cores)
    python benchmarks/soak.py --pages 2000        # the night, on an idle machine

Pages are generated once (seeded) and kept in `--cache` (default var/soak_pages), so a second run starts at once.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from benchmarks.scratch_keys import use_scratch_keys  # noqa: E402

from benchmarks.memory import tree_rss_kib  # noqa: E402
from benchmarks.robot_entry import (DEFAULT_FAULTS, FORM_IDS, KEY_COLUMNS, _free_port,  # noqa: E402
                                    legacy_records)

DEFAULT_SEED = 900_700
# A blind field mistyped by the reader needs a second person; a conflict between two entries, a third supervisor.
REVIEWERS = (("soak_sup1", "soak-supervisor-1-pass"), ("soak_sup2", "soak-supervisor-2-pass"),
             ("soak_sup3", "soak-supervisor-3-pass"))
PROFILES = ("clean300", "office200")


# ---- the pages ---------------------------------------------------------------------------------------------------

def _generate_one(job: tuple[str, int, str, str, str]) -> str:
    from samples.generate import generate_page, write_page

    cache, index, form_id, style, profile = job
    stem = f"soak_{index:05d}"
    folder = Path(cache)
    existing = list(folder.glob(f"{stem}.*"))
    if any(p.name.endswith(".truth.json") for p in existing) and len(existing) >= 2:
        return stem
    page = generate_page(form_id, style=style, profile=profile, seed=index)
    write_page(page, folder, stem)
    return stem


def generate_pages(cache: Path, pages: int, seed: int, workers: int) -> list[Path]:
    """The scans (one page each, the three forms in turn), generated once per seed and kept in `cache`."""
    from concurrent.futures import ProcessPoolExecutor

    folder = cache / f"seed_{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    jobs = [(str(folder), seed + n, FORM_IDS[n % 3], "handwritten" if rng.random() < 0.25 else "printed",
             rng.choice(PROFILES)) for n in range(pages)]
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        stems = list(pool.map(_generate_one, jobs, chunksize=4))
    print(f"pages ready: {len(stems)} in {folder} ({time.monotonic() - started:.0f} s)", flush=True)
    return [next(p for p in folder.glob(f"{stem}.*") if not p.name.endswith(".truth.json")) for stem in stems]


# ---- the processes -----------------------------------------------------------------------------------------------

@dataclass
class Worker:
    """A reader or a robot: one process group, started again whenever it is not running."""
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    restart_pause_s: float = 0.0
    process: subprocess.Popen | None = None
    starts: int = 0
    kills: int = 0
    stopped_at: float = 0.0

    def ensure_running(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        if self.process is not None and not self.stopped_at:
            self.stopped_at = time.monotonic()
        if self.stopped_at and time.monotonic() - self.stopped_at < self.restart_pause_s:
            return
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.argv, cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.starts += 1
        self.stopped_at = 0.0

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> bool:
        if not self.running():
            return False
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return False
        self.process.wait()
        self.kills += 1
        self.stopped_at = time.monotonic() - self.restart_pause_s  # started again at the next look
        return True

    def stop(self) -> None:
        if self.running():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _start_legacy(home: Path, db: Path, faults: str, seed: int) -> tuple[subprocess.Popen, str]:
    """legacy_sim writing to a log file (a pipe nobody reads would fill during a night and stall it)."""
    import socket

    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "taxintake.cli", "legacy-sim", "--port", str(port), "--db", str(db), "--faults", faults,
         "--seed", str(seed), "--robot-accounts", "4", "--log-level", "warning"],
        cwd=REPO, stdout=(home / "legacy.log").open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("legacy_sim exited; see legacy.log")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"http://127.0.0.1:{port}"
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("legacy_sim did not start within 120 s")


def _stop_legacy(home: Path, process: subprocess.Popen) -> dict[str, int]:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    match = re.search(r"faults injected: (\{.*\})", (home / "legacy.log").read_text("utf-8", "replace"))
    return json.loads(match.group(1)) if match else {}


def _start_review(home: Path, url: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "taxintake.cli", "review", "--port", str(port)], cwd=REPO,
                               env=env, stdout=(home / "review.log").open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    import socket

    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the review page did not start; see review.log")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"http://127.0.0.1:{port}"
        time.sleep(0.3)
    process.kill()
    raise RuntimeError("the review page did not start within 180 s")


# ---- the reviewer ------------------------------------------------------------------------------------------------

@dataclass
class ReviewTally:
    fields_saved: int = 0
    second_entries: int = 0
    forms_rejected: int = 0
    http_errors: Counter = field(default_factory=Counter)


class Reviewer:
    """Three supervisors at the review page: each flagged field typed from the page's ground truth, as the browser
    posts it (a second person where the blind check asks for one, a third for a conflict); a form that cannot be
    settled is rejected."""

    def __init__(self, base: str, ledger_url: str, truths: dict[str, dict]) -> None:
        import httpx

        self.base, self.ledger_url, self.truths = base, ledger_url, truths
        self.client = httpx.Client(timeout=60.0, follow_redirects=False)
        self.sessions = [self._sign_in(name, password) for name, password in REVIEWERS]
        self.tally = ReviewTally()

    def _sign_in(self, name: str, password: str) -> tuple[dict[str, str], str]:
        login = self.client.get(f"{self.base}/login")
        login_cookie = login.headers["set-cookie"].split(";", 1)[0]
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
        answer = self.client.post(f"{self.base}/login", data={"name": name, "password": password, "next": "/queue",
                                                              "csrf_token": token}, headers={"Cookie": login_cookie})
        if answer.status_code != 303:
            raise RuntimeError(f"sign-in of {name} failed: HTTP {answer.status_code}")
        cookie = next(value.split(";", 1)[0] for key, value in answer.headers.multi_items()
                      if key == "set-cookie" and value.startswith("taxintake_review="))
        page = self.client.get(f"{self.base}/queue", headers={"Cookie": cookie})
        csrf = re.search(r'data-csrf="([^"]+)"', page.text).group(1)
        return {"Cookie": cookie, "X-CSRF-Token": csrf}, name

    def waiting(self) -> list[tuple[int, str, list[str]]]:
        """(form, its scan's sha256, flagged field names) of the forms waiting for people now."""
        from ledger import repo
        from ledger.db import make_engine, session_scope

        with session_scope(make_engine(self.ledger_url), write=False) as session:
            forms = session.query(repo.Form).filter(repo.Form.state == "NEEDS_REVIEW").order_by(repo.Form.id).all()
            return [(form.id, form.scan_file.sha256, [f.name for f in form.fields if f.status == "review"])
                    for form in forms]

    def settle(self, form_pk: int, sha256: str, flagged: list[str]) -> None:
        truth = self.truths.get(sha256, {}).get("fields", {})
        if not flagged:  # sent back by a robot (homonyms, nobody found): a person decides, here by setting aside
            self._reject(form_pk, "soak: 同姓同名または該当者なし（人が判断）/ homonyms or nobody: set aside")
            return
        for name in flagged:
            value = truth.get(name)
            typed = "" if value is None else ("1" if value is True else "0" if value is False else str(value))
            if not self._type(form_pk, name, typed):
                self._reject(form_pk, f"soak: {name} を確定できません / field cannot be settled")
                return

    def _type(self, form_pk: int, name: str, typed: str) -> bool:
        for index, (headers, _) in enumerate(self.sessions):
            answer = self.client.post(f"{self.base}/forms/{form_pk}/fields/{name}", headers=headers,
                                      data={"value": typed, "force": "1", "seconds": "3.0", "view": "form"})
            if answer.status_code == 409:
                body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
                if body.get("resolved"):
                    return True  # someone (or an earlier try) settled it
                continue  # a second entry needs the other person
            if answer.status_code != 200:
                self.tally.http_errors[answer.status_code] += 1
                return False
            body = answer.json()
            self.tally.fields_saved += 1
            self.tally.second_entries += index
            if body.get("resolved"):
                return True
        return False

    def _reject(self, form_pk: int, reason: str) -> None:
        headers, _ = self.sessions[0]
        answer = self.client.post(f"{self.base}/forms/{form_pk}/reject", headers=headers,
                                  data={"reason": reason, "seconds": "5.0"})
        if answer.status_code in (200, 303):
            self.tally.forms_rejected += 1
        else:
            self.tally.http_errors[answer.status_code] += 1

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                waiting = self.waiting()
                for form_pk, sha256, flagged in waiting:
                    if stop.is_set():
                        return
                    self.settle(form_pk, sha256, flagged)
            except Exception as error:  # noqa: BLE001 - the reviewer goes on; the error is counted
                self.tally.http_errors[type(error).__name__] += 1
            stop.wait(5.0)


# ---- the counts --------------------------------------------------------------------------------------------------

def count_outcome(ledger_url: str, legacy_db: Path, dropped: dict[str, str]) -> dict:
    """Lost, doubled and read-back counts over both databases; `dropped`: sha256 -> file name."""
    from sqlalchemy import func, select

    from ledger import repo
    from ledger.audit import verify_audit
    from ledger.db import make_engine, session_scope
    from ledger.models import IntakeFile

    engine = make_engine(ledger_url)
    with session_scope(engine, write=False) as session:
        files = {row.sha256: row.state for row in session.scalars(select(IntakeFile))}
        pages = session.execute(select(repo.ScanFile.sha256, repo.Form.page, func.count(repo.Form.id))
                                .join(repo.Form, repo.Form.scan_file_id == repo.ScanFile.id)
                                .group_by(repo.ScanFile.sha256, repo.Form.page)).all()
        forms = session.scalars(select(repo.Form)).all()
        states = Counter(str(form.state) for form in forms)
        entered = {form.entry_receipt: (form.form_id, repo.form_values_for_entry(form)) for form in forms
                   if form.state == "ENTERED"}
        audit_problems = verify_audit(session)
    recorded = {sha for sha, _, _ in pages}
    lost = [name for sha, name in dropped.items() if sha not in recorded]
    doubled_pages = sum(count - 1 for _, _, count in pages if count > 1)
    legacy, doubled_records = legacy_records(legacy_db)
    equal = different = 0
    for receipt, (form_id, values) in entered.items():
        row = legacy.get(receipt)
        same = row is not None and row["form_id"] == form_id and all(
            (kind(values.get(name)) if values.get(name) not in (None, "") else None) == row[column]
            for name, column, kind in KEY_COLUMNS[form_id])
        equal += same
        different += not same
    return {"files_dropped": len(dropped), "file_states": dict(Counter(files.values())),
            "pages_lost": len(lost), "lost_names": lost[:20], "pages_doubled": doubled_pages,
            "legacy_records_doubled": doubled_records, "legacy_records": len(legacy),
            "legacy_records_without_entered_form": sum(1 for r in legacy if r not in entered),
            "form_states": dict(states), "entered": len(entered), "entered_read_back_equal": equal,
            "entered_read_back_different": different, "audit_chain_intact": not audit_problems,
            "audit_problems": [str(p) for p in audit_problems[:5]]}


def _unsettled(ledger_url: str) -> int:
    from sqlalchemy import func, select

    from ledger import repo
    from ledger.db import make_engine, session_scope
    from ledger.models import IntakeFile

    with session_scope(make_engine(ledger_url), write=False) as session:
        files = session.scalar(select(func.count(IntakeFile.id)).where(IntakeFile.state.in_(["QUEUED", "READING"])))
        forms = session.scalar(select(func.count(repo.Form.id)).where(
            repo.Form.state.in_(["RECEIVED", "READ", "NEEDS_REVIEW", "READY", "ENTERING"])))
    return int(files or 0) + int(forms or 0)


def _pages_and_entered(ledger_url: str) -> tuple[int, int]:
    from sqlalchemy import func, select

    from ledger import repo
    from ledger.db import make_engine, session_scope

    with session_scope(make_engine(ledger_url), write=False) as session:
        pages = session.scalar(select(func.count(repo.Form.id))) or 0
        entered = session.scalar(select(func.count(repo.Form.id)).where(repo.Form.state == "ENTERED")) or 0
    return int(pages), int(entered)


# ---- the night ---------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--cache", type=Path, default=REPO / "var" / "soak_pages")
    parser.add_argument("--home", type=Path, default=None, help="working folder (default: a new temporary one)")
    parser.add_argument("--ledger-url", default=None, help="default: a SQLite file in --home")
    parser.add_argument("--waves", type=int, default=None, help="default: one wave per 50 pages (at least 3)")
    parser.add_argument("--wave-every", type=float, default=60.0, help="seconds between waves")
    parser.add_argument("--kill-every", type=float, default=180.0, help="seconds between SIGKILLs")
    parser.add_argument("--readers", type=int, default=1)
    parser.add_argument("--faults", default=DEFAULT_FAULTS)
    parser.add_argument("--max-hours", type=float, default=12.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    use_scratch_keys()

    from ledger import review_repo
    from ledger.db import init_db, make_engine, session_scope
    from review.auth import hash_password
    from taxintake.prefect_server import start_prefect_server

    cores = os.cpu_count() or 1
    scans = generate_pages(args.cache, args.pages, args.seed, cores)
    import hashlib

    dropped: dict[str, str] = {}
    truths: dict[str, dict] = {}
    for scan in scans:
        digest = hashlib.sha256(scan.read_bytes()).hexdigest()
        dropped[digest] = scan.name
        truths[digest] = json.loads(scan.with_name(f"{scan.name.rsplit('.', 1)[0]}.truth.json").read_text("utf-8"))
    home = args.home or Path(tempfile.mkdtemp(prefix="soak_", dir=str(REPO / "var")))
    (home / "inbox").mkdir(parents=True, exist_ok=True)
    ledger_url = args.ledger_url or f"sqlite:///{home / 'ledger.sqlite3'}"
    init_db(make_engine(ledger_url))
    with session_scope(make_engine(ledger_url)) as session:
        for name, password in REVIEWERS:
            if review_repo.user_by_name(session, name) is None:
                review_repo.create_user(session, name, name, "supervisor", hash_password(password))

    prefect = start_prefect_server(home / "prefect")
    legacy_db = home / "legacy.sqlite3"
    legacy, legacy_url = _start_legacy(home, legacy_db, args.faults, args.seed)
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "TAXINTAKE_HOME": str(home), "TAXINTAKE_LEDGER_URL": ledger_url, "PREFECT_API_URL": prefect.api_url,
           "TAXINTAKE_LEGACY_URL": legacy_url, "TAXINTAKE_LEGACY_USER": "robot01",
           "TAXINTAKE_LEGACY_PASSWORD": "robot01-pass", "PREFECT_LOGGING_LEVEL": "WARNING",
           "TAXINTAKE_WORKERS": str(max(1, cores // max(1, args.readers)))}
    env.pop("TAXINTAKE_WORKER_ID", None)
    review, review_url = _start_review(home, ledger_url, env)
    cli = [sys.executable, "-m", "taxintake.cli"]
    readers = [Worker(f"reader{n + 1}", [*cli, "watch", "--settle", "2", "--poll", "1"], env,
                      home / f"reader{n + 1}.log") for n in range(args.readers)]
    robot = Worker("robot", [*cli, "enter", "--limit", "50"], env, home / "robot.log", restart_pause_s=5.0)
    workers = [*readers, robot]
    stop = threading.Event()
    reviewer = Reviewer(review_url, ledger_url, truths)
    review_thread = threading.Thread(target=reviewer.run, args=(stop,), daemon=True)
    waves = max(3, args.waves or -(-args.pages // 50))
    wave_size = -(-len(scans) // waves)
    print(f"soak: {len(scans)} pages in {waves} waves every {args.wave_every:.0f} s; a kill every "
          f"{args.kill_every:.0f} s; faults {args.faults}; home {home}", flush=True)

    def _interrupt(_signal, _frame):
        raise KeyboardInterrupt  # SIGTERM (or SIGINT in a background job) still stops the workers and counts

    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    started = time.monotonic()
    next_wave, next_kill, wave = started, started + args.kill_every, 0
    peak_kb, load_peak, kills = 0, 0.0, Counter()
    first_drop = last_progress = None
    finished = False
    review_thread.start()
    interrupted = False
    try:
        while time.monotonic() - started < args.max_hours * 3600:
            now = time.monotonic()
            for worker in workers:
                worker.ensure_running()
            if wave < waves and now >= next_wave:
                for index, scan in enumerate(scans[wave * wave_size:(wave + 1) * wave_size]):
                    target = home / "inbox" / scan.name
                    if index % 2:  # a clerk's copy under a .part name, renamed when done
                        shutil.copyfile(scan, target.with_name(target.name + ".part"))
                        os.replace(target.with_name(target.name + ".part"), target)
                    else:
                        shutil.copyfile(scan, target)
                first_drop = first_drop or now
                wave += 1
                next_wave = now + args.wave_every
            if now >= next_kill:
                victim = readers[kills.total() % len(readers)] if kills.total() % 2 == 0 else robot
                if victim.kill9():
                    kills[victim.name] += 1
                    print(f"  {time.strftime('%H:%M:%S')} SIGKILL {victim.name}", flush=True)
                next_kill = now + args.kill_every
            peak_kb = max(peak_kb, tree_rss_kib(*[w.process.pid for w in workers if w.running()],
                                                review.pid, legacy.pid)[0])
            load_peak = max(load_peak, os.getloadavg()[0])
            if wave >= waves and not any((home / "inbox").iterdir()) and _unsettled(ledger_url) == 0:
                finished = True
                break
            if int(now - started) % 60 < 2:
                pages, entered = _pages_and_entered(ledger_url)
                if (pages, entered) != last_progress:
                    print(f"  {time.strftime('%H:%M:%S')} pages recorded {pages}, entered {entered}, kills "
                          f"{dict(kills)}, load {os.getloadavg()[0]:.1f}", flush=True)
                    last_progress = (pages, entered)
            time.sleep(2)
    except KeyboardInterrupt:
        interrupted = True
        print("soak: stopped by a signal; counting what was done", flush=True)
    finally:
        stop.set()
        for worker in workers:
            worker.stop()
        review.terminate()
        faults = _stop_legacy(home, legacy)
        prefect.stop()
    minutes = (time.monotonic() - (first_drop or started)) / 60
    counts = count_outcome(ledger_url, legacy_db, dropped)
    pages_recorded = counts["files_dropped"] - counts["pages_lost"]
    result = {
        "pages": len(scans), "finished": finished, "interrupted": interrupted, "minutes": round(minutes, 1),
        "pages_per_minute": round(pages_recorded / minutes, 2) if minutes else None,
        "forms_entered_per_minute": round(counts["entered"] / minutes, 2) if minutes else None,
        "load_average_peak_1min": round(load_peak, 1), "load_average_now": [round(x, 1) for x in os.getloadavg()],
        "peak_memory_mb": round(peak_kb / 1024), "cores": cores, "kills": dict(kills),
        "starts": {w.name: w.starts for w in workers}, "faults_injected": faults,
        "review": {"fields_saved": reviewer.tally.fields_saved, "second_entries": reviewer.tally.second_entries,
                   "forms_rejected": reviewer.tally.forms_rejected, "errors": dict(reviewer.tally.http_errors)},
        **counts, "home": str(home)}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(f"soak {'finished' if finished else 'STOPPED BEFORE THE END'}: {len(scans)} pages in "
              f"{minutes:.1f} min: {result['pages_per_minute']} pages/min, {result['forms_entered_per_minute']} forms "
              f"entered/min; load average peak {load_peak:.1f} on {cores} cores; peak memory {result['peak_memory_mb']}"
              f" MB; kills {dict(kills)}")
        print(f"  ledger: lost {counts['pages_lost']}, doubled {counts['pages_doubled']}; states "
              f"{counts['form_states']}; files {counts['file_states']}")
        print(f"  legacy: {counts['legacy_records']} records, doubled {counts['legacy_records_doubled']}, without an "
              f"ENTERED form {counts['legacy_records_without_entered_form']}; ENTERED read back equal "
              f"{counts['entered_read_back_equal']} of {counts['entered']}")
        print(f"  audit chain intact: {counts['audit_chain_intact']}; review: {result['review']}; faults {faults}")
    ok = finished and counts["pages_lost"] == 0 and counts["pages_doubled"] == 0 \
        and counts["legacy_records_doubled"] == 0 and counts["entered_read_back_different"] == 0 \
        and counts["audit_chain_intact"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
