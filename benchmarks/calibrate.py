"""Fit the calibrated confidence (ocr/calibration.py) on freshly generated forms and write ocr/calibration.json.

    python benchmarks/calibrate.py --count 8 --seed 500000 [--target amount=0.001 ...] [--json]

Generates `--count` forms per form (every template), style (printed, handwritten) and scan profile (clean300,
office200, skewed, fax, photo), reads them with `ocr.batch.read_files` on every core, pairs each judged field
reading (one with an engine or mark score) with its ground truth, fits per kind an isotonic curve of "right" on the
score and chooses the acceptance threshold for the kind's target error, and prints per kind the counts, threshold,
expected accepted share and accepted error.

Seeds: calibration uses seeds from 500000 up to below 900000 (refused otherwise). Tests use small seeds and the
reading benchmark (benchmarks/read_accuracy.py) seeds from 900000 up, so the calibration never sees the pages it is
judged on. A field wrong on paper on purpose (`deliberately_invalid`, `--invalid-share` of the forms) counts as
wrong if accepted, even when read faithfully.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocr import calibration  # noqa: E402
from ocr.batch import default_workers, read_files  # noqa: E402
from ocr.templates import available_form_ids, load_template  # noqa: E402

STYLES = ("printed", "handwritten")
PROFILES = ("clean300", "office200", "skewed", "fax", "photo")
CALIBRATION_SEEDS = range(500000, 900000)


def _generate(form_id: str, style: str, profile: str, count: int, seed: int, out_dir: str,
              invalid_share: float) -> list[str]:
    from samples.generate import generate_many

    return [str(p) for p in generate_many(form_id, count=count, style=style, profile=profile, seed=seed,
                                          out_dir=Path(out_dir), invalid_share=invalid_share)]


def _truth_path(image: Path) -> Path:
    return image.with_name(f"{image.stem}.truth.json")


def collect_samples(paths: list[Path], workers: int | None, details: list[dict] | None = None
                    ) -> tuple[list[calibration.Sample], dict[str, int]]:
    kinds_by_form = {form_id: {s.name: s.kind for s in load_template(form_id).fields}
                     for form_id in available_form_ids()}
    samples: list[calibration.Sample] = []
    counts = {"pages": 0, "pages_misclassified": 0}
    for path, results in read_files(paths, workers=workers):
        truth = json.loads(_truth_path(path).read_text(encoding="utf-8"))
        invalid = set(truth.get("deliberately_invalid", []))
        for result in results:
            counts["pages"] += 1
            if result.form_id != truth["form_id"]:
                counts["pages_misclassified"] += 1
                continue
            kinds = kinds_by_form[result.form_id]
            for name, reading in result.fields.items():
                if reading.engine_score is None:
                    continue  # empty: decided from the pixels, not judged
                right = reading.value == truth["fields"].get(name) and name not in invalid
                samples.append(calibration.Sample(kind=kinds[name], score=float(reading.engine_score),
                                                  passed=calibration.passed_checks(reading.reasons), right=right))
                if details is not None:
                    details.append({**samples[-1].__dict__, "form": truth["form_id"], "style": truth["style"],
                                    "profile": truth["profile"], "seed": truth["seed"], "field": name,
                                    "value": reading.value, "truth": truth["fields"].get(name),
                                    "reasons": reading.reasons})
    return samples, counts


def _generate_and_read(forms, styles, profiles, args, workers) -> tuple[list[calibration.Sample], dict[str, int]]:
    details: list[dict] | None = [] if args.samples else None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="taxintake-calibrate-") as scratch:
        jobs = [(f, s, p, args.count, args.seed, str(Path(scratch) / f"{f}_{s}_{p}"), args.invalid_share)
                for f in forms for s in styles for p in profiles]
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            paths = [Path(p) for group in pool.map(_generate, *zip(*jobs)) for p in group]
        generated = time.perf_counter()
        print(f"generated {len(paths)} pages in {generated - started:.0f} s", flush=True)
        samples, counts = collect_samples(paths, workers, details)
        print(f"read {counts['pages']} pages in {time.perf_counter() - generated:.0f} s "
              f"({counts['pages_misclassified']} misclassified, left out); {len(samples)} judged readings", flush=True)

    if details is not None:
        args.samples.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in details), encoding="utf-8")
    return samples, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=8, help="forms per form, style and profile")
    parser.add_argument("--seed", type=int, default=CALIBRATION_SEEDS.start)
    parser.add_argument("--form", default=",".join(available_form_ids()), help="comma list (default: all)")
    parser.add_argument("--style", default=",".join(STYLES))
    parser.add_argument("--profile", default=",".join(PROFILES))
    parser.add_argument("--invalid-share", type=float, default=0.05, help="share of forms wrong on paper")
    parser.add_argument("--target", action="append", default=[], metavar="KIND=ERROR",
                        help="target error among accepted fields of a kind (default per group: "
                             + ", ".join(f"{g} {e * 100:.1f}%%" for g, e in calibration.DEFAULT_TARGET_ERROR_BY_GROUP.items())
                             + ")")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path, default=calibration.CALIBRATION_PATH)
    parser.add_argument("--samples", type=Path, default=None,
                        help="also write every labelled reading here (JSON lines), to study or refit")
    parser.add_argument("--refit", type=Path, default=None,
                        help="fit from a --samples file written before instead of generating and reading")
    parser.add_argument("--json", action="store_true", help="print the per-kind summary as JSON on the last line")
    args = parser.parse_args(argv)
    if args.seed not in CALIBRATION_SEEDS or args.seed + args.count - 1 not in CALIBRATION_SEEDS:
        parser.error(f"calibration seeds must lie in {CALIBRATION_SEEDS.start}..{CALIBRATION_SEEDS.stop - 1}")
    targets = {}
    for item in args.target:
        kind, _, value = item.partition("=")
        targets[kind.strip()] = float(value)
    forms, styles, profiles = (a.split(",") for a in (args.form, args.style, args.profile))
    workers = args.workers or default_workers()

    if args.refit:
        rows = [json.loads(line) for line in args.refit.read_text(encoding="utf-8").splitlines() if line]
        samples = [calibration.Sample(r["kind"], r["score"], r["passed"], r["right"]) for r in rows]
        # The pages are those the samples came from: keep the account of them in the file being replaced, if any.
        previous = args.out if args.out.exists() else calibration.CALIBRATION_PATH
        earlier = json.loads(previous.read_text(encoding="utf-8"))["provenance"] if previous.exists() else {}
        provenance = dict(earlier, refit_from=args.refit.name, readings=len(samples),
                          min_kind_readings=calibration.MIN_KIND_READINGS)
    else:
        samples, counts = _generate_and_read(forms, styles, profiles, args, workers)
        provenance = {"count_per_group": args.count, "seeds": [args.seed, args.seed + args.count - 1],
                      "forms": forms, "styles": styles, "profiles": profiles, "invalid_share": args.invalid_share,
                      "pages": counts["pages"], "pages_misclassified": counts["pages_misclassified"],
                      "readings": len(samples), "min_kind_readings": calibration.MIN_KIND_READINGS}
    fitted = calibration.fit_calibration(samples, target_error_by_kind=targets, provenance=provenance)
    args.out.write_text(json.dumps(fitted, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    calibration.load_calibration.cache_clear()

    print(f"{'kind':17s} {'model':17s} {'n':>5s} {'passed':>6s} {'wrong':>5s} {'target':>6s} {'thresh':>7s} "
          f"{'accepted':>8s} {'acc_err':>7s}")
    for kind, entry in fitted["kinds"].items():
        accepted_error = entry["accepted_wrong"] / entry["accepted"] if entry["accepted"] else 0.0
        print(f"{kind:17s} {entry['model']:17s} {entry['readings']:5d} {entry['passed_checks']:6d} "
              f"{entry['wrong']:5d} {entry['target_error']:6.3%} {entry['threshold']:7.4f} "
              f"{entry['accepted_share']:8.2%} {accepted_error:7.3%}")
    print(f"wrote {args.out}")
    if args.json:
        print(json.dumps({"provenance": provenance, "kinds": fitted["kinds"]}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
