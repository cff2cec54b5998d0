"""What in the inbox is a scan ready to take: one function decides per entry, one waits until a drop is complete.

Only regular files directly in the inbox (`flows.inbox_safety`: lstat, no links, FIFOs, devices or folders, the
resolved path inside the inbox; checked again on the descriptor when the file is archived), not hidden, not a
scanner's or copier's temporary name (a clerk's `.part` renamed when done is taken then), with a suffix we read. A
drop is complete when nothing in it has changed between looks for `settle_seconds` and no process holds any of it
open for writing (`flows.inbox_writers`): a clerk copying 50 files gets one batch, not 50, and a copy that stalls
mid-file is waited for, however long.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from flows.inbox_safety import inbox_candidate_problem, is_hidden_or_temporary
from flows.inbox_writers import open_for_writing
from ocr.load import SUPPORTED_SUFFIXES

# Names that copiers, scanners and browsers give a file while they still write it.
TEMPORARY_SUFFIXES = (".part", ".partial", ".tmp", ".temp", ".crdownload", ".download", ".filepart", ".swp", "~")
TEMPORARY_PREFIXES = (".", "~$", "~")


def is_candidate(path: Path, inbox: Path) -> bool:
    """True for a scan in `inbox` that may be taken; asked when listing and again just before archiving."""
    name = path.name
    if is_hidden_or_temporary(name) or name.startswith(TEMPORARY_PREFIXES) \
            or name.lower().endswith(TEMPORARY_SUFFIXES):
        return False
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return False
    if os.path.dirname(os.path.abspath(path)) != os.path.abspath(inbox):
        return False  # directly in the inbox, not in a folder below it
    return inbox_candidate_problem(path, inbox) is None


def candidates(inbox: Path) -> list[Path]:
    """The scans in `inbox` now, by name."""
    if not inbox.is_dir():
        return []
    with os.scandir(inbox) as entries:
        return sorted(Path(entry.path) for entry in entries if is_candidate(Path(entry.path), inbox))


Snapshot = dict[Path, tuple[int, int]]  # path -> (size, mtime in ns)


def snapshot(inbox: Path) -> Snapshot:
    found: Snapshot = {}
    for path in candidates(inbox):
        try:
            info = os.lstat(path)
        except OSError:
            continue
        found[path] = (info.st_size, info.st_mtime_ns)
    return found


def settled_files(inbox: Path, *, settle_seconds: float = 5.0, poll_seconds: float = 1.0,
                  max_wait_seconds: float = 600.0, wait_for_first_seconds: float = 0.0,
                  sleep: Callable[[float], None] = time.sleep) -> list[Path]:
    """The complete scans of the drop now in `inbox`, once the whole drop has been quiet for `settle_seconds`.

    Empty when the inbox stays empty for `wait_for_first_seconds`. Should files keep arriving past
    `max_wait_seconds`, the ones unchanged for `settle_seconds` are returned and the rest wait for the next look.
    """
    previous = snapshot(inbox)
    first_deadline = time.monotonic() + wait_for_first_seconds
    while not previous and time.monotonic() < first_deadline:
        sleep(poll_seconds)
        previous = snapshot(inbox)
    if not previous:
        return []
    deadline = time.monotonic() + max_wait_seconds
    unchanged_since = {path: time.monotonic() for path in previous}
    while True:
        sleep(min(poll_seconds, settle_seconds) if settle_seconds > 0 else 0)
        current = snapshot(inbox)
        now = time.monotonic()
        unchanged_since = {path: unchanged_since.get(path, now) if previous.get(path) == seen else now
                           for path, seen in current.items()}
        held_open = open_for_writing(current)
        old_enough = [path for path, since in unchanged_since.items()
                      if now - since >= settle_seconds and _written_before(current[path], settle_seconds)
                      and path not in held_open]
        if current and len(old_enough) == len(current):
            return sorted(current)
        if not current:
            return []
        if now >= deadline:
            return sorted(old_enough)
        previous = current


def _written_before(seen: tuple[int, int], settle_seconds: float) -> bool:
    """The last write is `settle_seconds` old by the file's own clock too (a share may buffer, then flush)."""
    return time.time() - seen[1] / 1e9 >= settle_seconds
