"""Backups of the ledger and the scan archive into one folder, with a manifest that proves what it holds.

SQLite is copied with its online backup API (a consistent copy while others write); PostgreSQL with `pg_dump`
(custom format). Every archived scan is copied beside it and listed with its sha256, so a restore can refuse a
damaged backup before it writes anything. The keys (taxintake.keys) are never in a backup: keep them apart.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

MANIFEST = "manifest.json"
SQLITE_FILE = "ledger.sqlite3"
PG_FILE = "ledger.pgdump"
ARCHIVE_DIR = "archive"


class BackupError(RuntimeError):
    """A backup that cannot be taken or restored; the message says why (Japanese first)."""


@dataclass(frozen=True)
class BackupSummary:
    folder: Path
    ledger_kind: str
    scans: int
    archive_files: int
    missing_scans: list[str]  # archived paths the ledger knows but the archive lacks
    audit_head: str | None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("メモリ上の台帳はバックアップできません / an in-memory ledger cannot be backed up")
    return Path(parsed.database)


def _pg_env_and_dsn(url: str) -> tuple[dict[str, str], str]:
    """libpq settings for pg_dump/pg_restore: the password in PGPASSWORD, never on the command line."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    dsn = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return env, dsn


def backup(ledger_url: str, archive_root: Path, out: Path) -> BackupSummary:
    """Write the ledger, the archive and manifest.json into `out` (new or empty)."""
    from ledger.audit import audit_head
    from ledger.db import make_engine, session_scope
    from ledger.models import ScanFile

    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"バックアップ先が空ではありません: {out} / the backup folder is not empty: {out}")
    out.mkdir(parents=True, exist_ok=True)
    sqlite_path = _sqlite_path(ledger_url)
    if sqlite_path is not None:
        if not sqlite_path.exists():
            raise BackupError(f"台帳がありません: {sqlite_path} / no ledger file at {sqlite_path}")
        ledger_file = out / SQLITE_FILE
        source = sqlite3.connect(sqlite_path, timeout=30)
        target = sqlite3.connect(ledger_file)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        kind = "sqlite"
    else:
        ledger_file = out / PG_FILE
        env, dsn = _pg_env_and_dsn(ledger_url)
        done = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(ledger_file), dsn],
                              env=env, capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            raise BackupError(f"pg_dump が失敗しました / pg_dump failed: {done.stderr.strip()[-500:]}")
        kind = "postgresql"

    # The scans the ledger copy knows are all in the archive by now (the archive only grows), so copy it after.
    engine = make_engine(ledger_url)
    try:
        with session_scope(engine, write=False) as session:
            known = list(session.scalars(select(ScanFile.archived_path).order_by(ScanFile.id)))
            head = audit_head(session)
            head_text = f"{head.id}:{head.row_hash}" if head is not None else None
            scans = session.scalar(select(func.count(ScanFile.id))) or 0
    finally:
        engine.dispose()
    archive_root = Path(archive_root)
    entries = []
    if archive_root.is_dir():
        for path in sorted(p for p in archive_root.rglob("*") if p.is_file()):
            relative = path.relative_to(archive_root).as_posix()
            copy = out / ARCHIVE_DIR / relative
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)
            entries.append({"path": relative, "sha256": _sha256(copy), "bytes": copy.stat().st_size})
    archived = {entry["path"] for entry in entries}
    missing = [path for path in known if path not in archived]
    manifest = {"format": 1, "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "ledger": {"kind": kind, "file": ledger_file.name, "sha256": _sha256(ledger_file),
                           "bytes": ledger_file.stat().st_size},
                "audit_head": head_text, "scans_in_ledger": scans, "missing_scans": missing, "archive": entries}
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return BackupSummary(out, kind, scans, len(entries), missing, head_text)


def check_backup(folder: Path) -> dict:
    """The manifest, once every file it lists is present with its sha256; raises BackupError otherwise."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if not manifest_path.exists():
        raise BackupError(f"manifest.json がありません: {folder} / not a backup folder (no manifest.json)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    ledger_file = folder / manifest["ledger"]["file"]
    if not ledger_file.exists() or _sha256(ledger_file) != manifest["ledger"]["sha256"]:
        raise BackupError(f"台帳のバックアップが壊れています: {ledger_file.name} / the ledger copy is missing or "
                          f"damaged (sha256 differs from the manifest)")
    damaged = [entry["path"] for entry in manifest["archive"]
               if not (folder / ARCHIVE_DIR / entry["path"]).exists()
               or _sha256(folder / ARCHIVE_DIR / entry["path"]) != entry["sha256"]]
    if damaged:
        raise BackupError(f"原本のバックアップが {len(damaged)} 件壊れています（例: {damaged[0]}）/ {len(damaged)} "
                          f"archived scans are missing or damaged in the backup")
    return manifest


def restore(folder: Path, ledger_url: str, archive_root: Path) -> dict:
    """Restore a checked backup into an empty ledger and archive; returns the manifest."""
    from ledger.db import make_engine

    folder = Path(folder)
    manifest = check_backup(folder)
    kind = manifest["ledger"]["kind"]
    sqlite_path = _sqlite_path(ledger_url)
    if (kind == "sqlite") != (sqlite_path is not None):
        raise BackupError(f"バックアップは {kind} の台帳です / the backup is of a {kind} ledger: restore it into one")
    engine = make_engine(ledger_url)
    try:
        from sqlalchemy import inspect

        if inspect(engine).get_table_names():
            raise BackupError("復元先の台帳が空ではありません（新しい台帳に復元してください）/ the target ledger is "
                              "not empty: restore into a fresh one")
    finally:
        engine.dispose()
    archive_root = Path(archive_root)
    clashes = [entry["path"] for entry in manifest["archive"] if (archive_root / entry["path"]).exists()
               and _sha256(archive_root / entry["path"]) != entry["sha256"]]
    if clashes:
        raise BackupError(f"復元先の原本と内容が違います: {clashes[0]} / the target archive holds other content")
    if sqlite_path is not None:
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (sqlite_path, Path(f"{sqlite_path}-wal"), Path(f"{sqlite_path}-shm")):
            if leftover.exists() and leftover.stat().st_size == 0:
                leftover.unlink()
        source = sqlite3.connect(f"file:{folder / manifest['ledger']['file']}?mode=ro", uri=True)
        target = sqlite3.connect(sqlite_path)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        env, dsn = _pg_env_and_dsn(ledger_url)
        done = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", dsn,
                               str(folder / manifest["ledger"]["file"])],
                              env=env, capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            raise BackupError(f"pg_restore が失敗しました / pg_restore failed: {done.stderr.strip()[-500:]}")
    for entry in manifest["archive"]:
        target_path = archive_root / entry["path"]
        if target_path.exists():
            continue
        target_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / ARCHIVE_DIR / entry["path"], target_path)
        target_path.chmod(0o444)  # originals are read-only, as the archive keeps them
    return manifest
