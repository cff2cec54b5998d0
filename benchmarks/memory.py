"""Run a function in a fresh process and measure the memory of its whole process tree.

`run_measured(fn, *args)` starts a spawned process for `fn(*args)` and, while it runs, samples /proc every
`interval_s` for the summed resident set (VmRSS) of that process and all its descendants (reading workers, the
Tesseract or poppler processes they start). It reports:

- `peak_rss_mb`: the largest such sum seen — the footprint of the run at its worst moment. Shared library pages
  count once per process (RSS, not PSS), and a descendant that lives for less than one sampling interval can be
  missed; both make it an approximation, the first an over-, the second an under-estimate.
- `peak_rss_largest_process_mb`: the largest single process's own high-water mark (VmHWM) seen while sampling.
  Not getrusage: a spawned child's ru_maxrss starts from its parent's RSS at fork time (Linux keeps the
  high-water mark across exec), which made every run report the benchmark parent's size.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from typing import Any, Callable


def tree_rss_kib(*roots: int) -> tuple[int, int]:
    """(summed VmRSS, largest VmHWM) in KiB over these processes and their descendants, each counted once."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    hwm: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except OSError:
            continue
        pid, parent = int(entry), int(fields.get("PPid", "0").strip() or 0)
        children.setdefault(parent, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
        hwm[pid] = int(fields.get("VmHWM", "0 kB").split()[0])
    total, largest, stack, seen = 0, 0, list(roots), set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += rss.get(pid, 0)
        largest = max(largest, hwm.get(pid, 0))
        stack += children.get(pid, [])
    return total, largest


def _child_main(connection, fn: Callable[..., Any], args: tuple) -> None:
    try:
        connection.send(("ok", fn(*args)))
    except BaseException as exc:  # report, then let the parent raise
        connection.send(("error", f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        connection.close()


def run_measured(fn: Callable[..., Any], *args: Any, interval_s: float = 0.05) -> tuple[Any, dict[str, float]]:
    """fn(*args) in a fresh spawned process; (its result, {"peak_rss_mb", "peak_rss_largest_process_mb"})."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child_main, args=(sender, fn, args))
    process.start()
    sender.close()
    peak = largest = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak, largest
        while not stop.is_set():
            total, hwm = tree_rss_kib(process.pid)
            peak, largest = max(peak, total), max(largest, hwm)
            stop.wait(interval_s)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        status, result = receiver.recv()
    except EOFError:
        status, result = "error", f"the measured process died (exit code {process.exitcode})"
    finally:
        process.join()
        stop.set()
        sampler.join()
    if status != "ok":
        raise RuntimeError(result)
    return result, {"peak_rss_mb": round(peak / 1024, 1), "peak_rss_largest_process_mb": round(largest / 1024, 1)}


def _self_check() -> int:  # pragma: no cover - `python benchmarks/memory.py`
    started = time.perf_counter()
    _, figures = run_measured(sum, [1, 2, 3])
    print(figures, f"{time.perf_counter() - started:.2f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(_self_check())
