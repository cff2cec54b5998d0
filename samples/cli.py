"""`taxintake samples blank FORM` and `taxintake samples generate ...`."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from ocr.templates import available_form_ids
from samples.degrade import PROFILES

FORM_IDS = available_form_ids()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="samples_command", required=True)
    blank = sub.add_parser("blank", help="draw a template's blank form into form_templates/<form>/")
    blank.add_argument("form")
    gen = sub.add_parser("generate", help="generate filled scans with ground truth")
    gen.add_argument("--form", required=True, choices=FORM_IDS)
    gen.add_argument("--count", type=int, default=10)
    gen.add_argument("--style", "--fill", dest="style", choices=["printed", "handwritten"], default="printed")
    gen.add_argument("--profile", choices=PROFILES, default="office200")
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--invalid-share", type=float, default=0.0,
                     help="share of forms with a deliberately wrong check digit (recorded in the ground truth)")
    gen.add_argument("--out", type=Path, required=True)
    bundle = sub.add_parser("bundle", help="one multi-page PDF or TIFF of mixed forms with blank separator pages")
    bundle.add_argument("--forms", default=",".join(FORM_IDS), help="comma list of form ids drawn in turn")
    bundle.add_argument("--count", type=int, default=6, help="forms in the bundle")
    bundle.add_argument("--style", choices=["printed", "handwritten", "mixed"], default="mixed")
    bundle.add_argument("--profile", choices=PROFILES, default="office200")
    bundle.add_argument("--seed", type=int, default=1)
    bundle.add_argument("--separator-every", type=int, default=3, help="a blank sheet after every N forms (0: none)")
    bundle.add_argument("--format", choices=["pdf", "tiff"], default="pdf")
    bundle.add_argument("--out", type=Path, required=True, help="folder for bundle_<seed>.pdf|tif and its truth")
    previews = sub.add_parser("previews", help="one reduced PNG per form, style and profile")
    previews.add_argument("--forms", default=",".join(FORM_IDS))
    previews.add_argument("--seed", type=int, default=1)
    previews.add_argument("--out", type=Path, default=Path("samples/previews"))


def run(args: argparse.Namespace) -> int:
    from samples.generate import generate_bundle, generate_many, write_blank, write_bundle, write_previews

    if args.samples_command == "blank":
        print(f"書き出しました / written: {write_blank(args.form)}")
        return 0
    if args.samples_command == "previews":
        written = write_previews(args.forms.split(","), args.out, seed=args.seed)
        print(f"{len(written)} 枚のプレビュー / previews → {args.out}")
        return 0
    if args.samples_command == "bundle":
        pages = generate_bundle(args.forms.split(","), count=args.count, style=args.style, profile=args.profile,
                                seed=args.seed, separator_every=args.separator_every)
        suffix = ".pdf" if args.format == "pdf" else ".tif"
        path = write_bundle(pages, args.out / f"bundle_{args.seed:05d}{suffix}")
        print(f"{len(pages)} ページの束 / a bundle of {len(pages)} pages → {path}")
        return 0
    started = time.perf_counter()
    paths = generate_many(args.form, count=args.count, style=args.style, profile=args.profile, seed=args.seed,
                          out_dir=args.out, invalid_share=args.invalid_share)
    print(f"{len(paths)} 枚を生成しました / generated {len(paths)} pages in {time.perf_counter() - started:.1f} s → {args.out}")
    return 0
