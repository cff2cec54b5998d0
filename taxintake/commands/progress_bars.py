"""Rich progress bars for reads started from the command line: files read, pages, pages per second."""
from __future__ import annotations

from contextlib import contextmanager
from collections.abc import Iterator

from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn,
                           TimeElapsedColumn)
from rich.text import Text

from flows import progress


class PagesPerSecondColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        pages = task.fields.get("pages", 0)
        elapsed = task.elapsed or 0.0
        rate = pages / elapsed if elapsed > 0 else 0.0
        return Text(f"{pages} 頁 · {rate:.2f} 頁/秒 pages/s", style="progress.data.speed", no_wrap=True)


class RichReadProgress:
    """A `flows.progress` listener that draws one bar per read."""

    def __init__(self, progress_bar: Progress) -> None:
        self._progress = progress_bar
        self._task = progress_bar.add_task("読取 reading", total=None, pages=0)

    def files_queued(self, files: int) -> None:
        total = self._progress.tasks[self._task].total or 0
        self._progress.update(self._task, total=total + files)

    def file_read(self, pages: int) -> None:
        pages_so_far = self._progress.tasks[self._task].fields.get("pages", 0)
        self._progress.update(self._task, advance=1, pages=pages_so_far + pages)


@contextmanager
def read_progress() -> Iterator[None]:
    columns = [TextColumn("{task.description}"), BarColumn(bar_width=12), MofNCompleteColumn(), TextColumn("files"),
               PagesPerSecondColumn(), TimeElapsedColumn()]
    with Progress(*columns, transient=False) as progress_bar:
        progress.set_listener(RichReadProgress(progress_bar))
        try:
            yield
        finally:
            progress.set_listener(None)
