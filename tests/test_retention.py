"""`taxintake retention --days N` on a real ledger file and real folders: old pictures go, the audit trail stays."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from ledger import repo
from ledger.audit import verify_audit
from ledger.db import init_db, make_engine, session_scope
from ledger.models import AuditEntry, Form, ScanFile
from ledger.states import FormState, transition, utc_now

OLD = (utc_now() - timedelta(days=100)).timestamp()


def _scan(session, batch, archive: Path, name: str, final_state: FormState) -> Path:
    sha = (name.encode().hex() * 64)[:64]
    relative = f"{sha[:2]}/{sha}.png"
    (archive / sha[:2]).mkdir(parents=True, exist_ok=True)
    (archive / relative).write_bytes(b"\x89PNG page image " + name.encode())
    scan, _ = repo.register_scan_file(session, batch, name, relative, sha, 1)
    form = Form(batch_id=batch.id, scan_file_id=scan.id, page=1, form_id="ido_todoke")
    transition(session, form, FormState.RECEIVED, actor="system")
    if final_state is FormState.QUARANTINED:
        transition(session, form, FormState.QUARANTINED, actor="system", reason="白紙のページです / blank page")
    else:
        transition(session, form, FormState.READ, actor="system")
        transition(session, form, final_state, actor="system")
    return archive / relative


def test_retention_deletes_old_images_and_keeps_the_ledger_and_audit(tmp_path: Path) -> None:
    home = tmp_path / "home"
    archive, evidence, crops = home / "archive", home / "evidence", home / "crops"
    review_cache = home / "review_cache"
    for folder in (archive, evidence, crops, review_cache):
        folder.mkdir(parents=True)
    url = f"sqlite:///{home / 'ledger.sqlite3'}"
    engine = make_engine(url)
    init_db(engine)
    with session_scope(engine) as session:
        batch = repo.create_batch(session, "old", None)
        old_done = _scan(session, batch, archive, "old_done", FormState.QUARANTINED)
        old_in_work = _scan(session, batch, archive, "old_in_work", FormState.NEEDS_REVIEW)
        new_done = _scan(session, batch, archive, "new_done", FormState.QUARANTINED)
        session.execute(update(ScanFile).where(ScanFile.original_name != "new_done")
                        .values(received_at=utc_now() - timedelta(days=100)))
    old_shot, new_shot = evidence / "12_entered.png", evidence / "13_entered.png"
    old_crop, old_html = crops / "sub" / "12_my_number.png", evidence / "12_entered_main.html"
    old_crop.parent.mkdir()
    # The review page's renderings ahead of time: a 個人番号 crop among them.
    old_view = review_cache / "views" / f"{'ab' * 32}_p1_ido_todoke" / "field_my_number.png"
    old_view.parent.mkdir(parents=True)
    for path in (old_shot, new_shot, old_crop, old_html, old_view):
        path.write_bytes(b"picture")
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"not ours")
    (evidence / "link.png").symlink_to(outside)
    for path in (old_shot, old_crop, old_html, outside, old_view):
        os.utime(path, (OLD, OLD))
    with session_scope(engine, write=False) as session:
        audit_rows_before = session.scalar(select(func.count(AuditEntry.id)))

    environment = {**os.environ, "TAXINTAKE_HOME": str(home), "TAXINTAKE_LEDGER_URL": url}
    done = subprocess.run([sys.executable, "-m", "taxintake.cli", "retention", "--days", "30"], env=environment,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "原本スキャン 1 件, 画像 3 件" in done.stdout and "kept, still in work: 1" in done.stdout

    assert not old_done.exists() and old_in_work.exists() and new_done.exists()
    assert not old_shot.exists() and not old_crop.exists() and new_shot.exists()
    assert not old_view.exists(), "the review page's cached crops go with the other pictures"
    assert old_html.exists(), "only page images and crops go"
    assert outside.exists() and (evidence / "link.png").is_symlink(), "a link is never followed out of the folder"
    with session_scope(engine, write=False) as session:
        assert session.scalar(select(func.count(Form.id))) == 3
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert verify_audit(session) == []
    assert len(rows) == audit_rows_before + 4  # the scan, then one row per image folder
    assert [(r.action, r.subject) for r in rows[-4:]] == [("retention_delete", "scan_file:1"),
                                                          ("retention_delete_images", "folder:evidence"),
                                                          ("retention_delete_images", "folder:crops"),
                                                          ("retention_delete_images", "folder:review_cache")]

    again = subprocess.run([sys.executable, "-m", "taxintake.cli", "retention", "--days", "30"], env=environment,
                           capture_output=True, text=True, timeout=120)
    assert "原本スキャン 0 件, 画像 0 件" in again.stdout
