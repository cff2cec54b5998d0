"""Archive an original scan by its content: the copy is named by sha256 and never modified."""
from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ArchivedScan:
    original_name: str
    sha256: str
    relative_path: str  # relative to the archive root, so the ledger holds no machine-specific path

    def path(self, archive_root: Path) -> Path:
        return archive_root / self.relative_path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archive_scan(source: Path, archive_root: Path, inbox: Path | None = None) -> ArchivedScan:
    """Copy `source` into the archive (idempotent: a second copy of the same content is not written).

    With `inbox`, the file is opened through `flows.inbox_safety.open_inbox_file` (checked again on the descriptor:
    still a regular file inside the inbox), and hashed from the very bytes that are copied.
    """
    if inbox is not None:
        from flows.inbox_safety import open_inbox_file

        handle = open_inbox_file(source, inbox)
    else:
        handle = source.open("rb")
    incoming = archive_root / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    partial = incoming / f"{uuid.uuid4().hex}.partial"
    digest = hashlib.sha256()
    try:
        with handle, partial.open("wb") as copy:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
                copy.write(block)
        sha256 = digest.hexdigest()
        # The name carries only the hash and the suffix: a clerk's file name may hold a person's name.
        relative = f"{sha256[:2]}/{sha256}{source.suffix.lower()}"
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
    return ArchivedScan(source.name, sha256, relative)
