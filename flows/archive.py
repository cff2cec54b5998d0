"""Archive an original scan by its content: the copy is named by sha256 and never modified."""
from __future__ import annotations

import hashlib
import os
import shutil
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


def archive_scan(source: Path, archive_root: Path) -> ArchivedScan:
    """Copy `source` into the archive (idempotent: a second copy of the same content is not written)."""
    sha256 = sha256_of(source)
    # The name carries only the hash and the suffix: a clerk's file name may hold a person's name.
    relative = f"{sha256[:2]}/{sha256}{source.suffix.lower()}"
    target = archive_root / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(source, partial)
        os.chmod(partial, 0o444)
        os.replace(partial, target)
    return ArchivedScan(source.name, sha256, relative)
