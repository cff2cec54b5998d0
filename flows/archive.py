"""Archive an original scan by its content: the copy is named by sha256 and never modified."""
from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

# The identity of a file as lstat sees it: the inbox copy is removed only if it is still exactly what was archived.
Fingerprint = tuple[int, int, int, int]  # (device, inode, size, mtime in ns)


class FileStillChanging(Exception):
    """The file changed while it was being copied: a scanner or a copy is still writing it."""


@dataclass(frozen=True)
class ArchivedScan:
    original_name: str  # as the clerk named it, with any 12-digit run (a 個人番号?) masked
    sha256: str
    relative_path: str  # relative to the archive root, so the ledger holds no machine-specific path
    fingerprint: Fingerprint | None = None

    def path(self, archive_root: Path) -> Path:
        return archive_root / self.relative_path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint_of(info: os.stat_result) -> Fingerprint:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def archive_scan(source: Path, archive_root: Path, inbox: Path | None = None) -> ArchivedScan:
    """Copy `source` into the archive (idempotent: a second copy of the same content is not written).

    With `inbox`, the file is opened through `flows.inbox_safety.open_inbox_file` (checked again on the descriptor:
    still a regular file inside the inbox), hashed from the very bytes that are copied, and refused as still
    changing (FileStillChanging) when its size or time moved meanwhile.
    """
    from flows.inbox_safety import display_name, open_inbox_file

    handle = open_inbox_file(source, inbox) if inbox is not None else source.open("rb")
    incoming = archive_root / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    partial = incoming / f"{uuid.uuid4().hex}.partial"
    digest = hashlib.sha256()
    try:
        with handle, partial.open("wb") as copy:
            before = fingerprint_of(os.fstat(handle.fileno()))
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
                copy.write(block)
            after = fingerprint_of(os.fstat(handle.fileno()))
        if inbox is not None and (before != after or fingerprint_of(os.lstat(source)) != before):
            raise FileStillChanging(display_name(source.name))
        sha256 = digest.hexdigest()
        relative = f"{sha256[:2]}/{sha256}{_archive_suffix(source)}"
        target = archive_root / relative
        if target.exists():
            partial.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(partial, 0o444)
            os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return ArchivedScan(display_name(source.name), sha256, relative, before)


def _archive_suffix(source: Path) -> str:
    # The name carries only the hash and the suffix: a clerk's file name may hold a person's name.
    suffix = source.suffix.lower()
    return suffix if suffix[1:].isascii() and suffix[1:].isalnum() and len(suffix) <= 8 else ""


def remove_if_unchanged(path: Path, fingerprint: Fingerprint | None) -> bool:
    """Remove the inbox copy only if it is still the very file archived; a file rewritten since stays for next time."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if fingerprint is not None and fingerprint_of(info) != fingerprint:
        return False
    os.unlink(path)
    return True
