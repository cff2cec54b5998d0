"""`taxintake samples blank FORM` and `taxintake samples generate ...`."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from samples.degrade import PROFILES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="samples_command", required=True)
    blank = sub.add_parser("blank", help="draw a template's blank form into form_templates/<form>/")
    blank.add_argument("form")
    gen = sub.add_parser("generate", help="generate filled scans with ground truth")
    gen.add_argument("--form", required=True)
    gen.add_argument("--count", type=int, default=10)
    gen.add_argument("--style", "--fill", dest="style", choices=["printed", "handwritten"], default="printed")
    gen.add_argument("--profile", choices=PROFILES, default="office200")
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--invalid-share", type=float, default=0.0,
                     help="share of forms with a deliberately wrong check digit (recorded in the ground truth)")
    gen.add_argument("--out", type=Path, required=True)


def run(args: argparse.Namespace) -> int:
    from samples.generate import generate_many, write_blank

    if args.samples_command == "blank":
        print(f"書き出しました / written: {write_blank(args.form)}")
        return 0
    started = time.perf_counter()
    paths = generate_many(args.form, count=args.count, style=args.style, profile=args.profile, seed=args.seed,
                          out_dir=args.out, invalid_share=args.invalid_share)
    print(f"{len(paths)} 枚を生成しました / generated {len(paths)} pages in {time.perf_counter() - started:.1f} s → {args.out}")
    return 0
