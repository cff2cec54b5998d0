"""The door of the inbox: entries that will never be read are set aside unopened, each with its reason.

Links, FIFOs, devices, sockets, symlinked folders, paths that resolve outside the inbox, and regular files of a type
we do not read are moved (rename(), which neither opens nor follows them) into the archive's `refused/` folder, so
the original is kept as it came and the inbox does not report it again on every run. Hidden and temporary names
(a copy still under way) and ordinary sub-folders are left alone, unless such a name sits unchanged and
unwritten for an hour (an abandoned copy, or `..jpg`); an empty file is refused once settled (every empty file has
the same hash, so it would otherwise pass for a second copy of the first). Names are kept with any 12-digit run masked.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from flows import inbox as inbox_rules
from flows.inbox_safety import display_name, inbox_candidate_problem, is_hidden_or_temporary, set_aside
from flows.inbox_writers import open_for_writing
from ocr.load import SUPPORTED_SUFFIXES

REFUSED_FOLDER = "refused"


@dataclass(frozen=True)
class Refusal:
    name: str  # masked
    reason: str  # Japanese first, for the clerk
    kept_as: str | None  # where the entry lies now, relative to the archive root; None: it stays in the inbox


# A hidden or temporary name unchanged this long, with no writer holding it, is a copy that was abandoned (or a name
# like `..jpg` a clerk did not mean): it is set aside with its reason rather than left in the inbox for ever.
DEFAULT_ABANDONED_AFTER_S = 3600.0


def _temporary_name(name: str) -> bool:
    return is_hidden_or_temporary(name) or name.startswith(inbox_rules.TEMPORARY_PREFIXES) \
        or name.lower().endswith(inbox_rules.TEMPORARY_SUFFIXES)


def _quiet_for(path: Path, seconds: float) -> bool:
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return time.time() - info.st_mtime >= seconds


def door_problem(path: Path, inbox: Path, *, settle_seconds: float = 0.0,
                 abandoned_after_s: float = DEFAULT_ABANDONED_AFTER_S) -> str | None:
    """Why this entry of the inbox will never be read (None: a scan to take, or something to leave alone)."""
    name = path.name
    if _temporary_name(name):
        if path.is_file() and not path.is_symlink() and _quiet_for(path, abandoned_after_s) \
                and not open_for_writing([path]):
            return (f"隠しファイルまたは一時ファイルの名前のまま{abandoned_after_s / 3600:g}時間以上変わりません"
                    f"（コピーの中断か名前の誤り）: 名前を付け直して入れ直してください / left under a hidden or "
                    f"temporary name: rename it and drop it again")
        return None
    if path.is_dir() and not path.is_symlink():
        return None
    problem = inbox_candidate_problem(path, inbox)
    if problem:
        return problem
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return (f"対応していない形式です（{path.suffix or '拡張子なし'}）: PDF・TIFF・JPEG・PNG・HEIC でスキャンしてください / "
                f"unsupported file type: scan to PDF, TIFF, JPEG, PNG or HEIC")
    if os.lstat(path).st_size == 0 and _quiet_for(path, settle_seconds) and not open_for_writing([path]):
        # Every empty file has the same hash: refused here, each one is shown as empty, none as a second copy.
        return "ファイルが空です（0バイト）: スキャンし直してください / the file is empty (0 bytes): scan it again"
    return None


def refuse_at_the_door(inbox: Path, archive_root: Path, *, settle_seconds: float = 0.0,
                       abandoned_after_s: float = DEFAULT_ABANDONED_AFTER_S) -> list[Refusal]:
    """Set aside every entry directly in `inbox` that will never be read; returns what was refused and why."""
    if not inbox.is_dir():
        return []
    with os.scandir(inbox) as entries:
        paths = sorted(Path(entry.path) for entry in entries)
    refused = []
    for path in paths:
        try:
            problem = door_problem(path, inbox, settle_seconds=settle_seconds, abandoned_after_s=abandoned_after_s)
        except OSError:  # gone meanwhile, or a name the file system will not stat: looked at again next run
            continue
        if problem:
            refused.append(refuse(path, problem, archive_root))
    return refused


def refuse(path: Path, reason: str, archive_root: Path) -> Refusal:
    kept = set_aside(path, archive_root / REFUSED_FOLDER) if os.path.lexists(path) else None
    return Refusal(display_name(path.name), reason, str(kept.relative_to(archive_root)) if kept else None)
