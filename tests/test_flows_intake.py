"""`intake` on real scans through real Prefect runs, on SQLite and PostgreSQL; the queue's claims across processes."""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import stat
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from ledger import intake_queue, repo
from ledger.db import init_db, make_engine, session_scope
from ledger.models import IntakeFile
from ledger.states import utc_now
from ocr.result import ReadResult
from samples.generate import generate_page, write_page


def scan_into(folder: Path, stem: str, seed: int) -> Path:
    """A generated printed 異動届 written as a clerk's scan (its ground truth kept out of the folder)."""
    path = write_page(generate_page("ido_todoke", style="printed", profile="clean300", seed=seed), folder, stem)
    (folder / f"{stem}.truth.json").unlink()
    return path


def test_intake_archives_reads_and_recognises_a_second_drop_of_the_same_file(tmp_path, prefect_server,
                                                                              ledger_url):
    from flows.intake import intake

    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    original = scan_into(inbox, "scan_0001", seed=7101)
    shutil.copyfile(original, inbox / "scan_0001_copy.png")  # the same scan twice in one drop
    digest = hashlib.sha256(original.read_bytes()).hexdigest()

    first = intake(inbox=str(inbox), archive_root=str(archive), ledger_url=ledger_url, label="first")
    assert (first.files_seen, first.files_already_known, first.pages_recorded) == (2, 1, 1)
    assert list(inbox.iterdir()) == [], "every file leaves the inbox once archived and queued"
    archived = archive / digest[:2] / f"{digest}.png"
    assert hashlib.sha256(archived.read_bytes()).hexdigest() == digest
    assert not os.stat(archived).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), "originals are read-only"

    scan_into(inbox, "scan_0001_again", seed=7101)  # the same bytes dropped again, under another name, later
    second = intake(inbox=str(inbox), archive_root=str(archive), ledger_url=ledger_url, label="second")
    assert (second.files_seen, second.files_already_known, second.pages_recorded) == (1, 1, 0)

    engine = make_engine(ledger_url)
    with session_scope(engine, write=False) as session:
        assert session.scalar(select(func.count(repo.Form.id))) == 1
        assert session.scalar(select(func.count(repo.ScanFile.id))) == 1
        form = session.scalars(select(repo.Form)).one()
        assert form.form_id == "ido_todoke" and form.batch_id == first.batch_id
        assert json.loads(form.read_json)["source"] == "scan_0001.png"
        assert intake_queue.queue_counts(session) == {intake_queue.READ: 1}
        batches = {b.id: b for b in session.scalars(select(repo.Batch))}
        assert batches[first.batch_id].finished_at is not None and batches[second.batch_id].finished_at is not None
    engine.dispose()


# ---- the queue, without OCR: claims across processes, readers that die ------------------------------------------

def queue_files(engine, count: int) -> list[int]:
    with session_scope(engine) as session:
        batch = repo.create_batch(session, "queue", "inbox")
        return [intake_queue.enqueue_file(session, batch.id, f"scan_{n}.png", f"ab/{n:064x}.png", f"{n:064x}")
                .intake_file_id for n in range(count)]


def _claim_until_none_left(url: str, reader: str, start, out_file: str) -> None:
    engine = make_engine(url)
    start.wait(timeout=60)
    claimed: list[int] = []
    while True:
        with session_scope(engine) as session:
            rows = intake_queue.claim_files(session, reader, 2)
            for row in rows:  # an empty read: recorded in the same transaction as on a real reader
                intake_queue.record_pages(session, row.id, reader, [])
        if not rows:
            break
        claimed.extend(row.id for row in rows)
        time.sleep(0.005)
    Path(out_file).write_text(json.dumps(claimed))


def test_two_readers_never_claim_the_same_file(ledger_url, tmp_path):
    engine = make_engine(ledger_url)
    init_db(engine)
    queued = queue_files(engine, 60)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    url = engine.url.render_as_string(hide_password=False)
    readers = {name: context.Process(target=_claim_until_none_left,
                                     args=(url, name, start, str(tmp_path / f"{name}.json")))
               for name in ("reader-a", "reader-b")}
    for process in readers.values():
        process.start()
    for process in readers.values():
        process.join(timeout=120)
        assert process.exitcode == 0
    claimed = {name: json.loads((tmp_path / f"{name}.json").read_text()) for name in readers}
    a, b = set(claimed["reader-a"]), set(claimed["reader-b"])
    assert not a & b and a | b == set(queued) and a and b
    with session_scope(engine, write=False) as session:
        rows = session.scalars(select(IntakeFile)).all()
        assert {row.state for row in rows} == {intake_queue.READ}
        assert all(row.id in claimed[row.read_by] and row.attempts == 1 for row in rows)
    engine.dispose()


def test_a_file_whose_reader_died_is_read_again_and_recorded_once(ledger_url):
    engine = make_engine(ledger_url)
    init_db(engine)
    [file_id] = queue_files(engine, 1)
    with session_scope(engine) as session:
        [row] = intake_queue.claim_files(session, "reader-dead", 5)
        assert intake_queue.claim_files(session, "reader-other", 5) == []
    with session_scope(engine) as session:  # still fresh: nobody takes it over
        assert intake_queue.release_stale_reads(session, timedelta(minutes=30)) == 0
        session.execute(update(IntakeFile).values(claimed_at=utc_now() - timedelta(hours=1)))
    with session_scope(engine) as session:
        assert intake_queue.release_stale_reads(session, timedelta(minutes=30)) == 1
    page = ReadResult(source="x", page=1, form_id=None, template_version=None, seconds=0.1, fields={},
                      error="blank page")
    with session_scope(engine) as session:
        [again] = intake_queue.claim_files(session, "reader-next", 5)
        assert again.id == file_id and again.attempts == 2
        assert intake_queue.record_pages(session, file_id, "reader-next", [page.model_copy()]) == 1
    with session_scope(engine) as session:  # the first reader wakes up late and reports too: nothing new
        assert intake_queue.record_pages(session, file_id, "reader-dead", [page.model_copy()]) == 0
    with session_scope(engine, write=False) as session:
        assert session.scalar(select(func.count(repo.Form.id))) == 1
        assert session.get_one(IntakeFile, file_id).read_by == "reader-next"
    engine.dispose()


def test_a_file_that_kills_its_readers_is_set_aside_after_three_tries(ledger_url):
    engine = make_engine(ledger_url)
    init_db(engine)
    [file_id] = queue_files(engine, 1)
    for attempt in range(1, intake_queue.MAX_ATTEMPTS + 1):
        with session_scope(engine) as session:
            assert [r.id for r in intake_queue.claim_files(session, f"reader-{attempt}", 1)] == [file_id]
            session.execute(update(IntakeFile).values(claimed_at=utc_now() - timedelta(hours=1)))
        with session_scope(engine) as session:
            assert intake_queue.release_stale_reads(session, timedelta(minutes=30)) == 1
    with session_scope(engine, write=False) as session:
        row = session.get_one(IntakeFile, file_id)
        assert row.state == intake_queue.FAILED and "3" in row.error and row.claimed_by is None
    engine.dispose()
