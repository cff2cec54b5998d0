"""Reading accuracy and speed on freshly generated forms, scored against their ground truth.

    python benchmarks/read_accuracy.py --form ido_todoke --style printed --profile office200 --count 100 --seed 900000 \
        [--engines rapidocr,tesseract] [--json]
    python benchmarks/read_accuracy.py --form all --style printed,handwritten --profile office200,robust --count 100

`robust` (samples/degrade.py) is the robustness profile: fonts no calibration saw, seals and 受付印 in red and black
over fields, pencil and blue ballpoint, 150 dpi, 0.3–3° rotation, JPEG 35–70, uneven light, colour scans.
Beside the field figures: the share of forms that go straight through (every field accepted;
`form_straight_and_right`: and none of them wrong), and which kinds of field hold forms back most.

Pages are generated once; each engine then reads all of them, every group in one batch, in a fresh process with
its own worker pool, so `pages_per_second` and the memory figures are that engine's alone (the pool's start is in
the first group's seconds and in the overall figure). `peak_rss_mb` is the largest summed resident
set of that process tree sampled every 50 ms (see benchmarks/memory.py); `peak_rss_largest_process_mb` the
largest single process. With --json the last line is one object: the first engine's figures at the top level
(as before) and every engine's under "engines".

Seeds from 900000 up are kept apart from anything calibration or tests use.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.memory import run_measured  # noqa: E402
from benchmarks.scoring import Score, score_page  # noqa: E402
from ocr.batch import read_files  # noqa: E402
from ocr.templates import available_form_ids  # noqa: E402
from samples.generate import generate_many  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--form", default="ido_todoke", help="a form id, a comma list, or 'all'")
    parser.add_argument("--style", default="printed", help="printed, handwritten, or a comma list")
    parser.add_argument("--profile", default="office200", help="a scan profile, or a comma list")
    parser.add_argument("--count", type=int, default=20, help="forms per style and profile")
    parser.add_argument("--seed", type=int, default=900000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--engines", default="rapidocr",
                        help="recognisers, comma list (e.g. rapidocr,tesseract); each reads the same pages")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]

    per_engine: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="taxintake-bench-") as scratch:
        group_paths: dict[str, list[Path]] = {}
        forms = available_form_ids() if args.form == "all" else args.form.split(",")
        for form in forms:
            for style in args.style.split(","):
                for profile in args.profile.split(","):
                    folder = Path(scratch) / f"{form}_{style}_{profile}"
                    group_paths[f"{form}/{style}/{profile}"] = generate_many(
                        form, count=args.count, style=style, profile=profile, seed=args.seed, out_dir=folder)
        for engine in engines:
            # Each engine reads in a fresh process (with its own worker pool) whose process tree is measured.
            group_runs, memory = run_measured(_read_groups, engine, group_paths, args.workers)
            groups: dict[str, dict] = {}
            overall = Score()
            total_pages = 0
            total_seconds = 0.0
            for name, (group, pages, seconds) in group_runs.items():
                total_pages += pages
                total_seconds += seconds
                overall.add(group)
                figures = group.figures()
                figures["pages_per_second"] = round(pages / seconds, 3) if seconds else 0.0
                groups[name] = figures
                form, style, profile = name.split("/")
                print(f"{engine:9s} {form:12s} {style:11s} {profile:9s} n={pages:4d}  "
                      + "  ".join(f"{k}={v:.4f}" for k, v in figures.items()))
                print(f"    {group.holding_back()}")
                if group.sealed_pages:
                    print(f"    seal-stamped pages {group.sealed_pages}: tick boxes under a seal "
                          f"{group.sealed_checkboxes}, accepted wrong {group.sealed_checkboxes_accepted_wrong}")
                figures["sealed_pages"] = group.sealed_pages
                figures["sealed_checkboxes_accepted_wrong"] = group.sealed_checkboxes_accepted_wrong
                for example in group.wrong_accepted_examples[:5]:
                    print(f"    accepted but wrong: {example}")
            figures = overall.figures()
            figures["pages_per_second"] = round(total_pages / total_seconds, 3) if total_seconds else 0.0
            figures.update(memory)
            print(f"{engine:9s} overall      " + "  ".join(f"{k}={v:.4f}" for k, v in figures.items()))
            print(f"    {overall.holding_back(8)}  (load average {os.getloadavg()[0]:.1f}: speed figures on a busy machine mean little)")
            if overall.sealed_pages:
                print(f"    seal-stamped pages {overall.sealed_pages}: tick boxes under a seal "
                      f"{overall.sealed_checkboxes}, accepted wrong {overall.sealed_checkboxes_accepted_wrong}")
            figures["sealed_pages"] = overall.sealed_pages
            figures["sealed_checkboxes_accepted_wrong"] = overall.sealed_checkboxes_accepted_wrong
            per_engine[engine] = {**figures, "groups": groups}
    if args.json:
        first = per_engine[engines[0]]
        print(json.dumps({**first, "engines": per_engine}, ensure_ascii=False))
    return 0


def _read_groups(engine: str, group_paths: dict[str, list[Path]], workers: int | None
                 ) -> dict[str, tuple[Score, int, float]]:
    """In the measured process: each group's score, page count and reading seconds for one engine.

    All groups are read as one batch through one worker pool, as a night's scans would be: the pool's start is
    paid once (in the first group's seconds), and a group's seconds run from the previous group's last page to its
    own last page."""
    group_of = {path: name for name, paths in group_paths.items() for path in paths}
    scores = {name: Score() for name in group_paths}
    remaining = {name: len(paths) for name, paths in group_paths.items()}
    seconds: dict[str, float] = {}
    started = last_finish = time.perf_counter()
    all_paths = [path for paths in group_paths.values() for path in paths]
    for path, results in read_files(all_paths, workers=workers, engine=engine):
        name = group_of[path]
        truth = json.loads(path.with_suffix(".truth.json").read_text(encoding="utf-8"))
        scores[name].add(score_page(results[0].model_dump(), truth))
        remaining[name] -= 1
        if remaining[name] == 0:
            now = time.perf_counter()
            seconds[name] = now - last_finish
            last_finish = now
    assert abs(sum(seconds.values()) - (last_finish - started)) < 1e-6
    return {name: (scores[name], len(paths), seconds[name]) for name, paths in group_paths.items()}


if __name__ == "__main__":
    raise SystemExit(main())
