"""A reader process killed in the middle of a batch (the kernel's OOM killer, a crash in a native decoder) costs no
file: the files it and its siblings held go back to the queue and a fresh pool reads them, each recorded once."""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from flows.archive import archive_scan
from ledger import intake_queue, repo
from ledger.db import init_db, make_engine, session_scope
from ledger.models import Form, IntakeFile
from samples.bad_inputs import _blank, _tiny_image, _unknown_form


def test_a_reader_killed_mid_batch_loses_no_file(tmp_path: Path) -> None:
    from flows.intake import read_queue

    scans = tmp_path / "scans"
    scans.mkdir()
    for index, build in enumerate((_blank, _unknown_form, _tiny_image, _blank)):
        build(scans / f"page_{index}.png")
        if index == 3:  # a second blank page with other bytes
            (scans / f"page_{index}.png").write_bytes((scans / f"page_{index}.png").read_bytes() + b"\0")
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = make_engine(url)
    init_db(engine)
    archive = tmp_path / "archive"
    with session_scope(engine) as session:
        batch = repo.create_batch(session, "crash", None)
        for path in sorted(scans.iterdir()):
            scan = archive_scan(path, archive)
            intake_queue.enqueue_file(session, batch.id, scan.original_name, scan.relative_path, scan.sha256)

    killed: list[int] = []

    def kill_the_readers() -> None:
        """Once the pool's workers are up, kill them all: every file in flight fails with the pool."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            children = multiprocessing.active_children()
            if len(children) >= 2:
                time.sleep(0.5)
                for child in children:
                    os.kill(child.pid, signal.SIGKILL)
                    killed.append(child.pid)
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_readers)
    killer.start()
    outcome = read_queue(url, str(archive), workers=2, reader="test-reader")
    killer.join()
    assert killed, "the readers were killed mid-batch"
    with session_scope(engine, write=False) as session:
        states = dict(session.execute(select(IntakeFile.original_name, IntakeFile.state)).all())
        attempts = set(session.scalars(select(IntakeFile.attempts)))
        forms = session.scalar(select(func.count(Form.id)))
    assert states == {f"page_{i}.png": intake_queue.READ for i in range(4)}, states
    assert max(attempts) >= 2, "some file was read a second time after the crash"
    assert forms == 4 and outcome.pages_recorded == 4 and outcome.files_failed == 0
