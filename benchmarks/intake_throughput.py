"""Intake throughput: a printed batch dropped in an inbox, read into a real ledger by the `intake` Prefect flow.

    python benchmarks/intake_throughput.py --count 200 [--forms ido_todoke,hojin_shinkoku,kyuyo_hokoku]
        [--profile office200] [--ledger-url URL] [--json]

The pages (one scan file per page, printed, the forms in turn) are generated first and are not timed. The clock
runs from the flow's start (the files in the inbox) to its end (every page in the ledger, the inbox empty):
archive by sha256, queue, read on every core, record. A local Prefect server is started and warmed before the clock
starts. With --json the last line is one JSON object; `pages_per_second` is pages recorded / that wall time;
`cpu_seconds_per_page` (this process and its reader processes) bounds what an idle machine of the same cores could
do, which matters on a shared machine (`load_average_1min`).

Seeds from 910000 up are kept apart from anything calibration or tests use.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.scratch_keys import use_scratch_keys  # noqa: E402

FORMS = ("ido_todoke", "hojin_shinkoku", "kyuyo_hokoku")


def _generate(job: tuple[str, str, int, str]) -> str:
    from samples.generate import generate_page, write_page

    form_id, profile, seed, out_dir = job
    page = generate_page(form_id, style="printed", profile=profile, seed=seed)
    path = write_page(page, Path(out_dir), f"scan_{seed:06d}")
    Path(out_dir, f"scan_{seed:06d}.truth.json").unlink()
    return str(path)


def generate_batch(inbox: Path, count: int, forms: list[str], profile: str, seed: int) -> list[Path]:
    jobs = [(forms[n % len(forms)], profile, seed + n, str(inbox)) for n in range(count)]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return [Path(p) for p in pool.map(_generate, jobs, chunksize=4)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200, help="pages in the batch (default 200)")
    parser.add_argument("--forms", default=",".join(FORMS), help="forms, taken in turn")
    parser.add_argument("--profile", default="office200", help="scan profile (default office200)")
    parser.add_argument("--seed", type=int, default=910000)
    parser.add_argument("--ledger-url", help="ledger (default: a fresh SQLite file in a scratch folder)")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)
    use_scratch_keys()

    with tempfile.TemporaryDirectory(prefix="taxintake-intake-bench-") as scratch_name:
        scratch = Path(scratch_name)
        os.environ.setdefault("PREFECT_HOME", str(scratch / "prefect"))
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
        inbox = scratch / "inbox"
        started = time.perf_counter()
        paths = generate_batch(inbox, args.count, args.forms.split(","), args.profile, args.seed)
        print(f"generated {len(paths)} pages in {time.perf_counter() - started:.0f} s", file=sys.stderr)

        from prefect import flow

        from flows.intake import intake

        @flow(name="warm-up")
        def warm_up() -> None:
            return None

        warm_up()  # the local Prefect server starts here, off the clock
        ledger_url = args.ledger_url or f"sqlite:///{scratch / 'ledger.sqlite3'}"
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        outcome = intake(inbox=str(inbox), archive_root=str(scratch / "archive"), ledger_url=ledger_url,
                         label="throughput")
        seconds = time.perf_counter() - started
        cpu_seconds = _cpu_seconds() - cpu_before
        left_in_inbox = len(list(inbox.iterdir()))

    figures = {"pages": args.count, "pages_recorded": outcome.pages_recorded, "files_failed": outcome.files_failed,
               "seconds": round(seconds, 2), "pages_per_second": round(outcome.pages_recorded / seconds, 3),
               "read_pages_per_second": round(outcome.pages_per_second, 3), "left_in_inbox": left_in_inbox,
               "cpu_seconds_per_page": round(cpu_seconds / max(outcome.pages_recorded, 1), 3),
               "load_average_1min": round(os.getloadavg()[0], 2),
               "cpu_count": os.cpu_count(), "profile": args.profile, "forms": args.forms}
    print(f"{outcome.pages_recorded} pages from inbox to ledger in {seconds:.1f} s: "
          f"{figures['pages_per_second']:.2f} pages/s on {os.cpu_count()} cores "
          f"(reading alone {figures['read_pages_per_second']:.2f} pages/s; "
          f"{figures['cpu_seconds_per_page']:.2f} CPU-seconds per page, so at most "
          f"{(os.cpu_count() or 1) / max(figures['cpu_seconds_per_page'], 1e-9):.2f} pages/s on an idle machine; "
          f"load average {figures['load_average_1min']})")
    if args.json:
        print(json.dumps(figures))
    return 0 if outcome.pages_recorded == args.count and left_in_inbox == 0 else 1


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the reader processes, once their pool is shut)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    raise SystemExit(main())
