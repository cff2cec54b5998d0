"""The door of the inbox: entries that will never be read are set aside unopened, each with its reason.

Links, FIFOs, devices, sockets, symlinked folders, paths that resolve outside the inbox, and regular files of a type
we do not read are moved (rename(), which neither opens nor follows them) into the archive's `refused/` folder, so
the original is kept as it came and the inbox does not report it again on every run. Hidden and temporary names
(a copy still under way) and ordinary sub-folders are left alone. Names are kept with any 12-digit run masked.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from flows import inbox as inbox_rules
from flows.inbox_safety import display_name, inbox_candidate_problem, is_hidden_or_temporary, set_aside
from ocr.load import SUPPORTED_SUFFIXES

REFUSED_FOLDER = "refused"


@dataclass(frozen=True)
class Refusal:
    name: str  # masked
    reason: str  # Japanese first, for the clerk
    kept_as: str | None  # where the entry lies now, relative to the archive root; None: it stays in the inbox


def door_problem(path: Path, inbox: Path) -> str | None:
    """Why this entry of the inbox will never be read (None: a scan to take, or something to leave alone)."""
    name = path.name
    if is_hidden_or_temporary(name) or name.startswith(inbox_rules.TEMPORARY_PREFIXES) \
            or name.lower().endswith(inbox_rules.TEMPORARY_SUFFIXES):
        return None
    if path.is_dir() and not path.is_symlink():
        return None
    problem = inbox_candidate_problem(path, inbox)
    if problem:
        return problem
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return (f"対応していない形式です（{path.suffix or '拡張子なし'}）: PDF・TIFF・JPEG・PNG でスキャンしてください / "
                f"unsupported file type: scan to PDF, TIFF, JPEG or PNG")
    return None


def refuse_at_the_door(inbox: Path, archive_root: Path) -> list[Refusal]:
    """Set aside every entry directly in `inbox` that will never be read; returns what was refused and why."""
    if not inbox.is_dir():
        return []
    with os.scandir(inbox) as entries:
        paths = sorted(Path(entry.path) for entry in entries)
    refused = []
    for path in paths:
        problem = door_problem(path, inbox)
        if problem:
            refused.append(refuse(path, problem, archive_root))
    return refused


def refuse(path: Path, reason: str, archive_root: Path) -> Refusal:
    kept = set_aside(path, archive_root / REFUSED_FOLDER) if os.path.lexists(path) else None
    return Refusal(display_name(path.name), reason, str(kept.relative_to(archive_root)) if kept else None)
