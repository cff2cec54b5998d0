"""A copy into the inbox that stalls for 60 s mid-file, then finishes: intake runs again and again meanwhile (settle
time 1 s), yet the file leaves the inbox only once whole: archived whole, read, nothing quarantined.

Two copies: one whose writer keeps the file open through the stall (seen in /proc), one whose writer closes the
half file and comes back (a share's client on another machine looks like this: only the format says it is cut)."""
from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger import intake_queue, repo
from ledger.db import make_engine, session_scope

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "scans"
STALL_S = 60

HELD_OPEN = """
import sys, time
data = open(sys.argv[1], 'rb').read()
with open(sys.argv[2], 'wb') as out:
    out.write(data[: len(data) // 2]); out.flush()
    time.sleep(float(sys.argv[3]))
    out.write(data[len(data) // 2:])
"""
CLOSED_BETWEEN = """
import sys, time
data = open(sys.argv[1], 'rb').read()
with open(sys.argv[2], 'wb') as out:
    out.write(data[: len(data) // 2])
time.sleep(float(sys.argv[3]))
with open(sys.argv[2], 'ab') as out:
    out.write(data[len(data) // 2:])
"""


def test_a_copy_stalled_for_a_minute_is_taken_whole(tmp_path: Path, prefect_server) -> None:
    from flows.intake import intake

    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    sources = {"held_open.png": SAMPLES / "scan_0001.png", "closed_between.jpg": SAMPLES / "scan_0003.jpg"}
    writers = [subprocess.Popen([sys.executable, "-c", code, str(sources[name]), str(inbox / name), str(STALL_S)])
               for name, code in (("held_open.png", HELD_OPEN), ("closed_between.jpg", CLOSED_BETWEEN))]
    runs = 0
    started = time.monotonic()
    try:
        while time.monotonic() - started < STALL_S + 600:
            intake(inbox=str(inbox), archive_root=str(archive), ledger_url=url, label=f"run {runs}",
                   settle_seconds=1.0)
            runs += 1
            if time.monotonic() - started < STALL_S - 5:
                assert sorted(p.name for p in inbox.iterdir()) == sorted(sources), "a half file left the inbox"
            if all(w.poll() is not None for w in writers) and not any(inbox.iterdir()):
                break
            time.sleep(2)
    finally:
        for writer in writers:
            writer.wait(timeout=STALL_S + 60)
    assert all(w.returncode == 0 for w in writers)
    assert runs >= 5, f"intake ran only {runs} times during the stall"
    assert not any(inbox.iterdir())
    whole = {hashlib.sha256(path.read_bytes()).hexdigest() for path in sources.values()}
    archived = {p.stem for p in archive.glob("??/*") if p.is_file()}
    assert archived == whole, "only the whole files were archived (no half copy)"
    with session_scope(make_engine(url), write=False) as session:
        assert intake_queue.queue_counts(session) == {intake_queue.READ: 2}
        forms = session.scalars(select(repo.Form)).all()
        assert len(forms) == 2
        assert [f.state for f in forms if f.state == "QUARANTINED"] == [], [f.state_reason for f in forms]
        assert {f.form_id for f in forms} <= {"ido_todoke", "kyuyo_hokoku", "hojin_shinkoku"} and all(
            f.form_id for f in forms)
