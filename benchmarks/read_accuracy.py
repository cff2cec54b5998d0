"""Reading accuracy and speed on freshly generated forms, scored against their ground truth.

    python benchmarks/read_accuracy.py --form ido_todoke --style printed --profile office200 --count 100 --seed 900000 [--json]

Seeds from 900000 up are kept apart from anything calibration or tests use.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scoring import Score, score_page  # noqa: E402
from ocr.batch import read_files  # noqa: E402
from samples.generate import generate_many  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--form", default="ido_todoke")
    parser.add_argument("--style", default="printed", help="printed, handwritten, or a comma list")
    parser.add_argument("--profile", default="office200", help="a scan profile, or a comma list")
    parser.add_argument("--count", type=int, default=20, help="forms per style and profile")
    parser.add_argument("--seed", type=int, default=900000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)

    groups: dict[str, dict] = {}
    overall = Score()
    total_pages = 0
    total_seconds = 0.0
    with tempfile.TemporaryDirectory(prefix="taxintake-bench-") as scratch:
        for style in args.style.split(","):
            for profile in args.profile.split(","):
                folder = Path(scratch) / f"{style}_{profile}"
                paths = generate_many(args.form, count=args.count, style=style, profile=profile, seed=args.seed,
                                      out_dir=folder)
                started = time.perf_counter()
                group = Score()
                examples = []
                for path, results in read_files(paths, workers=args.workers):
                    truth = json.loads(path.with_suffix(".truth.json").read_text(encoding="utf-8"))
                    page_score = score_page(results[0].model_dump(), truth)
                    group.add(page_score)
                    examples += page_score.wrong_accepted_examples
                seconds = time.perf_counter() - started
                total_pages += len(paths)
                total_seconds += seconds
                overall.add(group)
                figures = group.figures()
                figures["pages_per_second"] = round(len(paths) / seconds, 3)
                groups[f"{args.form}/{style}/{profile}"] = figures
                print(f"{args.form:12s} {style:11s} {profile:9s} n={len(paths):4d}  "
                      + "  ".join(f"{k}={v:.4f}" for k, v in figures.items()))
                for example in examples[:5]:
                    print(f"    accepted but wrong: {example}")
    figures = overall.figures()
    figures["pages_per_second"] = round(total_pages / total_seconds, 3) if total_seconds else 0.0
    figures["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    print("overall      " + "  ".join(f"{k}={v:.4f}" for k, v in figures.items()))
    if args.json:
        print(json.dumps({**figures, "groups": groups}, ensure_ascii=False))
    return 0


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024  # Linux reports KiB


if __name__ == "__main__":
    raise SystemExit(main())
