"""The small set of scans committed under samples/scans for the demo and the tests (regenerate: this module)."""
from __future__ import annotations

import shutil
from pathlib import Path

from samples.generate import blank_separator_page, generate_page, write_bundle, write_page

SCANS = Path(__file__).resolve().parent / "scans"

SINGLE_PAGES = [  # (style, profile, seed)
    ("printed", "clean300", 101),
    ("printed", "office200", 102),
    ("printed", "office200", 103),
    ("printed", "skewed", 104),
    ("handwritten", "office200", 105),
    ("handwritten", "office200", 106),
]
BUNDLE = [("printed", "office200", 201), ("printed", "office200", 202)]


def build(out: Path = SCANS) -> list[Path]:
    if out.exists():
        shutil.rmtree(out)
    written = []
    for index, (style, profile, seed) in enumerate(SINGLE_PAGES, start=1):
        page = generate_page("ido_todoke", style=style, profile=profile, seed=seed)
        written.append(write_page(page, out, f"scan_{index:04d}"))
    bundle = [generate_page("ido_todoke", style=s, profile=p, seed=seed) for s, p, seed in BUNDLE]
    bundle.insert(1, blank_separator_page())
    written.append(write_bundle(bundle, out / "bundle_0001.pdf"))
    return written


if __name__ == "__main__":
    for path in build():
        print(path)
