"""Which inbox files some process still holds open for writing: such a file is not complete, whatever its age.

A copy that stalls (a slow share, a scanner waiting on its next sheet) leaves size and time unchanged for longer
than any settle time, yet the writer still has the file open and will finish it. On Linux every process's open
files are in /proc/<pid>/fd (where each points) and /proc/<pid>/fdinfo/<fd> (`flags:` in octal, whose access mode
says O_WRONLY or O_RDWR). Only processes this user may inspect are seen (all of them for root); a writer on another
machine (SMB, NFS) is invisible here, and for those the settle time, a clerk's `.part` rename and the check that
the file's format is whole (`flows.inbox_whole`) are what keep a half-written file in the inbox. Elsewhere than
Linux nothing is seen and `open_for_writing` returns an empty set.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

_ACCESS_MODE = 0o3  # O_ACCMODE
_READ_ONLY = 0o0


def _proc_available() -> bool:
    return os.path.isdir("/proc/self/fd")


def _writes(pid: str, fd: str) -> bool:
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags:"):
                    return int(line.split()[1], 8) & _ACCESS_MODE != _READ_ONLY
    except (OSError, ValueError, IndexError):
        return False
    return False


def open_for_writing(paths: Iterable[Path]) -> set[Path]:
    """The files among `paths` that a process we can inspect holds open for writing (O_WRONLY or O_RDWR)."""
    wanted: dict[str, Path] = {}
    for path in paths:
        wanted[os.path.realpath(path)] = path
    if not wanted or not _proc_available():
        return set()
    held: set[Path] = set()
    try:
        pids = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return set()
    for pid in pids:
        fd_folder = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_folder)
        except OSError:  # gone, or not ours to look at
            continue
        for fd in fds:
            try:
                target = os.readlink(f"{fd_folder}/{fd}")
            except OSError:
                continue
            path = wanted.get(target)
            if path is not None and path not in held and _writes(pid, fd):
                held.add(path)
        if len(held) == len(wanted):
            break
    return held
