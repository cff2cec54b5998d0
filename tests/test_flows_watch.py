"""The watched inbox: what is taken, when a drop is complete, one batch per drop; the deployments and their schedules."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from flows import inbox as inbox_rules
from ledger import intake_queue, repo
from ledger.db import init_db, make_engine, session_scope
from tests.test_flows_intake import scan_into


def test_only_complete_regular_scans_directly_in_the_inbox_are_candidates(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    for name in ["a.pdf", "b.TIF", "c.jpg", "d.png.part", "e.pdf.tmp", ".f.pdf", "~$g.pdf", "h.crdownload",
                 "notes.txt", "sub/i.pdf"]:
        (inbox / name).write_bytes(b"x")
    (tmp_path / "outside.pdf").write_bytes(b"x")
    (inbox / "link.pdf").symlink_to(tmp_path / "outside.pdf")
    os.mkfifo(inbox / "pipe.pdf")
    (inbox / "folder.pdf").mkdir()
    assert [p.name for p in inbox_rules.candidates(inbox)] == ["a.pdf", "b.TIF", "c.jpg"]
    assert not inbox_rules.is_candidate(tmp_path / "outside.pdf", inbox)


def _write_slowly(path: Path, chunks: int, pause: float) -> None:
    with path.open("wb") as handle:
        for _ in range(chunks):
            handle.write(b"%PDF" + os.urandom(4096))
            handle.flush()
            time.sleep(pause)


def test_a_file_still_being_written_is_taken_only_once_it_stops_growing(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    writer = threading.Thread(target=_write_slowly, args=(inbox / "scan.pdf", 8, 0.25))
    writer.start()
    time.sleep(0.1)
    started = time.monotonic()
    files = inbox_rules.settled_files(inbox, settle_seconds=0.8, poll_seconds=0.1)
    writer.join()
    assert [p.name for p in files] == ["scan.pdf"]
    assert time.monotonic() - started >= 1.5, "returned while the file was still growing"
    assert (inbox / "scan.pdf").stat().st_size == 8 * 4100


def test_fifty_files_dropped_in_one_go_become_one_batch(tmp_path):
    from flows.intake import archive_and_queue

    inbox = tmp_path / "inbox"
    inbox.mkdir()

    def clerk_copies_fifty() -> None:
        for n in range(50):
            (inbox / f"scan_{n:02d}.pdf").write_bytes(b"%PDF-1.4 page " + str(n).encode() + b"\n%%EOF\n")
            time.sleep(0.02)

    copier = threading.Thread(target=clerk_copies_fifty)
    copier.start()
    time.sleep(0.05)
    files = inbox_rules.settled_files(inbox, settle_seconds=0.5, poll_seconds=0.1)
    copier.join()
    assert len(files) == 50

    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    init_db(make_engine(ledger_url))
    drop = archive_and_queue.fn([str(p) for p in files], str(inbox), str(tmp_path / "archive"), ledger_url, "watch")
    assert (drop.files_seen, drop.files_queued) == (50, 50)
    with session_scope(make_engine(ledger_url), write=False) as session:
        assert session.scalar(select(func.count(repo.Batch.id))) == 1
        assert intake_queue.queue_counts(session, drop.batch_id) == {intake_queue.QUEUED: 50}


def test_a_scan_dropped_while_the_watch_runs_is_picked_up_and_read(tmp_path, prefect_server, ledger_url,
                                                                    monkeypatch):
    from flows.watch import watch

    monkeypatch.setenv("TAXINTAKE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TAXINTAKE_LEDGER_URL", ledger_url)
    inbox = tmp_path / "home" / "inbox"
    inbox.mkdir(parents=True)
    assert watch(inbox=str(inbox), settle_seconds=0.5, poll_seconds=0.1) is None  # nothing there yet

    staging = tmp_path / "scanner"
    scan = scan_into(staging, "scan_0042", seed=7142)
    partial = inbox / "scan_0042.png.part"

    def scanner_drops_it() -> None:
        data = scan.read_bytes()
        with partial.open("wb") as handle:  # written under a temporary name, then renamed, as scanners do
            handle.write(data[: len(data) // 2])
            handle.flush()
            time.sleep(0.3)
            handle.write(data[len(data) // 2:])
        partial.rename(inbox / scan.name)

    dropper = threading.Thread(target=scanner_drops_it)
    dropper.start()
    while not partial.exists():
        time.sleep(0.01)
    assert inbox_rules.candidates(inbox) == [], "a file still under its temporary name is no candidate"
    outcome = watch(inbox=str(inbox), settle_seconds=1.0, poll_seconds=0.1, wait_for_first_seconds=30)
    dropper.join()
    assert outcome is not None and outcome.pages_recorded == 1 and outcome.files_seen == 1
    assert list(inbox.iterdir()) == []
    engine = make_engine(ledger_url)
    with session_scope(engine, write=False) as session:
        form = session.scalars(select(repo.Form)).one()
        assert form.form_id == "ido_todoke" and form.batch_id == outcome.batch_id
    assert (tmp_path / "home" / "results" / "scan_0042_p001.json").exists()
    engine.dispose()


def test_the_deployments_exist_with_their_schedules(prefect_server):
    from prefect.client.orchestration import get_client

    from flows.deployments import runner_deployments

    for deployment in runner_deployments():
        deployment.apply()
    with get_client(sync_client=True) as client:
        nightly = client.read_deployment_by_name("nightly/taxintake")
        [schedule] = nightly.schedules
        assert (schedule.schedule.cron, schedule.schedule.timezone, schedule.active) == ("0 2 * * *", "Asia/Tokyo",
                                                                                        True)
        enter = client.read_deployment_by_name("enter-ready/taxintake")
        assert enter.schedules[0].schedule.interval.total_seconds() == 300
        watch = client.read_deployment_by_name("watch/taxintake")
        assert watch.schedules[0].schedule.interval.total_seconds() == 60
        assert watch.global_concurrency_limit is not None and watch.global_concurrency_limit.limit == 1
        assert watch.concurrency_options.collision_strategy == "CANCEL_NEW"
        for name in ("intake/taxintake", "read-queue/taxintake"):
            assert client.read_deployment_by_name(name).schedules == []


def test_the_nightly_flow_takes_the_inbox_then_enters_then_reports(tmp_path, prefect_server, monkeypatch):
    """A page nobody can read: quarantined, so entry has nothing to do (no browser) and the report still comes."""
    from PIL import Image

    from flows.nightly import nightly

    home = tmp_path / "home"
    monkeypatch.setenv("TAXINTAKE_HOME", str(home))
    monkeypatch.setenv("TAXINTAKE_LEDGER_URL", f"sqlite:///{home / 'ledger.sqlite3'}")
    (home / "inbox").mkdir(parents=True)
    Image.new("L", (1240, 1754), 255).save(home / "inbox" / "blank.png", dpi=(150, 150))
    outcome = nightly(settle_seconds=0.3)
    assert outcome is not None and outcome.pages_recorded == 1
    assert list((home / "inbox").iterdir()) == []
    with session_scope(make_engine(f"sqlite:///{home / 'ledger.sqlite3'}"), write=False) as session:
        assert session.scalars(select(repo.Form.state)).all() == ["QUARANTINED"]
    for suffix in (".xlsx", ".csv", ".png"):
        assert (home / "reports" / f"{outcome.batch_id}{suffix}").stat().st_size > 0
