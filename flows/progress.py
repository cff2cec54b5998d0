"""Progress of a read as it happens, for whoever shows it (the CLI's rich bars); flows only publish.

A listener is set in the process that runs the flow; a flow run on a worker has none, and publishing is free.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol


class ProgressListener(Protocol):
    def files_queued(self, files: int) -> None: ...

    def file_read(self, pages: int) -> None: ...


@dataclass
class ReadTally:
    """Files and pages read by one reader, and its pages per second since it started."""

    files: int = 0
    pages: int = 0
    failed: int = 0
    started: float = field(default_factory=time.perf_counter)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0


_listener: ProgressListener | None = None


def set_listener(listener: ProgressListener | None) -> None:
    global _listener
    _listener = listener


def files_queued(files: int) -> None:
    if _listener is not None:
        _listener.files_queued(files)


def file_read(pages: int) -> None:
    if _listener is not None:
        _listener.file_read(pages)
