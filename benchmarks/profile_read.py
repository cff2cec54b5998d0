"""Where a page's CPU goes: every stage of reading, measured in CPU seconds on generated pages.

    python benchmarks/profile_read.py [--count 24] [--forms ido_todoke,hojin_shinkoku,kyuyo_hokoku]
        [--styles printed,handwritten] [--profiles office200,fax] [--seed 920000] [--top 15] [--json]

The pages (the forms, styles and profiles in turn) are generated first and written as files, off the clock. Then
one process reads them one by one under cProfile with a CPU-time clock, so the figures hold on a busy machine too.
Each function's own time goes to the stage of the `ocr/` module it belongs to; time spent in a library (OpenCV,
numpy, onnxruntime, PIL, poppler's Python side) goes to the stages of the `ocr/` functions that called it, in
proportion to what each caller spent there. Stages: load (file → grey page), classify (ranking and choosing the
template), register (features, fit, ECC, warp), crops (field crops, cells, marks), recognition (the PP-OCR models),
evidence (normalise, validate, plausibility, addresses, rules, calibration), read (the orchestration itself).

Seeds from 920000 up are kept apart from calibration, tests and the other benchmarks.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

OCR_DIR = str(Path(__file__).resolve().parent.parent / "ocr") + os.sep
STAGE_OF_MODULE = {
    "load": "load", "classify": "classify", "register": "register", "geometry": "register",
    "crops": "crops", "recognize": "recognition", "recognize_tesseract": "recognition",
    "evidence": "evidence", "plausibility": "evidence", "addresses": "evidence", "validate": "evidence",
    "normalize": "evidence", "rules": "evidence", "tax_rules": "evidence", "checkdigits": "evidence",
    "wareki": "evidence", "calibration": "evidence", "refit": "evidence",
    "read": "read", "batch": "read", "templates": "read", "result": "read",
}
STAGES = ("load", "classify", "register", "crops", "recognition", "evidence", "read")


def stage_of_file(filename: str) -> str | None:
    if not filename.startswith(OCR_DIR):
        return None
    return STAGE_OF_MODULE.get(Path(filename).stem, "read")


def stage_seconds(stats: pstats.Stats) -> dict[str, float]:
    """Own CPU time per stage, library time handed up to the `ocr/` callers that spent it."""
    raw = stats.stats  # func -> (primitive calls, calls, own time, cumulative, callers)
    shares: dict[tuple, dict[str, float]] = {}

    def share_of(func: tuple, visiting: frozenset) -> dict[str, float]:
        if func in shares:
            return shares[func]
        stage = stage_of_file(func[0])
        if stage is not None:
            return {stage: 1.0}
        callers = raw.get(func, (0, 0, 0.0, 0.0, {}))[4]
        weighted: dict[str, float] = defaultdict(float)
        total = 0.0
        for caller, (_, _, own_via_caller, cumulative_via_caller) in callers.items():
            if caller in visiting:
                continue
            weight = cumulative_via_caller or own_via_caller
            for name, part in share_of(caller, visiting | {func}).items():
                weighted[name] += weight * part
            total += weight
        result = {name: value / total for name, value in weighted.items()} if total else {"outside ocr/": 1.0}
        shares[func] = result
        return result

    seconds: dict[str, float] = defaultdict(float)
    for func, (_, _, own, _, _) in raw.items():
        for name, part in share_of(func, frozenset()).items():
            seconds[name] += own * part
    return dict(seconds)


def _generate(forms: list[str], styles: list[str], profiles: list[str], count: int, seed: int,
              out_dir: Path) -> list[Path]:
    from samples.generate import generate_page, write_page

    groups = [(form, style, profile) for form in forms for style in styles for profile in profiles]
    paths = []
    for n in range(count):
        form, style, profile = groups[n % len(groups)]
        page = generate_page(form, style=style, profile=profile, seed=seed + n)
        path = write_page(page, out_dir, f"page_{seed + n:06d}")
        Path(out_dir, f"page_{seed + n:06d}.truth.json").unlink()
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=24, help="pages read (default 24)")
    parser.add_argument("--forms", default="ido_todoke,hojin_shinkoku,kyuyo_hokoku")
    parser.add_argument("--styles", default="printed,handwritten")
    parser.add_argument("--profiles", default="office200,fax")
    parser.add_argument("--seed", type=int, default=920000)
    parser.add_argument("--top", type=int, default=15, help="also print the N functions with most own time")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)

    from ocr.read import read_path
    from ocr.recognize import make_recognizer

    with tempfile.TemporaryDirectory(prefix="taxintake-profile-") as scratch:
        paths = _generate(args.forms.split(","), args.styles.split(","), args.profiles.split(","), args.count,
                          args.seed, Path(scratch))
        recognizer = make_recognizer()
        # Models, templates, blanks and data loaded off the clock, as a worker has them after its first pages: one
        # page of every form, style and profile is read once before the profile starts.
        groups = len(args.forms.split(",")) * len(args.styles.split(",")) * len(args.profiles.split(","))
        for path in paths[:groups]:
            read_path(path, recognizer)
        profiler = cProfile.Profile(time.process_time)
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        profiler.enable()
        results = [result for path in paths for result in read_path(path, recognizer)]
        profiler.disable()
        cpu, wall = time.process_time() - cpu_started, time.perf_counter() - wall_started

    stats = pstats.Stats(profiler)
    seconds = stage_seconds(stats)
    pages = len(results)
    load = os.getloadavg()
    print(f"{pages} pages ({args.forms}; {args.styles}; {args.profiles}), one process: {cpu:.2f} CPU-s, "
          f"{cpu / pages:.3f} CPU-s a page, wall {wall:.1f} s; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'stage':<14}{'CPU-s/page':>12}{'share':>8}")
    for stage in [*STAGES, *sorted(set(seconds) - set(STAGES))]:
        if stage in seconds:
            print(f"{stage:<14}{seconds[stage] / pages:>12.3f}{seconds[stage] / cpu:>8.1%}")
    if args.top:
        print(f"\nthe {args.top} functions with most own CPU time:")
        stats.sort_stats("tottime").print_stats(args.top)
    if args.json:
        print(json.dumps({"pages": pages, "cpu_seconds": round(cpu, 3), "cpu_seconds_per_page": round(cpu / pages, 4),
                          "wall_seconds": round(wall, 2), "load_average_1min": load[0],
                          "stage_cpu_seconds_per_page": {k: round(v / pages, 4) for k, v in seconds.items()},
                          "unread_pages": sum(1 for r in results if r.form_id is None)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
