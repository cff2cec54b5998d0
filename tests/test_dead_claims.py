"""Claims of the dead: a reader and a robot killed with SIGKILL mid-work (real processes) leave claims that the next
run on the same machine takes back at once, not after the 30-minute stale time; what is held is said, by whom and
since when."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger import claims, intake_queue, repo
from ledger.db import init_db, make_engine, session_scope
from ledger.models import ClaimHolder, IntakeFile
from tests.test_flows_intake import scan_into

REPO = Path(__file__).resolve().parent.parent


def _spawn(code: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'tests'}", "TAXINTAKE_WORKERS": "1"}
    env.pop("TAXINTAKE_WORKER_ID", None)
    # Its own process group, so that the kill takes its children (reader pool, browser driver) too.
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _kill_9(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)


def _wait_for(condition, seconds: float, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            raise AssertionError(f"{what}: the process ended first: {process.stderr.read()[-2000:]!r}")
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {seconds} s")


READER = """
import sys
from flows.intake import read_queue
read_queue(sys.argv[1], sys.argv[2], workers=1)
"""


def test_a_reader_killed_mid_file_gives_its_files_back_at_once(tmp_path: Path, prefect_server) -> None:
    from flows.intake import archive_and_queue, read_queue

    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    files = [scan_into(inbox, f"scan_{n}", seed=7400 + n) for n in range(2)]
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = make_engine(url)
    init_db(engine)
    archive_and_queue.fn([str(f) for f in files], str(inbox), str(archive), url, "kill")
    reader = _spawn(READER, url, str(archive))

    def holds_a_file() -> bool:
        with session_scope(engine, write=False) as session:
            return any(row.claimed_by and row.claimed_by.endswith(f":{reader.pid}")
                       for row in session.scalars(select(IntakeFile).where(IntakeFile.state == "READING")))

    _wait_for(holds_a_file, 300, reader, "the reader claimed a file")
    _kill_9(reader)
    with session_scope(engine, write=False) as session:
        [held] = [c for c in claims.held_claims(session) if c.kind == "files"]
        holder = session.get(ClaimHolder, held.holder)
    assert (held.pid, held.alive, holder.pid) == (reader.pid, False, reader.pid)
    assert held.since is not None and "停止 / gone" in held.describe() and str(reader.pid) in held.describe()

    started = time.monotonic()
    outcome = read_queue(url, str(archive), workers=1)  # the stale time stays the default 30 minutes
    assert outcome.files_read == 2 and outcome.files_failed == 0
    with session_scope(engine, write=False) as session:
        assert intake_queue.queue_counts(session) == {intake_queue.READ: 2}
        assert len(session.scalars(select(repo.Form)).all()) == 2, "each page recorded once"
        assert claims.held_claims(session) == []
    assert time.monotonic() - started < 25 * 60


ROBOT = """
import sys
from flows.enter import enter_ready_forms
enter_ready_forms(sys.argv[1], sys.argv[2], [("robot01", "robot01-pass")], robot_id="robot-killed")
"""


@pytest.mark.browser
def test_a_robot_killed_mid_entry_gives_its_forms_back_at_once(tmp_path: Path) -> None:
    from benchmarks.robot_entry import add_ready_form
    from flows.enter import enter_ready_forms
    from legacy_sim.faults import parse_fault_spec
    from legacy_sim.server import running_sim
    from legacy_sim.settings import SimSettings
    from test_robot_entry import CREDENTIALS, form_values, stored_rows

    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = make_engine(url)
    init_db(engine)
    with session_scope(engine) as session:
        batch = repo.create_batch(session, label="kill", source=None)
        pks = [add_ready_form(session, batch, "ido_todoke", form_values("ido_todoke", 370 + n), f"k{n}").id
               for n in range(5)]
    # Slow answers, so that the robot is killed with forms still in its hands.
    settings = SimSettings(faults=parse_fault_spec("slow=0.5:1"), seed=41)
    with running_sim(tmp_path / "legacy.sqlite3", settings) as sim:
        robot = _spawn(ROBOT, url, sim.base_url)

        def entered_one() -> bool:
            with session_scope(engine, write=False) as session:
                states = [session.get(repo.Form, pk).state for pk in pks]
            return "ENTERED" in states and "ENTERING" in states

        _wait_for(entered_one, 600, robot, "the robot entered one form and holds others")
        _kill_9(robot)
        with session_scope(engine, write=False) as session:
            [held] = [c for c in claims.held_claims(session) if c.kind == "forms"]
        assert (held.holder, held.pid, held.alive) == ("robot-killed", robot.pid, False)
        outcome = enter_ready_forms(url, sim.base_url, [CREDENTIALS], robot_id="robot-next")
        assert outcome.claimed >= held.count
        with session_scope(engine, write=False) as session:
            states = {pk: session.get(repo.Form, pk).state for pk in pks}
        assert set(states.values()) == {"ENTERED"}, states
        rows = stored_rows(sim.db_path)
    assert len(rows) == 5, f"{len(rows)} records in the legacy system for 5 forms"
    assert not any(row["forced_duplicate"] for row in rows)
